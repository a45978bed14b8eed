// gradcheck.cpp: checks an op's backward against central differences.
//
// The analytic Jacobian comes from autograd, one autograd::grad call per
// output element with a one-hot grad_output (so every entry is checked, not a
// random projection of it); the numeric one from perturbing each input element
// by +-eps in place, through the input's own strides, so views work as inputs.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "sigma/autograd.h"
#include "sigma/ops.h"

namespace sigma {

namespace {

// Row-major multi-index of element `flat` in shape.
std::vector<std::int64_t> unravel(std::int64_t flat, IntArrayRef shape) {
  std::vector<std::int64_t> idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

// Element offsets (relative to data_ptr) of t in row-major order.
std::vector<std::int64_t> element_offsets(const Tensor& t) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(t.numel()));
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    const auto idx = unravel(i, t.sizes());
    std::int64_t off = 0;
    for (std::size_t d = 0; d < idx.size(); ++d) off += idx[d] * t.strides()[d];
    out[static_cast<std::size_t>(i)] = off;
  }
  return out;
}

std::vector<double> evaluate(const std::function<Tensor(const TensorList&)>& fn,
                             const TensorList& inputs) {
  return fn(inputs).to_vector<double>();
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const TensorList&)>& fn,
                          const TensorList& inputs, const GradcheckOptions& options) {
  if (!(options.eps > 0.0))
    throw Error("gradcheck: eps must be positive, got " + std::to_string(options.eps));
  std::vector<std::size_t> checked;  // indices of inputs that require grad
  std::vector<std::vector<std::int64_t>> offsets;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined()) throw Error("gradcheck: input " + std::to_string(i) + " is undefined");
    if (t.dtype() != kDouble)
      throw Error("gradcheck: input " + std::to_string(i) + " is " + to_string(t.dtype()) +
                  "; gradcheck needs float64 inputs (finite differences in float32 are too "
                  "coarse), e.g. x.to(sigma::kFloat64)");
    if (!t.requires_grad()) continue;
    auto off = element_offsets(t);
    auto sorted = off;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      throw Error("gradcheck: input " + std::to_string(i) + " of shape " + shape_string(t.sizes()) +
                  " and strides " + shape_string(t.strides()) +
                  " has elements that share memory (e.g. an expand()ed tensor), so they cannot "
                  "be perturbed one at a time; pass a contiguous copy and expand inside fn");
    checked.push_back(i);
    offsets.push_back(std::move(off));
  }
  if (checked.empty()) throw Error("gradcheck: no input requires grad; nothing to check");

  // ---- Analytic Jacobians: jac[k][j * n_k + e] = d out[j] / d input_k[e].
  Tensor out;
  {
    AutoGradMode enable(true);  // also under a caller's NoGradGuard
    out = fn(inputs);
  }
  if (!out.defined()) throw Error("gradcheck: fn returned an undefined tensor");
  if (out.dtype() != kDouble)
    throw Error(std::string("gradcheck: fn returned a ") + to_string(out.dtype()) +
                " tensor; gradcheck needs a float64 output");
  const std::int64_t m = out.numel();
  TensorList wrt;
  for (std::size_t i : checked) wrt.push_back(inputs[i]);
  std::vector<std::vector<double>> jac(checked.size());
  for (std::size_t k = 0; k < checked.size(); ++k)
    jac[k].assign(static_cast<std::size_t>(m * inputs[checked[k]].numel()), 0.0);
  if (out.requires_grad()) {
    for (std::int64_t j = 0; j < m; ++j) {
      Tensor one_hot = zeros(out.sizes(), dtype(kDouble));
      one_hot.data_ptr<double>()[j] = 1.0;
      const TensorList g = autograd::grad({out}, wrt, {one_hot}, /*retain_graph=*/true,
                                          /*create_graph=*/false, /*allow_unused=*/true);
      for (std::size_t k = 0; k < checked.size(); ++k) {
        if (!g[k].defined()) continue;  // out does not depend on this input
        const std::vector<double> row = g[k].to_vector<double>();
        std::copy(row.begin(), row.end(),
                  jac[k].begin() +
                      static_cast<std::ptrdiff_t>(j) * static_cast<std::ptrdiff_t>(row.size()));
      }
    }
  }

  // ---- Numeric Jacobians, compared entry by entry.
  NoGradGuard no_grad;
  for (std::size_t k = 0; k < checked.size(); ++k) {
    const Tensor& x = inputs[checked[k]];
    const std::int64_t n = x.numel();
    double* base = x.data_ptr<double>();
    for (std::int64_t e = 0; e < n; ++e) {
      double* p = base + offsets[k][static_cast<std::size_t>(e)];
      const double orig = *p;
      *p = orig + options.eps;
      std::vector<double> plus, minus;
      try {
        plus = evaluate(fn, inputs);
        *p = orig - options.eps;
        minus = evaluate(fn, inputs);
      } catch (...) {
        *p = orig;
        throw;
      }
      *p = orig;
      if (static_cast<std::int64_t>(plus.size()) != m ||
          static_cast<std::int64_t>(minus.size()) != m)
        throw Error("gradcheck: fn's output changed size when input " + std::to_string(checked[k]) +
                    " was perturbed");
      for (std::int64_t j = 0; j < m; ++j) {
        const double numeric =
            (plus[static_cast<std::size_t>(j)] - minus[static_cast<std::size_t>(j)]) /
            (2.0 * options.eps);
        const double analytic = jac[k][static_cast<std::size_t>(j * n + e)];
        const double tol = options.atol + options.rtol * std::abs(numeric);
        if (std::abs(analytic - numeric) <= tol) continue;  // NaN fails too
        std::ostringstream msg;
        msg << "gradcheck: Jacobian mismatch for input " << checked[k] << " (shape "
            << shape_string(x.sizes()) << "), element " << shape_string(unravel(e, x.sizes()))
            << ", output element " << shape_string(unravel(j, out.sizes())) << " (shape "
            << shape_string(out.sizes()) << "): analytic " << std::setprecision(17) << analytic
            << ", numeric " << numeric << std::setprecision(6) << " (|difference| "
            << std::abs(analytic - numeric) << " > atol " << options.atol << " + rtol "
            << options.rtol << " * |numeric|)";
        return GradcheckResult{false, msg.str()};
      }
    }
  }
  return GradcheckResult{true, {}};
}

}  // namespace sigma
