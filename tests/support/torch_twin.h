// torch_twin.h: the same float32 values in sigma and in LibTorch, for the
// tests that compare the two (tests/nn/torch_parity*_test.cpp): exact copies
// each way and seeded twins (uniform values from sigma::test::draw, an
// independent stream).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "sigma/ops.h"
#include "tensor_checks.h"

namespace sigma::test {

inline sigma::Tensor to_sigma(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kFloat).contiguous();
  const float* p = c.data_ptr<float>();
  return sigma::tensor(std::vector<float>(p, p + c.numel())).reshape(c.sizes().vec());
}

inline std::vector<double> torch_values(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kDouble).contiguous();
  const double* p = c.data_ptr<double>();
  return std::vector<double>(p, p + c.numel());
}

struct Twin {
  sigma::Tensor s;
  torch::Tensor t;
};

// The values f in both libraries; grad: both are leaves that require grad.
inline Twin twin_values(const std::vector<float>& f, const Shape& shape, bool grad = false) {
  Twin r{sigma::tensor(f).reshape(shape), torch::tensor(f, torch::dtype(torch::kFloat)).reshape(shape)};
  if (grad) {
    r.s.requires_grad_();
    r.t.requires_grad_();
  }
  return r;
}

// Uniform [lo, hi) float32 values from an independent stream, in both libraries.
inline Twin twin(const Shape& shape, double lo, double hi, std::uint64_t seed, bool grad = false) {
  const std::vector<double> d = draw(numel(shape), lo, hi, seed);
  return twin_values(std::vector<float>(d.begin(), d.end()), shape, grad);
}

}  // namespace sigma::test
