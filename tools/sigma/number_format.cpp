#include "number_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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

}  // namespace sigma::cli
