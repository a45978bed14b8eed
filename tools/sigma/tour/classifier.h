// The seed's BinaryClassifier (Linear, ReLU, Linear -> one logit) as `sigma
// train` trains it and `sigma predict` applies it, with the checkpoint that
// joins the two: the weights as a safetensors state dict, and in its
// __metadata__ everything else a prediction needs (feature names in order,
// the target's name, the standardisation fitted on the training rows).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data.h"
#include "sigma/sigma.h"

namespace sigma::tour {

// x [N, D] -> logits [N, 1]; no sigmoid in forward (BCEWithLogitsLoss and
// predict_proba apply it).
struct BinaryClassifierImpl : nn::Module {
  BinaryClassifierImpl(std::int64_t input_dim, std::int64_t hidden_dim)
      : fc1(register_module("fc1", nn::Linear(input_dim, hidden_dim))),
        fc2(register_module("fc2", nn::Linear(hidden_dim, 1))),
        relu(register_module("relu", nn::ReLU())) {}
  Tensor forward(const Tensor& x) { return fc2(relu(fc1(x))); }
  Tensor predict_proba(const Tensor& x) { return sigma::sigmoid(forward(x)); }
  nn::Linear fc1, fc2;
  nn::ReLU relu;
};
SIGMA_MODULE(BinaryClassifier);

// A trained classifier and what its inputs must look like.
struct SavedClassifier {
  BinaryClassifier model{nullptr};
  data::Standardizer scaler;
  std::vector<std::string> feature_names;
  std::string target_name;
};

// Writes the checkpoint atomically. Throws std::runtime_error naming the path.
void save_classifier(const SavedClassifier& c, const std::filesystem::path& path);
// Reads and validates a checkpoint written by save_classifier (format tag,
// feature names, standardisation, tensor names and shapes); throws
// std::runtime_error naming the file and what is wrong.
SavedClassifier load_classifier(const std::filesystem::path& path);

// sigmoid(model(scaler(x))) for x [N, D] raw features, evaluated in blocks of
// rows so memory stays proportional to the input.
std::vector<float> predict_proba(const SavedClassifier& c, const Tensor& x);

}  // namespace sigma::tour
