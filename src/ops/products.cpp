// products.cpp: outer (ger), addmm and baddbmm, composed from reshape, mul,
// mm, bmm and add, so their gradients are those ops'. The checks and their
// order follow LibTorch's; the messages name the op and the shapes.
#include <string>
#include <vector>

#include "ops/elementwise.h"

namespace sigma {

namespace {

// Whether self broadcasts to shape without growing (LibTorch's expand rule).
void check_expandable(const char* op, const Tensor& self, const std::vector<std::int64_t>& shape) {
  bool ok = self.dim() <= static_cast<std::int64_t>(shape.size());
  const std::int64_t lead = static_cast<std::int64_t>(shape.size()) - self.dim();
  for (std::int64_t d = 0; ok && d < self.dim(); ++d)
    ok = self.size(d) == 1 || self.size(d) == shape[static_cast<std::size_t>(lead + d)];
  if (!ok)
    throw Error(std::string(op) + ": self of shape " + shape_string(self.sizes()) +
                " cannot be broadcast to the product's shape " + shape_string(shape));
}

void check_same_dtypes(const char* op, const Tensor& self, const Tensor& a, const Tensor& b,
                       const char* na, const char* nb) {
  if (a.dtype() != b.dtype() || self.dtype() != b.dtype())
    throw Error(std::string(op) + ": expected self, " + na + " and " + nb +
                " to have the same dtype, got " + to_string(self.dtype()) + ", " +
                to_string(a.dtype()) + " and " + to_string(b.dtype()));
}

// beta self + alpha prod; beta = 0 ignores self's values but keeps it in the
// graph (its gradient is then zero, as LibTorch's).
Tensor combine(const Tensor& self, const Tensor& prod, const Scalar& beta, const Scalar& alpha) {
  const Tensor scaled = alpha.to_double() == 1.0 ? prod : prod * alpha;
  if (beta.to_double() == 0.0) {
    const Tensor zero = self * 0;
    return scaled + zero.masked_fill(isnan(zero), 0);
  }
  return (beta.to_double() == 1.0 ? self : self * beta) + scaled;
}

}  // namespace

Tensor outer(const Tensor& self, const Tensor& vec2) {
  check_defined("outer", self, "self");
  check_defined("outer", vec2, "vec2");
  if (self.dim() != 1 || vec2.dim() != 1)
    throw Error("outer: expected 1-D tensors, got shapes " + shape_string(self.sizes()) + " and " +
                shape_string(vec2.sizes()));
  return self.reshape({-1, 1}) * vec2;
}

Tensor ger(const Tensor& self, const Tensor& vec2) { return outer(self, vec2); }

Tensor addmm(const Tensor& self, const Tensor& mat1, const Tensor& mat2, const Scalar& beta,
             const Scalar& alpha) {
  check_defined("addmm", self, "self");
  check_defined("addmm", mat1, "mat1");
  check_defined("addmm", mat2, "mat2");
  if (mat1.dim() != 2 || mat2.dim() != 2)
    throw Error("addmm: mat1 and mat2 must be matrices, got shapes " + shape_string(mat1.sizes()) +
                " and " + shape_string(mat2.sizes()));
  if (mat1.size(1) != mat2.size(0))
    throw Error("addmm: mat1 and mat2 shapes cannot be multiplied (" + std::to_string(mat1.size(0)) +
                "x" + std::to_string(mat1.size(1)) + " and " + std::to_string(mat2.size(0)) + "x" +
                std::to_string(mat2.size(1)) + ")");
  check_expandable("addmm", self, {mat1.size(0), mat2.size(1)});
  check_same_dtypes("addmm", self, mat1, mat2, "mat1", "mat2");
  return combine(self, mm(mat1, mat2), beta, alpha);
}

Tensor baddbmm(const Tensor& self, const Tensor& batch1, const Tensor& batch2, const Scalar& beta,
               const Scalar& alpha) {
  check_defined("baddbmm", self, "self");
  check_defined("baddbmm", batch1, "batch1");
  check_defined("baddbmm", batch2, "batch2");
  if (batch1.dim() != 3 || batch2.dim() != 3)
    throw Error("baddbmm: batch1 and batch2 must be 3-D tensors, got shapes " +
                shape_string(batch1.sizes()) + " and " + shape_string(batch2.sizes()));
  if (batch2.size(0) != batch1.size(0) || batch2.size(1) != batch1.size(2))
    throw Error("baddbmm: expected the first two dimensions of batch2 to be [" +
                std::to_string(batch1.size(0)) + ", " + std::to_string(batch1.size(2)) +
                "] for batch1 of shape " + shape_string(batch1.sizes()) + ", got shape " +
                shape_string(batch2.sizes()));
  check_expandable("baddbmm", self, {batch1.size(0), batch1.size(1), batch2.size(2)});
  check_same_dtypes("baddbmm", self, batch1, batch2, "batch1", "batch2");
  return combine(self, bmm(batch1, batch2), beta, alpha);
}

Tensor Tensor::outer(const Tensor& vec2) const { return sigma::outer(*this, vec2); }
Tensor Tensor::ger(const Tensor& vec2) const { return sigma::ger(*this, vec2); }
Tensor Tensor::addmm(const Tensor& mat1, const Tensor& mat2, const Scalar& beta,
                     const Scalar& alpha) const {
  return sigma::addmm(*this, mat1, mat2, beta, alpha);
}
Tensor Tensor::baddbmm(const Tensor& batch1, const Tensor& batch2, const Scalar& beta,
                       const Scalar& alpha) const {
  return sigma::baddbmm(*this, batch1, batch2, beta, alpha);
}

}  // namespace sigma
