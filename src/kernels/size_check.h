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

// Whether n_a elements at a and n_b at b share a byte.
template <class A, class B>
bool overlaps(const A* a, std::size_t n_a, const B* b, std::size_t n_b) {
  const auto* pa = reinterpret_cast<const unsigned char*>(a);
  const auto* pb = reinterpret_cast<const unsigned char*>(b);
  const std::size_t bytes_a = n_a * sizeof(A), bytes_b = n_b * sizeof(B);
  return bytes_a && bytes_b && pa < pb + bytes_b && pb < pa + bytes_a;
}

// Output may be the input itself (in place) but must not partially overlap it.
template <class A, class B>
void check_no_partial_overlap(const char* op, const char* in_name, const A* in, std::size_t n_in,
                              const char* out_name, const B* out, std::size_t n_out) {
  if (overlaps(in, n_in, out, n_out) && static_cast<const void*>(in) != static_cast<const void*>(out))
    throw std::invalid_argument(std::string(op) + ": " + out_name + " partially overlaps " +
                                in_name + " (it may be the same array, or disjoint)");
}

// Two outputs of one kernel must be disjoint.
template <class A, class B>
void check_no_overlap(const char* op, const char* a_name, const A* a, std::size_t n_a,
                      const char* b_name, const B* b, std::size_t n_b) {
  if (overlaps(a, n_a, b, n_b))
    throw std::invalid_argument(std::string(op) + ": " + b_name + " overlaps " + a_name +
                                " (they must be disjoint)");
}

}  // namespace sigma::detail
