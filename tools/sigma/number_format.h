// Number formatting and parsing shared by the CLI subcommands.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace sigma::cli {

// Fixed notation with `precision` decimals when that shows at least one
// significant digit (or the value is 0), scientific otherwise, so
// sigma'(-100) = 3.7201e-44 is not printed as 0.0000.
std::string format_value(double v, int precision);

// Shortest text that reads back as the same value of type T (f32 or f64).
std::string format_shortest(float v);
std::string format_shortest(double v);

// Parses a whole argument as a number ("1e-3", "-inf", "nan" accepted);
// throws UsageError naming the argument otherwise.
double parse_number(std::string_view text, std::string_view what);

// Option values, parsed whole. Each throws UsageError with one line that names
// the command, the option, what it expects and what it got:
//   bench: --threads must be an integer from 1 to 1024, got '0'
// An integer may be written 100000 or 1e5.
std::int64_t parse_int_option(std::string_view cmd, std::string_view option, std::string_view text,
                              std::int64_t lo, std::int64_t hi);
double parse_real_option(std::string_view cmd, std::string_view option, std::string_view text,
                         double lo, double hi);
// One of `choices`, compared exactly.
std::string parse_choice_option(std::string_view cmd, std::string_view option, std::string_view text,
                                std::initializer_list<std::string_view> choices);

}  // namespace sigma::cli
