// sigma/data/example.h: one example of a dataset, as torch::data::Example: a
// data tensor and a target (Example<>), or data alone (TensorExample).
#pragma once

#include <optional>
#include <span>
#include <utility>

#include "sigma/tensor.h"

namespace sigma {
// LibTorch's vocabulary types in signatures users override (size() returns
// torch::optional<size_t>, get_batch takes torch::ArrayRef<size_t>), under
// sigma's names so that the same code compiles against either library.
using std::nullopt;
using std::optional;
template <class T> using ArrayRef = std::span<const T>;
}  // namespace sigma

namespace sigma::data {

template <class Data = Tensor, class Target = Tensor>
struct Example {
  using DataType = Data;
  using TargetType = Target;
  Example() = default;
  Example(Data d, Target t) : data(std::move(d)), target(std::move(t)) {}
  Data data;
  Target target;
};

namespace example {
using NoTarget = void;
}  // namespace example

// Data without a target (what TensorDataset yields).
template <class Data>
struct Example<Data, example::NoTarget> {
  using DataType = Data;
  using TargetType = example::NoTarget;
  Example() = default;
  Example(Data d) : data(std::move(d)) {}  // NOLINT: implicit, as LibTorch
  operator Data&() { return data; }        // NOLINT
  operator const Data&() const { return data; }  // NOLINT
  Data data;
};

using TensorExample = Example<Tensor, example::NoTarget>;

}  // namespace sigma::data
