// The seed's binary classifier: a ReLU hidden layer, raw logits out, and
// BCEWithLogitsLoss doing the sigmoid inside the loss. Sigmoid is applied
// explicitly only for inference (predict_proba).
#include <sigma/sigma.h>

#include <cstdint>
#include <cstdio>
#include <iostream>

namespace nn = sigma::nn;

struct BinaryClassifierImpl : nn::Module {
  BinaryClassifierImpl(std::int64_t input_dim, std::int64_t hidden_dim)
      : fc1(register_module("fc1", nn::Linear(input_dim, hidden_dim))),
        fc2(register_module("fc2", nn::Linear(hidden_dim, 1))),
        relu(register_module("relu", nn::ReLU())) {}  // Hidden layer uses ReLU
  // No sigmoid in forward — use BCEWithLogitsLoss

  sigma::Tensor forward(sigma::Tensor x) {
    x = relu(fc1(x));
    auto logits = fc2(x);  // Return raw logits
    return logits;
  }

  // For inference, convert logits to probabilities.
  sigma::Tensor predict_proba(const sigma::Tensor& x) {
    auto logits = forward(x);
    return sigma::sigmoid(logits);
  }

  nn::Linear fc1, fc2;
  nn::ReLU relu;
};
SIGMA_MODULE(BinaryClassifier);

int main() {
  sigma::manual_seed(0);

  // Training
  BinaryClassifier model(10, 32);
  nn::BCEWithLogitsLoss criterion;  // Applies sigmoid internally

  auto x = sigma::randn({8, 10});
  auto y = sigma::randint(0, 2, {8, 1}).to(sigma::kFloat);

  auto logits = model(x);
  auto loss = criterion(logits, y);  // Numerically stable

  std::cout << model << "\n";
  std::printf("loss: %.4f\n", loss.item<double>());

  sigma::NoGradGuard no_grad;
  auto probs = model->predict_proba(x);
  std::cout << "probabilities: " << probs.squeeze(1) << "\n";
  std::cout << "labels:        " << y.squeeze(1) << "\n";

  // The fused loss is binary cross-entropy of sigmoid(logits), averaged.
  auto bce = -(y * probs.log() + (1 - y) * (1 - probs).log()).mean();
  const bool ok = loss.allclose(bce, 1e-5, 1e-6) && probs.min().item<double>() > 0 &&
                  probs.max().item<double>() < 1;
  return ok ? 0 : 1;
}
