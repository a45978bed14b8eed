// moments.cpp: var, std, var_mean and std_mean over all elements or over
// dimensions, with LibTorch 1.13's unbiased / correction overloads.
//
// Two passes over the data in double (the input converted first unless it
// is float64): the mean, then sum (x - mean)^2 / max(n - correction, 0); each
// sum is the reductions' double accumulation (Neumaier-compensated, since the
// operand is float64), and the result is rounded once to the input's dtype.
// Composed of mean, sub, mul and sum, so the gradient is theirs:
// 2 (x - mean) / (n - correction) for var. std's node masks the gradient of
// a zero standard deviation to 0, as LibTorch, instead of 0 / 0.
#include <algorithm>
#include <string>
#include <vector>

#include "autograd/function.h"
#include "sigma/ops.h"
#include "tensor/tensor_impl.h"

namespace sigma {

namespace {

// sqrt(v) whose gradient g / (2 sqrt(v)) is 0 where sqrt(v) == 0.
struct StdBackward final : autograd::Node {
  autograd::SavedVariable result;
  std::string name() const override { return "StdBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor r = result.unpack(this);
    return {where(r == 0, zeros_like(g[0]), g[0] / (2 * r))};
  }
  void release_variables() override { result.reset(); }
};

Tensor masked_sqrt(const Tensor& v) {
  Tensor r = sqrt(v.detach());
  if (auto node = autograd::make_node<StdBackward>({&v})) {
    node->result = autograd::SavedVariable(r);
    autograd::set_history(r, node);
  }
  return r;
}

struct Moments {
  Tensor var, mean;
};

// var and mean of x over dim (absent or empty: every dimension), in x's dtype.
Moments moments(const char* op, const Tensor& x, const OptionalIntArrayRef& dim,
                std::optional<std::int64_t> correction, bool keepdim) {
  check_defined(op, x);
  if (!is_floating_point(x.dtype()))
    throw Error(std::string(op) + ": only floating-point inputs are supported, got " +
                to_string(x.dtype()));
  std::vector<std::int64_t> dims;
  if (dim && !dim->empty()) dims = dim->vec();
  else
    for (std::int64_t d = 0; d < x.dim(); ++d) dims.push_back(d);
  const Tensor xd = x.dtype() == kDouble ? x : x.to(kDouble);
  const Tensor mu = mean(xd, dims, /*keepdim=*/true);
  const std::int64_t n = mu.numel() == 0 ? 0 : x.numel() / mu.numel();
  const Tensor d = xd - mu;
  const double divisor = std::max(static_cast<double>(n - correction.value_or(1)), 0.0);
  Tensor v = sum(d * d, dims, keepdim) / divisor;
  Tensor m = keepdim ? mu : mu.reshape(v.sizes());
  if (x.dtype() != kDouble) {
    v = v.to(x.dtype());
    m = m.to(x.dtype());
  }
  return {v, m};
}

std::optional<std::int64_t> from_unbiased(bool unbiased) { return unbiased ? 1 : 0; }

}  // namespace

Tensor var(const Tensor& x, OptionalIntArrayRef dim, std::optional<std::int64_t> correction,
           bool keepdim) {
  return moments("var", x, dim, correction, keepdim).var;
}
Tensor var(const Tensor& x, OptionalIntArrayRef dim, bool unbiased, bool keepdim) {
  return var(x, dim, from_unbiased(unbiased), keepdim);
}
Tensor var(const Tensor& x, bool unbiased) { return var(x, std::nullopt, from_unbiased(unbiased)); }

Tensor std(const Tensor& x, OptionalIntArrayRef dim, std::optional<std::int64_t> correction,
           bool keepdim) {
  return masked_sqrt(moments("std", x, dim, correction, keepdim).var);
}
Tensor std(const Tensor& x, OptionalIntArrayRef dim, bool unbiased, bool keepdim) {
  return std(x, dim, from_unbiased(unbiased), keepdim);
}
Tensor std(const Tensor& x, bool unbiased) { return std(x, std::nullopt, from_unbiased(unbiased)); }

std::tuple<Tensor, Tensor> var_mean(const Tensor& x, OptionalIntArrayRef dim,
                                    std::optional<std::int64_t> correction, bool keepdim) {
  Moments m = moments("var_mean", x, dim, correction, keepdim);
  return {m.var, m.mean};
}
std::tuple<Tensor, Tensor> var_mean(const Tensor& x, OptionalIntArrayRef dim, bool unbiased,
                                    bool keepdim) {
  return var_mean(x, dim, from_unbiased(unbiased), keepdim);
}
std::tuple<Tensor, Tensor> var_mean(const Tensor& x, bool unbiased) {
  return var_mean(x, std::nullopt, from_unbiased(unbiased));
}

std::tuple<Tensor, Tensor> std_mean(const Tensor& x, OptionalIntArrayRef dim,
                                    std::optional<std::int64_t> correction, bool keepdim) {
  Moments m = moments("std_mean", x, dim, correction, keepdim);
  return {masked_sqrt(m.var), m.mean};
}
std::tuple<Tensor, Tensor> std_mean(const Tensor& x, OptionalIntArrayRef dim, bool unbiased,
                                    bool keepdim) {
  return std_mean(x, dim, from_unbiased(unbiased), keepdim);
}
std::tuple<Tensor, Tensor> std_mean(const Tensor& x, bool unbiased) {
  return std_mean(x, std::nullopt, from_unbiased(unbiased));
}

Tensor Tensor::var(bool unbiased) const { return sigma::var(*this, unbiased); }
Tensor Tensor::var(OptionalIntArrayRef dim, bool unbiased, bool keepdim) const {
  return sigma::var(*this, dim, unbiased, keepdim);
}
Tensor Tensor::var(OptionalIntArrayRef dim, std::optional<std::int64_t> correction,
                   bool keepdim) const {
  return sigma::var(*this, dim, correction, keepdim);
}
Tensor Tensor::std(bool unbiased) const { return sigma::std(*this, unbiased); }
Tensor Tensor::std(OptionalIntArrayRef dim, bool unbiased, bool keepdim) const {
  return sigma::std(*this, dim, unbiased, keepdim);
}
Tensor Tensor::std(OptionalIntArrayRef dim, std::optional<std::int64_t> correction,
                   bool keepdim) const {
  return sigma::std(*this, dim, correction, keepdim);
}

}  // namespace sigma
