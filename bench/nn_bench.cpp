// nn training workloads, sigma beside LibTorch in the same binary when it is
// installed (SIGMA_BENCH_HAVE_TORCH). Pairs are named BM_<Case>/sigma and
// BM_<Case>/torch; the targets are sigma <= 0.8x LibTorch's time for
// LSTMForwardBackward and <= 0.5x for MLPEpoch (docs/PERFORMANCE.md).
//
//   LSTMForwardBackward  nn::LSTM(input 64, hidden 128), one layer, input
//       x [seq 50, batch 32, 64] (no grad); per iteration the parameter
//       gradients are reset to undefined, then output.sum().backward().
//   GRUForwardBackward   the same with nn::GRU (three gates to LSTM's four).
//   MultiheadAttentionForwardBackward  nn::MultiheadAttention(64, 4) on
//       x [len 64, batch 32, 64] as self-attention, need_weights false:
//       forward, output.sum().backward() (issue 13's target: <= 0.8x).
//   TransformerEncoderLayerStep  one training step of
//       nn::TransformerEncoderLayer(64, 4, dim_feedforward 256, dropout 0.1,
//       post-norm) on the same x [64, 32, 64]: zero_grad, forward, loss =
//       mean(out^2), backward, Adam(lr 1e-4) step (issue 13's target: <= 0.8x).
//   Conv2dForwardBackward  nn::Conv2d(16, 32, 3x3, padding 1) on x
//       [32, 16, 28, 28] that requires grad: forward, output.sum().backward()
//       (gradients for x, weight and bias; issue 14's target: <= 1.0x).
//   DigitsCNNEpoch       one training epoch of examples/digits_cnn.cpp's network
//       (Conv2d(1, 16, 3, pad 1) - BatchNorm2d - ReLU - MaxPool2d(2) -
//       Conv2d(16, 32, 3, pad 1) - BatchNorm2d - ReLU - AdaptiveAvgPool2d(2) -
//       Flatten - Linear(128, 10)) as a Sequential, on the 1,437 training
//       digits [1, 8, 8] of a fixed shuffle, through each library's own
//       Dataset, transforms::Stack<> and make_data_loader (SequentialSampler,
//       batch 64): per batch zero_grad, forward, cross_entropy, backward,
//       Adam(lr 1e-2) step (issue 14's target: <= 0.8x).
//   MLPEpoch             one epoch of Linear(30, 32) -> ReLU -> Linear(32, 1)
//       with BCEWithLogitsLoss and Adam(lr 1e-3) on the breast-cancer data
//       (569 rows, features standardised), batches of 32 in a fixed shuffled
//       order: per batch zero_grad, forward, loss, backward, step. Training
//       carries on across iterations, as epochs do.
//   MLPEpochBatch4096    the same on 49,152 synthetic rows (30 standard normal
//       features, a noisy linear 0/1 target) in batches of 4096, as
//       `sigma train --csv FILE --batch-size 4096` runs it: products and
//       element-wise ops large enough to split across threads.
//
// Both libraries get the same weights (drawn here from std::mt19937 and
// copied by PyTorch parameter name; the names must agree) and the same data.
// The data are permuted once, before timing, with one permutation for both;
// a batch is a narrow() view of the permuted tensors.
//
// Threads: each case runs twice. BM_<Case>/... runs everything on one thread:
// sigma::set_num_threads(1), omp_set_num_threads(1), openblas_set_num_threads(1)
// (the BLAS both libraries call on Debian), at::set_num_threads(1) and
// at::set_num_interop_threads(1) (LibTorch). BM_<Case>_DefaultThreads/...
// runs both libraries as a user who sets nothing gets them: every count as
// the process started (single_thread.h). The targets for the
// defaults: no slower than one thread, and <= 0.8x LibTorch's defaults.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <malloc.h>
#include <zlib.h>

#include "sigma/autograd.h"
#include "sigma/data.h"
#include "sigma/kernels.h"
#include "sigma/nn.h"
#include "sigma/nn/modules/rnn.h"
#include "sigma/ops.h"
#include "single_thread.h"
#include "sigma/optim/adam.h"

#ifdef SIGMA_BENCH_HAVE_TORCH
#include <torch/torch.h>
#endif

namespace {

// glibc's malloc moves its mmap and trim thresholds with the history of
// frees, so what one library's case leaves behind changes how often the
// next case's allocations fault fresh pages in: LibTorch's DigitsCNNEpoch
// took 32-34 ms run alone and 80-130 ms right after sigma's (most of the
// difference page faults), and sigma's slowed after LibTorch's the same way.
// Fixed thresholds (the adjustment's own ceiling for mmap) give every case
// the same heap whatever ran before it.
const bool kSteadyMalloc = [] {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  return true;
}();

enum class Threads { kOne, kDefault };

void use_threads(Threads t) {
  if (t == Threads::kOne) sigma_bench::single_thread();
  else sigma_bench::default_threads();
}

// ---- Shared weights: for each parameter, in named_parameters() order,
// uniform values in [-bound, bound] with bound = 1/sqrt(fan), fan = the last
// dimension for matrices and the size for vectors (PyTorch's scales).

struct NamedValues {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

std::vector<NamedValues> draw_weights(const sigma::nn::Module& m, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<NamedValues> r;
  for (const auto& item : m.named_parameters()) {
    NamedValues nv{item.key(), item.value().sizes().vec(), {}};
    const std::int64_t fan = nv.shape.empty() ? 1 : nv.shape.back();
    const float bound = 1.0f / std::sqrt(static_cast<float>(fan));
    std::uniform_real_distribution<float> u(-bound, bound);
    nv.values.resize(static_cast<std::size_t>(item.value().numel()));
    for (auto& v : nv.values) v = u(gen);
    r.push_back(std::move(nv));
  }
  return r;
}

void load(sigma::nn::Module& m, const std::vector<NamedValues>& w) {
  auto params = m.named_parameters();
  sigma::NoGradGuard no_grad;
  for (const auto& nv : w) params[nv.name].copy_(sigma::tensor(nv.values).reshape(nv.shape));
}

// ---- The breast-cancer data: header "569,30,malignant,benign", then rows of
// 30 features and the target (0 malignant, 1 benign).

struct Dataset {
  std::int64_t rows = 0, features = 0;
  std::vector<float> x;  // [rows, features], standardised, rows permuted
  std::vector<float> y;  // [rows]
};

const Dataset& breast_cancer() {
  static const Dataset data = [] {
    const std::string path = std::string(SIGMA_DATA_DIR) + "/breast_cancer.csv";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("nn_bench: cannot open " + path);
    std::string line;
    std::getline(in, line);
    Dataset d;
    {
      std::istringstream header(line);
      std::string field;
      std::getline(header, field, ',');
      d.rows = std::stoll(field);
      std::getline(header, field, ',');
      d.features = std::stoll(field);
    }
    std::vector<double> x;
    std::vector<float> y;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      std::istringstream row(line);
      std::string field;
      for (std::int64_t j = 0; j < d.features; ++j) {
        std::getline(row, field, ',');
        x.push_back(std::stod(field));
      }
      std::getline(row, field, ',');
      y.push_back(std::stof(field));
    }
    if (static_cast<std::int64_t>(y.size()) != d.rows)
      throw std::runtime_error("nn_bench: " + path + ": expected " + std::to_string(d.rows) +
                               " rows, read " + std::to_string(y.size()));
    const auto n = static_cast<std::size_t>(d.rows), f = static_cast<std::size_t>(d.features);
    for (std::size_t j = 0; j < f; ++j) {  // standardise each column (population std)
      double mean = 0, sq = 0;
      for (std::size_t i = 0; i < n; ++i) mean += x[i * f + j];
      mean /= static_cast<double>(n);
      for (std::size_t i = 0; i < n; ++i) sq += (x[i * f + j] - mean) * (x[i * f + j] - mean);
      const double sd = std::sqrt(sq / static_cast<double>(n));
      for (std::size_t i = 0; i < n; ++i) x[i * f + j] = (x[i * f + j] - mean) / sd;
    }
    std::vector<std::size_t> perm(n);
    std::iota(perm.begin(), perm.end(), std::size_t{0});
    std::shuffle(perm.begin(), perm.end(), std::mt19937(2026));
    d.x.resize(n * f);
    d.y.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < f; ++j) d.x[i * f + j] = static_cast<float>(x[perm[i] * f + j]);
      d.y[i] = y[perm[i]];
    }
    return d;
  }();
  return data;
}

constexpr std::int64_t kBatch = 32;
constexpr std::int64_t kLargeRows = 49152, kLargeBatch = 4096;

const Dataset& synthetic_large() {
  static const Dataset data = [] {
    Dataset d;
    d.rows = kLargeRows;
    d.features = 30;
    std::mt19937 gen(11);
    std::normal_distribution<float> normal;
    std::vector<float> w(30);
    for (auto& e : w) e = normal(gen);
    d.x.resize(static_cast<std::size_t>(d.rows * d.features));
    d.y.resize(static_cast<std::size_t>(d.rows));
    for (std::size_t i = 0; i < d.y.size(); ++i) {
      float s = normal(gen);
      for (std::size_t j = 0; j < 30; ++j) s += w[j] * (d.x[i * 30 + j] = normal(gen));
      d.y[i] = s > 0 ? 1.0f : 0.0f;
    }
    return d;
  }();
  return data;
}

// The data and batch size of an MLP case.
enum class Mlp { kBreastCancer, kBatch4096 };
const Dataset& mlp_data(Mlp m) { return m == Mlp::kBreastCancer ? breast_cancer() : synthetic_large(); }
std::int64_t mlp_batch(Mlp m) { return m == Mlp::kBreastCancer ? kBatch : kLargeBatch; }
constexpr std::int64_t kSeq = 50, kLstmBatch = 32, kLstmInput = 64, kLstmHidden = 128;

std::vector<float> lstm_input() {
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(static_cast<std::size_t>(kSeq * kLstmBatch * kLstmInput));
  for (auto& e : v) e = u(gen);
  return v;
}

// ---- The digits: 1,797 rows of 64 pixels (0..16) and a label; pixels / 16,
// rows in a fixed shuffled order, the first 1,437 (80%) kept for training.
struct Digits {
  std::int64_t rows = 0;
  std::vector<float> x;           // [rows, 1, 8, 8]
  std::vector<std::int64_t> y;    // [rows]
};

const Digits& digits() {
  static const Digits data = [] {
    const std::string path = std::string(SIGMA_DATA_DIR) + "/digits.csv.gz";
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error("nn_bench: cannot open " + path);
    std::vector<std::vector<float>> px;
    std::vector<std::int64_t> labels;
    char line[1024];
    while (gzgets(f, line, sizeof line)) {
      std::stringstream row(line);
      std::string cell;
      std::vector<float> v;
      while (std::getline(row, cell, ',')) v.push_back(std::stof(cell));
      if (v.size() != 65) throw std::runtime_error("nn_bench: a digits row without 65 values");
      labels.push_back(static_cast<std::int64_t>(v.back()));
      v.pop_back();
      for (auto& p : v) p /= 16.0f;
      px.push_back(std::move(v));
    }
    gzclose(f);
    std::vector<std::size_t> order(px.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937(17));
    Digits d;
    d.rows = static_cast<std::int64_t>(px.size()) * 4 / 5;
    for (std::int64_t r = 0; r < d.rows; ++r) {
      const std::size_t i = order[static_cast<std::size_t>(r)];
      d.x.insert(d.x.end(), px[i].begin(), px[i].end());
      d.y.push_back(labels[i]);
    }
    return d;
  }();
  return data;
}
constexpr std::int64_t kDigitsBatch = 64;

sigma::nn::Sequential sigma_cnn() {
  namespace nn = sigma::nn;
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 16, 3).padding(1)), nn::BatchNorm2d(16),
                        nn::ReLU(), nn::MaxPool2d(2),
                        nn::Conv2d(nn::Conv2dOptions(16, 32, 3).padding(1)), nn::BatchNorm2d(32),
                        nn::ReLU(), nn::AdaptiveAvgPool2d(2), nn::Flatten(), nn::Linear(128, 10));
}

struct SigmaDigits : sigma::data::datasets::Dataset<SigmaDigits> {
  SigmaDigits(sigma::Tensor x, sigma::Tensor y) : images(std::move(x)), labels(std::move(y)) {}
  sigma::data::Example<> get(size_t i) override {
    return {images[static_cast<std::int64_t>(i)], labels[static_cast<std::int64_t>(i)]};
  }
  sigma::optional<size_t> size() const override { return static_cast<size_t>(images.size(0)); }
  sigma::Tensor images, labels;
};

sigma::nn::Sequential sigma_mlp() {
  return sigma::nn::Sequential(sigma::nn::Linear(30, 32), sigma::nn::ReLU(),
                               sigma::nn::Linear(32, 1));
}

#ifdef SIGMA_BENCH_HAVE_TORCH
// LibTorch's module gets the weights drawn for sigma's, by name; the names
// and shapes must agree.
void load(torch::nn::Module& m, const std::vector<NamedValues>& w) {
  auto params = m.named_parameters();
  if (params.size() != w.size())
    throw std::runtime_error("nn_bench: LibTorch has " + std::to_string(params.size()) +
                             " parameters, sigma " + std::to_string(w.size()));
  torch::NoGradGuard no_grad;
  for (const auto& nv : w) {
    torch::Tensor* p = params.find(nv.name);
    if (p == nullptr || p->sizes().vec() != nv.shape)
      throw std::runtime_error("nn_bench: LibTorch parameter " + nv.name + " missing or shaped differently");
    p->copy_(torch::tensor(nv.values).reshape(nv.shape));
  }
}
#endif

// ---- sigma.

// One layer over x [50, 32, 64]: forward, output.sum().backward().
template <class Module>
void recurrent_sigma(benchmark::State& state, Threads threads, Module rnn, unsigned seed) {
  use_threads(threads);
  load(*rnn, draw_weights(*rnn, seed));
  const sigma::Tensor x = sigma::tensor(lstm_input()).reshape({kSeq, kLstmBatch, kLstmInput});
  const sigma::Tensor w_ih = rnn->parameters()[0];
  for (auto _ : state) {
    rnn->zero_grad();
    auto [out, state_out] = rnn(x);
    out.sum().backward();
    benchmark::DoNotOptimize(w_ih.grad().unsafeGetTensorImpl());
  }
}

void LSTMForwardBackward_sigma(benchmark::State& state, Threads threads) {
  recurrent_sigma(state, threads, sigma::nn::LSTM(sigma::nn::LSTMOptions(kLstmInput, kLstmHidden)), 1);
}
void GRUForwardBackward_sigma(benchmark::State& state, Threads threads) {
  recurrent_sigma(state, threads, sigma::nn::GRU(sigma::nn::GRUOptions(kLstmInput, kLstmHidden)), 3);
}

constexpr std::int64_t kAttnLen = 64, kAttnBatch = 32, kAttnWidth = 64, kAttnHeads = 4;

std::vector<float> attention_input() {
  std::mt19937 gen(11);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> v(static_cast<std::size_t>(kAttnLen * kAttnBatch * kAttnWidth));
  for (auto& e : v) e = n(gen);
  return v;
}

void MultiheadAttentionForwardBackward_sigma(benchmark::State& state, Threads threads) {
  use_threads(threads);
  sigma::nn::MultiheadAttention mha(kAttnWidth, kAttnHeads);
  load(*mha, draw_weights(*mha, 5));
  const sigma::Tensor x =
      sigma::tensor(attention_input()).reshape({kAttnLen, kAttnBatch, kAttnWidth}).requires_grad_();
  for (auto _ : state) {
    mha->zero_grad();
    x.mutable_grad() = sigma::Tensor();
    auto [out, w] = mha->forward(x, x, x, {}, /*need_weights=*/false);
    out.sum().backward();
    benchmark::DoNotOptimize(x.grad().unsafeGetTensorImpl());
  }
}

sigma::nn::TransformerEncoderLayer sigma_encoder_layer() {
  return sigma::nn::TransformerEncoderLayer(
      sigma::nn::TransformerEncoderLayerOptions(kAttnWidth, kAttnHeads).dim_feedforward(256));
}

void TransformerEncoderLayerStep_sigma(benchmark::State& state, Threads threads) {
  use_threads(threads);
  sigma::nn::TransformerEncoderLayer layer = sigma_encoder_layer();
  load(*layer, draw_weights(*layer, 7));
  const sigma::Tensor x = sigma::tensor(attention_input()).reshape({kAttnLen, kAttnBatch, kAttnWidth});
  sigma::optim::Adam optimizer(layer->parameters(), sigma::optim::AdamOptions(1e-4));
  for (auto _ : state) {
    optimizer.zero_grad();
    sigma::Tensor loss = layer(x).square().mean();
    loss.backward();
    optimizer.step();
  }
}

constexpr std::int64_t kConvBatch = 32, kConvIn = 16, kConvOut = 32, kConvSide = 28;

std::vector<float> conv_input() {
  std::mt19937 gen(13);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> v(static_cast<std::size_t>(kConvBatch * kConvIn * kConvSide * kConvSide));
  for (auto& e : v) e = n(gen);
  return v;
}

sigma::nn::Conv2d sigma_conv() {
  return sigma::nn::Conv2d(sigma::nn::Conv2dOptions(kConvIn, kConvOut, 3).padding(1));
}

void Conv2dForwardBackward_sigma(benchmark::State& state, Threads threads) {
  use_threads(threads);
  sigma::nn::Conv2d conv = sigma_conv();
  load(*conv, draw_weights(*conv, 9));
  const sigma::Tensor x = sigma::tensor(conv_input())
                              .reshape({kConvBatch, kConvIn, kConvSide, kConvSide})
                              .requires_grad_();
  for (auto _ : state) {
    conv->zero_grad();
    x.mutable_grad() = sigma::Tensor();
    conv(x).sum().backward();
    benchmark::DoNotOptimize(x.grad().unsafeGetTensorImpl());
  }
}

void DigitsCNNEpoch_sigma(benchmark::State& state, Threads threads) {
  use_threads(threads);
  const Digits& d = digits();
  sigma::nn::Sequential model = sigma_cnn();
  load(*model, draw_weights(*model, 11));
  auto loader = sigma::data::make_data_loader<sigma::data::samplers::SequentialSampler>(
      SigmaDigits(sigma::tensor(d.x).reshape({d.rows, 1, 8, 8}), sigma::tensor(d.y))
          .map(sigma::data::transforms::Stack<>()),
      sigma::data::DataLoaderOptions().batch_size(kDigitsBatch));
  sigma::optim::Adam optimizer(model->parameters(), sigma::optim::AdamOptions(1e-2));
  for (auto _ : state) {
    for (auto& batch : *loader) {
      optimizer.zero_grad();
      sigma::Tensor loss = sigma::cross_entropy(model->forward(batch.data), batch.target);
      loss.backward();
      optimizer.step();
    }
  }
  state.SetItemsProcessed(state.iterations() * d.rows);
}

void MLPEpoch_sigma(benchmark::State& state, Threads threads, Mlp which) {
  use_threads(threads);
  const Dataset& d = mlp_data(which);
  const std::int64_t batch = mlp_batch(which);
  sigma::nn::Sequential model = sigma_mlp();
  load(*model, draw_weights(*model, 2));
  const sigma::Tensor x = sigma::tensor(d.x).reshape({d.rows, d.features});
  const sigma::Tensor y = sigma::tensor(d.y).reshape({d.rows, 1});
  sigma::nn::BCEWithLogitsLoss criterion;
  sigma::optim::Adam optimizer(model->parameters(), sigma::optim::AdamOptions(1e-3));
  for (auto _ : state) {
    for (std::int64_t start = 0; start < d.rows; start += batch) {
      const std::int64_t len = std::min(batch, d.rows - start);
      optimizer.zero_grad();
      sigma::Tensor loss = criterion(model(x.narrow(0, start, len)), y.narrow(0, start, len));
      loss.backward();
      optimizer.step();
    }
  }
  state.SetItemsProcessed(state.iterations() * d.rows);
}

// ---- LibTorch.
#ifdef SIGMA_BENCH_HAVE_TORCH

// The same layer in LibTorch, with the weights drawn for sigma's twin.
template <class Twin, class Module>
void recurrent_torch(benchmark::State& state, Threads threads, Twin twin, Module rnn, unsigned seed) {
  use_threads(threads);
  load(*rnn, draw_weights(*twin, seed));
  const torch::Tensor x = torch::tensor(lstm_input()).reshape({kSeq, kLstmBatch, kLstmInput});
  const torch::Tensor w_ih = rnn->parameters()[0];
  for (auto _ : state) {
    rnn->zero_grad(/*set_to_none=*/true);
    auto [out, state_out] = rnn(x);
    out.sum().backward();
    benchmark::DoNotOptimize(w_ih.grad().unsafeGetTensorImpl());
  }
}

void LSTMForwardBackward_torch(benchmark::State& state, Threads threads) {
  recurrent_torch(state, threads, sigma::nn::LSTM(sigma::nn::LSTMOptions(kLstmInput, kLstmHidden)),
                  torch::nn::LSTM(torch::nn::LSTMOptions(kLstmInput, kLstmHidden)), 1);
}
void GRUForwardBackward_torch(benchmark::State& state, Threads threads) {
  recurrent_torch(state, threads, sigma::nn::GRU(sigma::nn::GRUOptions(kLstmInput, kLstmHidden)),
                  torch::nn::GRU(torch::nn::GRUOptions(kLstmInput, kLstmHidden)), 3);
}

void MultiheadAttentionForwardBackward_torch(benchmark::State& state, Threads threads) {
  use_threads(threads);
  sigma::nn::MultiheadAttention twin(kAttnWidth, kAttnHeads);
  torch::nn::MultiheadAttention mha(kAttnWidth, kAttnHeads);
  load(*mha, draw_weights(*twin, 5));
  const torch::Tensor x =
      torch::tensor(attention_input()).reshape({kAttnLen, kAttnBatch, kAttnWidth}).requires_grad_();
  for (auto _ : state) {
    mha->zero_grad(/*set_to_none=*/true);
    x.mutable_grad() = torch::Tensor();
    auto [out, w] = mha->forward(x, x, x, {}, /*need_weights=*/false);
    out.sum().backward();
    benchmark::DoNotOptimize(x.grad().unsafeGetTensorImpl());
  }
}

void TransformerEncoderLayerStep_torch(benchmark::State& state, Threads threads) {
  use_threads(threads);
  sigma::nn::TransformerEncoderLayer twin = sigma_encoder_layer();
  torch::nn::TransformerEncoderLayer layer(
      torch::nn::TransformerEncoderLayerOptions(kAttnWidth, kAttnHeads).dim_feedforward(256));
  load(*layer, draw_weights(*twin, 7));
  const torch::Tensor x = torch::tensor(attention_input()).reshape({kAttnLen, kAttnBatch, kAttnWidth});
  torch::optim::Adam optimizer(layer->parameters(), torch::optim::AdamOptions(1e-4));
  for (auto _ : state) {
    optimizer.zero_grad();
    torch::Tensor loss = layer(x).square().mean();
    loss.backward();
    optimizer.step();
  }
}

void Conv2dForwardBackward_torch(benchmark::State& state, Threads threads) {
  use_threads(threads);
  sigma::nn::Conv2d twin = sigma_conv();
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(kConvIn, kConvOut, 3).padding(1));
  load(*conv, draw_weights(*twin, 9));
  const torch::Tensor x = torch::tensor(conv_input())
                              .reshape({kConvBatch, kConvIn, kConvSide, kConvSide})
                              .requires_grad_();
  for (auto _ : state) {
    conv->zero_grad(/*set_to_none=*/true);
    x.mutable_grad() = torch::Tensor();
    conv(x).sum().backward();
    benchmark::DoNotOptimize(x.grad().unsafeGetTensorImpl());
  }
}

struct TorchDigits : torch::data::datasets::Dataset<TorchDigits> {
  TorchDigits(torch::Tensor x, torch::Tensor y) : images(std::move(x)), labels(std::move(y)) {}
  torch::data::Example<> get(size_t i) override {
    return {images[static_cast<std::int64_t>(i)], labels[static_cast<std::int64_t>(i)]};
  }
  torch::optional<size_t> size() const override { return static_cast<size_t>(images.size(0)); }
  torch::Tensor images, labels;
};

void DigitsCNNEpoch_torch(benchmark::State& state, Threads threads) {
  use_threads(threads);
  namespace nn = torch::nn;
  const Digits& d = digits();
  sigma::nn::Sequential twin = sigma_cnn();
  nn::Sequential model(nn::Conv2d(nn::Conv2dOptions(1, 16, 3).padding(1)), nn::BatchNorm2d(16),
                       nn::ReLU(), nn::MaxPool2d(2),
                       nn::Conv2d(nn::Conv2dOptions(16, 32, 3).padding(1)), nn::BatchNorm2d(32),
                       nn::ReLU(), nn::AdaptiveAvgPool2d(2), nn::Flatten(), nn::Linear(128, 10));
  load(*model, draw_weights(*twin, 11));
  auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      TorchDigits(torch::tensor(d.x).reshape({d.rows, 1, 8, 8}), torch::tensor(d.y))
          .map(torch::data::transforms::Stack<>()),
      torch::data::DataLoaderOptions().batch_size(kDigitsBatch));
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-2));
  for (auto _ : state) {
    for (auto& batch : *loader) {
      optimizer.zero_grad();
      torch::Tensor loss = torch::cross_entropy_loss(model->forward(batch.data), batch.target);
      loss.backward();
      optimizer.step();
    }
  }
  state.SetItemsProcessed(state.iterations() * d.rows);
}

void MLPEpoch_torch(benchmark::State& state, Threads threads, Mlp which) {
  use_threads(threads);
  const Dataset& d = mlp_data(which);
  const std::int64_t batch = mlp_batch(which);
  sigma::nn::Sequential twin = sigma_mlp();
  torch::nn::Sequential model(torch::nn::Linear(30, 32), torch::nn::ReLU(), torch::nn::Linear(32, 1));
  load(*model, draw_weights(*twin, 2));
  const torch::Tensor x = torch::tensor(d.x).reshape({d.rows, d.features});
  const torch::Tensor y = torch::tensor(d.y).reshape({d.rows, 1});
  torch::nn::BCEWithLogitsLoss criterion;
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  for (auto _ : state) {
    for (std::int64_t start = 0; start < d.rows; start += batch) {
      const std::int64_t len = std::min(batch, d.rows - start);
      optimizer.zero_grad();
      torch::Tensor loss = criterion(model->forward(x.narrow(0, start, len)), y.narrow(0, start, len));
      loss.backward();
      optimizer.step();
    }
  }
  state.SetItemsProcessed(state.iterations() * d.rows);
}

#endif  // SIGMA_BENCH_HAVE_TORCH

}  // namespace

#ifdef SIGMA_BENCH_HAVE_TORCH
#define SIGMA_BENCH_PAIR(fn, name, ...)                                      \
  BENCHMARK_CAPTURE(fn##_sigma, name, __VA_ARGS__)->Name("BM_" #name "/sigma"); \
  BENCHMARK_CAPTURE(fn##_torch, name, __VA_ARGS__)->Name("BM_" #name "/torch")
#else
#define SIGMA_BENCH_PAIR(fn, name, ...) \
  BENCHMARK_CAPTURE(fn##_sigma, name, __VA_ARGS__)->Name("BM_" #name "/sigma")
#endif

SIGMA_BENCH_PAIR(LSTMForwardBackward, LSTMForwardBackward, Threads::kOne);
SIGMA_BENCH_PAIR(GRUForwardBackward, GRUForwardBackward, Threads::kOne);
SIGMA_BENCH_PAIR(MultiheadAttentionForwardBackward, MultiheadAttentionForwardBackward, Threads::kOne);
SIGMA_BENCH_PAIR(TransformerEncoderLayerStep, TransformerEncoderLayerStep, Threads::kOne);
SIGMA_BENCH_PAIR(Conv2dForwardBackward, Conv2dForwardBackward, Threads::kOne);
SIGMA_BENCH_PAIR(DigitsCNNEpoch, DigitsCNNEpoch, Threads::kOne);
SIGMA_BENCH_PAIR(MLPEpoch, MLPEpoch, Threads::kOne, Mlp::kBreastCancer);
SIGMA_BENCH_PAIR(MLPEpoch, MLPEpochBatch4096, Threads::kOne, Mlp::kBatch4096);
SIGMA_BENCH_PAIR(LSTMForwardBackward, LSTMForwardBackward_DefaultThreads, Threads::kDefault);
SIGMA_BENCH_PAIR(MLPEpoch, MLPEpoch_DefaultThreads, Threads::kDefault, Mlp::kBreastCancer);
SIGMA_BENCH_PAIR(MLPEpoch, MLPEpochBatch4096_DefaultThreads, Threads::kDefault, Mlp::kBatch4096);
