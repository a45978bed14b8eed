// python_repr.h: values spelled as Python prints them, for the reprs that
// mirror PyTorch's (module printing, options) (internal).
#pragma once

#include <charconv>
#include <string>

namespace sigma::detail {

// Python's repr of a float: the shortest digits that round-trip, with ".0"
// on integral values ("20.0", "0.1", "1e-05" is "1e-05" as in Python).
inline std::string python_float(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

inline const char* python_bool(bool b) { return b ? "True" : "False"; }

}  // namespace sigma::detail
