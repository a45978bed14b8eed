// The seed's first snippet with sigma's array kernels: sigmoid of five points,
// printed the way the seed's Python prints them.
#include <sigma/reference.h>

#include <cstdio>
#include <vector>

int main() {
  const std::vector<float> x = {-3.0f, -1.0f, 0.0f, 1.0f, 3.0f};
  std::vector<float> y(x.size());
  sigma::reference::sigmoid(x, y);

  std::printf("Input:   [");
  for (std::size_t i = 0; i < x.size(); ++i) std::printf("%s%.1f", i ? ", " : "", x[i]);
  std::printf("]\nSigmoid: [");
  for (std::size_t i = 0; i < y.size(); ++i) std::printf("%s'%.4f'", i ? ", " : "", y[i]);
  std::printf("]\n");
}
