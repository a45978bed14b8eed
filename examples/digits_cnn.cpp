// A small convolutional network on the vendored 8x8 handwritten digits,
// written the way LibTorch's C++ examples are: a Module with registered
// layers, a map-style Dataset, transforms::Stack<>, make_data_loader and
// Adam. Changing `sigma::` to `torch::`, SIGMA_MODULE to TORCH_MODULE and
// the include gives LibTorch code.
//
//   conv(1 -> 16, 3x3, pad 1) - BatchNorm2d - ReLU - MaxPool2d(2)   [N, 16, 4, 4]
//   conv(16 -> 32, 3x3, pad 1) - BatchNorm2d - ReLU                  [N, 32, 4, 4]
//   AdaptiveAvgPool2d(2) - flatten - Linear(128, 10)                 [N, 10]
//
// Usage: example_digits_cnn [digits.csv.gz] (default: the vendored file).
// Exits non-zero unless the test accuracy reaches 0.97.
#include <sigma/sigma.h>
#include <zlib.h>

#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef SIGMA_DIGITS_CSV
#define SIGMA_DIGITS_CSV "data/digits.csv.gz"
#endif

namespace nn = sigma::nn;

// The images [N, 1, 8, 8] scaled to [0, 1] and the labels [N] (int64).
std::pair<sigma::Tensor, sigma::Tensor> read_digits(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<float> pixels;
  std::vector<std::int64_t> labels;
  char line[1024];
  while (gzgets(f, line, sizeof line)) {
    std::stringstream row(line);
    std::string cell;
    std::vector<int> v;
    while (std::getline(row, cell, ',')) v.push_back(std::stoi(cell));
    if (v.size() != 65) {
      gzclose(f);
      throw std::runtime_error(path + ": a row without 64 pixels and a label");
    }
    for (int k = 0; k < 64; ++k) pixels.push_back(static_cast<float>(v[static_cast<size_t>(k)]) / 16.0f);
    labels.push_back(v[64]);
  }
  gzclose(f);
  const auto n = static_cast<std::int64_t>(labels.size());
  return {sigma::tensor(pixels).reshape({n, 1, 8, 8}), sigma::tensor(labels)};
}

struct Digits : sigma::data::datasets::Dataset<Digits> {
  Digits(sigma::Tensor images, sigma::Tensor labels)
      : images_(std::move(images)), labels_(std::move(labels)) {}
  sigma::data::Example<> get(size_t index) override {
    const auto i = static_cast<std::int64_t>(index);
    return {images_[i], labels_[i]};
  }
  sigma::optional<size_t> size() const override { return images_.size(0); }

  sigma::Tensor images_, labels_;
};

struct NetImpl : nn::Module {
  NetImpl()
      : conv1(nn::Conv2dOptions(1, 16, 3).padding(1)),
        bn1(16),
        conv2(nn::Conv2dOptions(16, 32, 3).padding(1)),
        bn2(32),
        pool(nn::AdaptiveAvgPool2dOptions(2)),
        fc(128, 10) {
    register_module("conv1", conv1);
    register_module("bn1", bn1);
    register_module("conv2", conv2);
    register_module("bn2", bn2);
    register_module("pool", pool);
    register_module("fc", fc);
  }

  sigma::Tensor forward(sigma::Tensor x) {
    x = sigma::max_pool2d(sigma::relu(bn1->forward(conv1->forward(x))), 2);
    x = sigma::relu(bn2->forward(conv2->forward(x)));
    x = pool->forward(x).flatten(1);
    return fc->forward(x);
  }

  nn::Conv2d conv1;
  nn::BatchNorm2d bn1;
  nn::Conv2d conv2;
  nn::BatchNorm2d bn2;
  nn::AdaptiveAvgPool2d pool;
  nn::Linear fc;
};
SIGMA_MODULE(Net);

int main(int argc, char** argv) {
  sigma::manual_seed(0);
  const auto [images, labels] = read_digits(argc > 1 ? argv[1] : SIGMA_DIGITS_CSV);
  // A seeded shuffle, then 80% to train and 20% to test.
  const sigma::Tensor order = sigma::randperm(images.size(0));
  const std::int64_t n_train = images.size(0) * 4 / 5;
  const sigma::Tensor train_idx = order.slice(0, 0, n_train), test_idx = order.slice(0, n_train);

  auto train_loader = sigma::data::make_data_loader<sigma::data::samplers::RandomSampler>(
      Digits(images.index_select(0, train_idx), labels.index_select(0, train_idx))
          .map(sigma::data::transforms::Stack<>()),
      sigma::data::DataLoaderOptions().batch_size(64));

  Net model;
  sigma::optim::Adam optimizer(model->parameters(), sigma::optim::AdamOptions(1e-2));
  for (int epoch = 1; epoch <= 8; ++epoch) {
    model->train();
    double total = 0;
    std::int64_t batches = 0;
    for (auto& batch : *train_loader) {
      optimizer.zero_grad();
      auto loss = sigma::nn::functional::cross_entropy(model->forward(batch.data), batch.target);
      loss.backward();
      optimizer.step();
      total += loss.item<double>();
      ++batches;
    }
    std::printf("epoch %d: train loss %.4f\n", epoch, total / static_cast<double>(batches));
  }

  sigma::NoGradGuard no_grad;
  model->eval();
  const auto test_x = images.index_select(0, test_idx), test_y = labels.index_select(0, test_idx);
  const auto predicted = model->forward(test_x).argmax(1);
  const double accuracy = predicted.eq(test_y).to(sigma::kFloat64).mean().item<double>();
  std::printf("test accuracy: %.4f (%lld images)\n", accuracy,
              static_cast<long long>(test_x.size(0)));
  return accuracy >= 0.97 ? 0 : 1;
}
