// utils.cpp: gradient clipping (clip_grad_norm_, clip_grad_value_) and
// parameter flattening, PyTorch's torch/nn/utils semantics. The total norm is
// accumulated in double, scaled by the largest |g| so no square overflows.
#include "sigma/nn/utils.h"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor/convert.h"

namespace sigma::nn::utils {

namespace {

// Calls f(|g|) for every element of every defined gradient, in double.
template <class F>
void for_each_abs(const std::vector<Tensor>& grads, F&& f) {
  for (const Tensor& grad : grads) {
    const Tensor g = grad.is_contiguous() ? grad : grad.contiguous();
    const std::int64_t n = g.numel();
    sigma::detail::dispatch_storage(g.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* p = detail::data_of<const T>(g);
      for (std::int64_t i = 0; i < n; ++i) f(std::fabs(sigma::detail::to_double_value(p[i])));
    });
  }
}

std::vector<Tensor> defined_grads(const std::vector<Tensor>& parameters) {
  std::vector<Tensor> grads;
  for (const Tensor& p : parameters)
    if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

// The norm_type-norm of all elements of grads together.
double total_norm(const std::vector<Tensor>& grads, double norm_type) {
  bool nan = false;
  double largest = 0;
  for_each_abs(grads, [&](double a) {
    if (std::isnan(a)) nan = true;
    else if (a > largest) largest = a;
  });
  if (nan) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(norm_type) || std::isinf(largest) || largest == 0) return largest;
  if (norm_type == 0) {
    double count = 0;
    for_each_abs(grads, [&](double a) { count += a != 0; });
    return count;
  }
  // largest (sum (|g| / largest)^p)^(1/p): every term is at most 1.
  double s = 0;
  if (norm_type == 2) {
    for_each_abs(grads, [&](double a) {
      const double r = a / largest;
      s += r * r;
    });
    return largest * std::sqrt(s);
  }
  if (norm_type == 1) {
    for_each_abs(grads, [&](double a) { s += a; });
    return s;
  }
  for_each_abs(grads, [&](double a) { s += std::pow(a / largest, norm_type); });
  return largest * std::pow(s, 1.0 / norm_type);
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  if (std::isnan(norm_type) || norm_type < 0) {
    std::ostringstream m;
    m << "clip_grad_norm_: norm_type must be >= 0 or inf, got " << norm_type;
    throw Error(m.str());
  }
  const std::vector<Tensor> grads = defined_grads(parameters);
  if (grads.empty()) return 0.0;
  const double total = total_norm(grads, norm_type);
  if (error_if_nonfinite && !std::isfinite(total)) {
    std::ostringstream m;
    m << "clip_grad_norm_: the total norm of order " << norm_type
      << " for gradients from `parameters` is non-finite (" << total
      << "), so it cannot be clipped. To disable this error and scale the gradients by the "
         "non-finite norm anyway, set error_if_nonfinite=false";
    throw Error(m.str());
  }
  const double coef = max_norm / (total + 1e-6);
  const double clamped = std::isnan(coef) ? coef : std::min(coef, 1.0);
  if (clamped != 1.0) {
    NoGradGuard no_grad;
    for (const Tensor& grad : grads) {
      Tensor g = grad;
      g.mul_(clamped);
    }
  }
  return total;
}

double clip_grad_norm_(std::initializer_list<Tensor> parameters, double max_norm,
                       double norm_type, bool error_if_nonfinite) {
  return clip_grad_norm_(std::vector<Tensor>(parameters), max_norm, norm_type,
                         error_if_nonfinite);
}

double clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  return clip_grad_norm_(std::vector<Tensor>{parameter}, max_norm, norm_type, error_if_nonfinite);
}

void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
  if (std::isnan(clip_value)) throw Error("clip_grad_value_: clip_value is NaN");
  NoGradGuard no_grad;
  for (Tensor grad : defined_grads(parameters)) grad.clamp_(-clip_value, clip_value);
}

void clip_grad_value_(std::initializer_list<Tensor> parameters, double clip_value) {
  clip_grad_value_(std::vector<Tensor>(parameters), clip_value);
}

void clip_grad_value_(const Tensor& parameter, double clip_value) {
  clip_grad_value_(std::vector<Tensor>{parameter}, clip_value);
}

Tensor parameters_to_vector(const std::vector<Tensor>& parameters) {
  if (parameters.empty()) throw Error("parameters_to_vector: no parameters given");
  TensorList flat;
  flat.reserve(parameters.size());
  for (const Tensor& p : parameters) {
    if (!p.defined()) throw Error("parameters_to_vector: a parameter is an undefined tensor");
    flat.push_back(p.reshape({-1}));
  }
  return sigma::cat(flat);
}

void vector_to_parameters(const Tensor& vec, const std::vector<Tensor>& parameters) {
  std::int64_t total = 0;
  for (const Tensor& p : parameters) {
    if (!p.defined()) throw Error("vector_to_parameters: a parameter is an undefined tensor");
    total += p.numel();
  }
  if (!vec.defined() || vec.dim() != 1 || vec.numel() != total)
    throw Error("vector_to_parameters: expected a 1-D vector of " + std::to_string(total) +
                " elements (the parameters' total), got shape " +
                (vec.defined() ? shape_string(vec.sizes()) : std::string("undefined")));
  NoGradGuard no_grad;
  std::int64_t offset = 0;
  for (const Tensor& p : parameters) {
    Tensor target = p;
    target.copy_(vec.narrow(0, offset, p.numel()).view(p.sizes()));
    offset += p.numel();
  }
}

}  // namespace sigma::nn::utils
