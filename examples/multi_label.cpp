// The seed's multi-label snippet: sigmoid turns each label's logit into its
// own probability; unlike softmax, a row need not sum to 1.
#include <sigma/sigma.h>

#include <cstdio>
#include <iostream>

namespace nn = sigma::nn;

int main() {
  sigma::manual_seed(0);
  const std::int64_t batch = 4, num_features = 16, num_labels = 5;
  nn::Sequential model(nn::Linear(num_features, 32), nn::ReLU(), nn::Linear(32, num_labels));
  auto x = sigma::randn({batch, num_features});

  // Multi-label classification: each class independent
  auto logits = model(x);               // Shape: [batch, num_labels]
  auto probs = sigma::sigmoid(logits);  // Each label independently in (0, 1)

  std::cout << "probs: " << probs.detach() << "\n";
  std::cout << "row sums: " << probs.detach().sum({1}) << "\n";

  const bool ok = probs.sizes() == sigma::IntArrayRef{batch, num_labels} &&
                  probs.min().item<double>() > 0 && probs.max().item<double>() < 1;
  return ok ? 0 : 1;
}
