// Number formatting and parsing shared by the CLI subcommands.
#pragma once

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

}  // namespace sigma::cli
