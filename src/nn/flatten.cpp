// flatten.cpp: Flatten and Unflatten, views through sigma::flatten and
// reshape.
#include <ostream>
#include <string>
#include <vector>

#include "sigma/nn/modules/linear.h"
#include "sigma/ops.h"

namespace sigma::nn {

Tensor FlattenImpl::forward(const Tensor& input) {
  return sigma::flatten(input, options.start_dim(), options.end_dim());
}

void FlattenImpl::pretty_print(std::ostream& stream) const {
  stream << "Flatten(start_dim=" << options.start_dim() << ", end_dim=" << options.end_dim() << ")";
}

// input [..., S, ...] -> [..., sizes..., ...] with prod(sizes) = S at dim.
Tensor UnflattenImpl::forward(const Tensor& input) {
  const std::vector<std::int64_t>& sizes = options.sizes();
  const std::int64_t rank = input.dim();
  const std::int64_t d = options.dim() < 0 ? options.dim() + rank : options.dim();
  const auto describe = [&] {
    return "sizes " + shape_string(sizes) + " at dim " + std::to_string(options.dim()) +
           " of an input of shape " + shape_string(input.sizes());
  };
  if (d < 0 || d >= rank)
    throw Error("Unflatten: dim " + std::to_string(options.dim()) +
                " is out of range for an input of shape " + shape_string(input.sizes()));
  if (sizes.empty()) throw Error("Unflatten: " + describe() + ": sizes must not be empty");
  std::int64_t known = 1, inferred = 0;
  for (std::int64_t s : sizes) {
    if (s == -1) ++inferred;
    else if (s < 0) throw Error("Unflatten: " + describe() + ": sizes must be >= 0 or -1");
    else known *= s;
  }
  const std::int64_t size = input.size(d);
  if (inferred > 1 || (inferred == 0 && known != size) ||
      (inferred == 1 && (known == 0 || size % known != 0)))
    throw Error("Unflatten: " + describe() + ": the sizes must multiply to " +
                std::to_string(size) + " (at most one -1)");
  std::vector<std::int64_t> shape;
  for (std::int64_t i = 0; i < d; ++i) shape.push_back(input.size(i));
  for (std::int64_t s : sizes) shape.push_back(s == -1 ? size / known : s);
  for (std::int64_t i = d + 1; i < rank; ++i) shape.push_back(input.size(i));
  return input.reshape(shape);
}

void UnflattenImpl::pretty_print(std::ostream& stream) const {
  const auto& sizes = options.sizes();
  stream << "Unflatten(dim=" << options.dim() << ", unflattened_size=(";
  for (std::size_t i = 0; i < sizes.size(); ++i) stream << (i ? ", " : "") << sizes[i];
  stream << (sizes.size() == 1 ? ",))" : "))");
}

}  // namespace sigma::nn
