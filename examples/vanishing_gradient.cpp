// The seed's vanishing-gradient demonstration: ten Linear + Sigmoid layers
// pass back almost none of the gradient that reaches their output.
#include <sigma/sigma.h>

#include <cmath>
#include <cstdio>

namespace nn = sigma::nn;

struct DeepSigmoidNetworkImpl : nn::Module {
  explicit DeepSigmoidNetworkImpl(int depth = 10) {
    nn::Sequential layers;
    for (int i = 0; i < depth; ++i) {
      layers->push_back(nn::Linear(64, 64));
      layers->push_back(nn::Sigmoid());
    }
    network = register_module("network", layers);
  }

  sigma::Tensor forward(const sigma::Tensor& x) { return network(x); }

  nn::Sequential network{nullptr};
};
SIGMA_MODULE(DeepSigmoidNetwork);

int main() {
  sigma::manual_seed(0);

  // Test gradient flow
  DeepSigmoidNetwork model(/*depth=*/10);
  auto x = sigma::randn({32, 64}, sigma::requires_grad());
  auto output = model(x);
  auto loss = output.sum();
  loss.backward();

  // Gradient at input is extremely small
  const double input_norm = x.grad().norm().item<double>();
  std::printf("Input gradient norm: %.2e\n", input_norm);
  // Typically: ~1e-7 or smaller

  // The seed's estimate: each layer passes back at most 0.25 of the gradient
  // through its sigmoid, (0.25)^10 = 9.5e-7 over ten layers. The gradient
  // reaching the output is all ones (d sum / d output), of norm sqrt(32 * 64).
  const double output_norm = std::sqrt(static_cast<double>(output.numel()));
  const double ratio = input_norm / output_norm, estimate = std::pow(0.25, 10);
  std::printf("input / output gradient norm: %.2e (0.25^10 = %.2e)\n", ratio, estimate);
  const bool vanishing = ratio < estimate;
  std::printf("vanishing: %s\n", vanishing ? "yes" : "no");
  return vanishing ? 0 : 1;
}
