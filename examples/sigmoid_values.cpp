// The seed's first snippet: sigmoid through the functional and the module
// API, printed the way the seed's Python prints it.
#include <sigma/sigma.h>

#include <cstdio>

namespace nn = sigma::nn;
namespace F = sigma::nn::functional;

int main() {
  auto x = sigma::tensor({-3.0, -1.0, 0.0, 1.0, 3.0});

  // Functional API
  auto y_functional = sigma::sigmoid(x);
  // or equivalently: auto y_functional = F::sigmoid(x);

  // Module API
  nn::Sigmoid sigmoid_module;
  auto y_module = sigmoid_module(x);

  // print(f"Input:   {x.tolist()}") and the values formatted with :.4f
  const auto xs = x.to_vector<float>(), ys = y_functional.to_vector<float>();
  std::printf("Input:   [");
  for (std::size_t i = 0; i < xs.size(); ++i) std::printf("%s%.1f", i ? ", " : "", xs[i]);
  std::printf("]\nSigmoid: [");
  for (std::size_t i = 0; i < ys.size(); ++i) std::printf("%s'%.4f'", i ? ", " : "", ys[i]);
  std::printf("]\n");
  // Output: ['0.0474', '0.2689', '0.5000', '0.7311', '0.9526']

  return y_module.equal(y_functional) && F::sigmoid(x).equal(y_functional) ? 0 : 1;
}
