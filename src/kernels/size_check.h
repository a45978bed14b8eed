// Size checks shared by the array kernels: one readable message format,
// "<op>: x has 5 elements but y has 4 (sizes must match)".
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace sigma::detail {

[[noreturn]] inline void throw_size_mismatch(const char* op, const char* a_name, std::size_t a,
                                             const char* b_name, std::size_t b) {
  throw std::invalid_argument(std::string(op) + ": " + a_name + " has " + std::to_string(a) +
                              " elements but " + b_name + " has " + std::to_string(b) +
                              " (sizes must match)");
}

inline void check_same_size(const char* op, const char* a_name, std::size_t a,
                            const char* b_name, std::size_t b) {
  if (a != b) throw_size_mismatch(op, a_name, a, b_name, b);
}

}  // namespace sigma::detail
