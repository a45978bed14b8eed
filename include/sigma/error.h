// sigma/error.h: the one exception type the tensor, autograd and nn layers throw.
//
// Messages start with the operation's name and give the shapes, sizes or
// dtypes involved and what was expected, e.g.
//   matmul: shapes [3, 4] and [5, 2] cannot be multiplied (4 != 5)
#pragma once

#include <stdexcept>
#include <string>

namespace sigma {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace sigma
