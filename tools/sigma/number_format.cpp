#include "number_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>

#include "commands.h"

namespace sigma::cli {

std::string format_value(double v, int precision) {
  char buf[64];
  const double a = std::fabs(v);
  const bool fixed = v == 0 || !std::isfinite(v) ||
                     (a >= 0.5 * std::pow(10.0, -precision) && a < 1e9);
  std::snprintf(buf, sizeof buf, fixed ? "%.*f" : "%.*e", precision, v);
  return buf;
}

template <class T>
static std::string shortest(T v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}
std::string format_shortest(float v) { return shortest(v); }
std::string format_shortest(double v) { return shortest(v); }

double parse_number(std::string_view text, std::string_view what) {
  std::string_view s = text;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec == std::errc::invalid_argument || end != s.data() + s.size())
    throw UsageError(std::string(what) + ": '" + std::string(text) + "' is not a number");
  if (ec == std::errc::result_out_of_range)  // 1e999 or 1e-999: saturate like strtod
    v = std::strtod(std::string(s).c_str(), nullptr);
  return v;
}

namespace {

[[noreturn]] void bad_option(std::string_view cmd, std::string_view option, std::string_view expected,
                             std::string_view text) {
  throw UsageError(std::string(cmd) + ": " + std::string(option) + " must be " + std::string(expected) +
                   ", got '" + std::string(text) + "'");
}

// The whole of `text` as a finite double, or nothing.
bool parse_finite(std::string_view text, double& v) {
  std::string_view s = text;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size() && std::isfinite(v);
}

}  // namespace

std::int64_t parse_int_option(std::string_view cmd, std::string_view option, std::string_view text,
                              std::int64_t lo, std::int64_t hi) {
  double v = 0;
  // Integers up to 2^53 are exact in a double, far beyond any range used here.
  if (!parse_finite(text, v) || v != std::floor(v) || v < double(lo) || v > double(hi))
    bad_option(cmd, option, "an integer from " + std::to_string(lo) + " to " + std::to_string(hi), text);
  return static_cast<std::int64_t>(v);
}

double parse_real_option(std::string_view cmd, std::string_view option, std::string_view text,
                         double lo, double hi) {
  double v = 0;
  if (!parse_finite(text, v) || v < lo || v > hi)
    bad_option(cmd, option, "a number from " + format_shortest(lo) + " to " + format_shortest(hi), text);
  return v;
}

std::string parse_choice_option(std::string_view cmd, std::string_view option, std::string_view text,
                                std::initializer_list<std::string_view> choices) {
  std::string list;
  for (std::string_view c : choices) {
    if (c == text) return std::string(text);
    list += (list.empty() ? "" : " or ") + std::string(c);
  }
  bad_option(cmd, option, list, text);
}

}  // namespace sigma::cli
