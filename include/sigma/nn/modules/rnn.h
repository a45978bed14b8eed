// sigma/nn/modules/rnn.h: recurrent layers (RNN, LSTM, GRU) and their cells
// (RNNCell, LSTMCell, GRUCell), with their options, as LibTorch's
// torch/nn/modules/rnn.h and torch/nn/options/rnn.h.
//
// Parameter names, order and shapes are PyTorch's, so state dicts move
// between sigma and PyTorch unchanged. With G gates (1 for RNN, 4 for LSTM in
// the order i, f, g, o; 3 for GRU in the order r, z, n), hidden size H and
// num_directions D (2 when bidirectional), layer k has
//   weight_ih_l{k}[_reverse] [G*H, in_k]   (in_0 = input_size, else D*H)
//   weight_hh_l{k}[_reverse] [G*H, H]
//   bias_ih_l{k}[_reverse]   [G*H]          (only with bias(true))
//   bias_hh_l{k}[_reverse]   [G*H]
// registered layer by layer, forward direction before reverse. Cells have
// weight_ih [G*H, input_size], weight_hh [G*H, H], bias_ih, bias_hh [G*H].
// Every parameter starts U(-1/sqrt(H), 1/sqrt(H)), drawn from sigma's global
// generator (sigma::manual_seed).
//
// Shapes (T sequence length, N batch, L num_layers):
//   input  [T, N, input_size] ([N, T, input_size] with batch_first), or
//          [T, input_size] unbatched
//   h0, c0 [D*L, N, H] ([D*L, H] unbatched; batch_first does not apply);
//          zeros when not given
//   output [T, N, D*H] (as input for batch_first / unbatched): the last
//          layer's h for every step, the reverse direction in [..., H:]
//   h_n, c_n [D*L, N, H]: the last step of every layer and direction
//
//   sigma::nn::LSTM lstm(sigma::nn::LSTMOptions(64, 128).num_layers(2).batch_first(true));
//   auto [output, state] = lstm(x);            // x [N, T, 64] -> output [N, T, 128]
//   auto [h_n, c_n] = state;                   // [2, N, 128] each
//
// The point-wise gate math of each step is one fused pass forward and one
// backward (see src/ops/rnn_cell.h); the matrix products are ordinary ops.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "sigma/nn/module.h"
#include "sigma/nn/options.h"
#include "sigma/tensor.h"

namespace sigma::nn {

// ---- Options.

// h' = nonlinearity(x W_ih^T + b_ih + h W_hh^T + b_hh) over a sequence.
struct RNNOptions {
  using nonlinearity_t = Nonlinearity;
  RNNOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  SIGMA_ARG(std::int64_t, input_size);           // features of each input step (required)
  SIGMA_ARG(std::int64_t, hidden_size);          // features of the hidden state h (required)
  SIGMA_ARG(std::int64_t, num_layers) = 1;       // stacked layers; each takes the previous one's output
  SIGMA_ARG(nonlinearity_t, nonlinearity) = kTanh;  // kTanh or kReLU
  SIGMA_ARG(bool, bias) = true;                  // learn bias_ih and bias_hh
  SIGMA_ARG(bool, batch_first) = false;          // input and output are [N, T, *] instead of [T, N, *]
  SIGMA_ARG(double, dropout) = 0.0;              // dropout on each layer's output but the last (training only)
  SIGMA_ARG(bool, bidirectional) = false;        // also run the sequence backwards (D = 2)
};

// Long short-term memory over a sequence.
struct LSTMOptions {
  LSTMOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  SIGMA_ARG(std::int64_t, input_size);      // features of each input step (required)
  SIGMA_ARG(std::int64_t, hidden_size);     // features of h and c (required)
  SIGMA_ARG(std::int64_t, num_layers) = 1;  // stacked layers; each takes the previous one's output
  SIGMA_ARG(bool, bias) = true;             // learn bias_ih and bias_hh
  SIGMA_ARG(bool, batch_first) = false;     // input and output are [N, T, *] instead of [T, N, *]
  SIGMA_ARG(double, dropout) = 0.0;         // dropout on each layer's output but the last (training only)
  SIGMA_ARG(bool, bidirectional) = false;   // also run the sequence backwards (D = 2)
  SIGMA_ARG(std::int64_t, proj_size) = 0;   // LibTorch's projection size; only 0 is supported
};

// Gated recurrent unit over a sequence.
struct GRUOptions {
  GRUOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  SIGMA_ARG(std::int64_t, input_size);      // features of each input step (required)
  SIGMA_ARG(std::int64_t, hidden_size);     // features of the hidden state h (required)
  SIGMA_ARG(std::int64_t, num_layers) = 1;  // stacked layers; each takes the previous one's output
  SIGMA_ARG(bool, bias) = true;             // learn bias_ih and bias_hh
  SIGMA_ARG(bool, batch_first) = false;     // input and output are [N, T, *] instead of [T, N, *]
  SIGMA_ARG(double, dropout) = 0.0;         // dropout on each layer's output but the last (training only)
  SIGMA_ARG(bool, bidirectional) = false;   // also run the sequence backwards (D = 2)
};

// One step of RNN.
struct RNNCellOptions {
  using nonlinearity_t = Nonlinearity;
  RNNCellOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  SIGMA_ARG(std::int64_t, input_size);              // features of the input x (required)
  SIGMA_ARG(std::int64_t, hidden_size);             // features of the hidden state h (required)
  SIGMA_ARG(bool, bias) = true;                     // learn bias_ih and bias_hh
  SIGMA_ARG(nonlinearity_t, nonlinearity) = kTanh;  // kTanh or kReLU
};

// One step of LSTM.
struct LSTMCellOptions {
  LSTMCellOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  SIGMA_ARG(std::int64_t, input_size);   // features of the input x (required)
  SIGMA_ARG(std::int64_t, hidden_size);  // features of h and c (required)
  SIGMA_ARG(bool, bias) = true;          // learn bias_ih and bias_hh
};

// One step of GRU.
struct GRUCellOptions {
  GRUCellOptions(std::int64_t input_size, std::int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  SIGMA_ARG(std::int64_t, input_size);   // features of the input x (required)
  SIGMA_ARG(std::int64_t, hidden_size);  // features of the hidden state h (required)
  SIGMA_ARG(bool, bias) = true;          // learn bias_ih and bias_hh
};

namespace detail {

// What RNN, LSTM and GRU share, as LibTorch's detail::RNNOptionsBase.
struct RNNOptionsBase {
  enum class Mode : std::int8_t { RNN_TANH, RNN_RELU, LSTM, GRU };
  RNNOptionsBase(Mode mode, std::int64_t input_size, std::int64_t hidden_size)
      : mode_(mode), input_size_(input_size), hidden_size_(hidden_size) {}
  SIGMA_ARG(Mode, mode);
  SIGMA_ARG(std::int64_t, input_size);
  SIGMA_ARG(std::int64_t, hidden_size);
  SIGMA_ARG(std::int64_t, num_layers) = 1;
  SIGMA_ARG(bool, bias) = true;
  SIGMA_ARG(bool, batch_first) = false;
  SIGMA_ARG(double, dropout) = 0.0;
  SIGMA_ARG(bool, bidirectional) = false;
  SIGMA_ARG(std::int64_t, proj_size) = 0;
};

// The layers' parameters (registered in PyTorch's order), their
// initialisation and repr.
class RNNImplBase : public Module {
 public:
  explicit RNNImplBase(const RNNOptionsBase& options);

  // Draws every parameter again from U(-1/sqrt(H), 1/sqrt(H)).
  void reset_parameters();
  // A no-op kept for LibTorch compatibility: the parameters are used in place.
  void flatten_parameters() {}
  // The parameters in registration order (weight_ih_l0, weight_hh_l0,
  // bias_ih_l0, bias_hh_l0, weight_ih_l0_reverse, ...).
  std::vector<Tensor> all_weights() const;
  // PyTorch's repr, non-default options only: "LSTM(64, 128, num_layers=2,
  // batch_first=True)".
  void pretty_print(std::ostream& stream) const override;

  RNNOptionsBase options_base;

  // The parameters of one layer and direction: w_ih, w_hh, b_ih, b_hh (the
  // biases undefined without bias).
  struct LayerWeights {
    Tensor w_ih, w_hh, b_ih, b_hh;
  };

 protected:
  std::vector<LayerWeights> layer_weights_;  // index layer * D + direction
};

// What the cells share, as LibTorch's detail::RNNCellOptionsBase.
struct RNNCellOptionsBase {
  RNNCellOptionsBase(std::int64_t input_size, std::int64_t hidden_size, bool bias,
                     std::int64_t num_chunks)
      : input_size_(input_size), hidden_size_(hidden_size), bias_(bias), num_chunks_(num_chunks) {}
  SIGMA_ARG(std::int64_t, input_size);
  SIGMA_ARG(std::int64_t, hidden_size);
  SIGMA_ARG(bool, bias);
  SIGMA_ARG(std::int64_t, num_chunks);  // gates G: 1, 4 or 3
};

class RNNCellImplBase : public Module {
 public:
  explicit RNNCellImplBase(const RNNCellOptionsBase& options);

  // Draws every parameter again from U(-1/sqrt(H), 1/sqrt(H)).
  void reset_parameters();
  // PyTorch's repr: "LSTMCell(10, 20)", "RNNCell(10, 20, bias=False,
  // nonlinearity=relu)".
  void pretty_print(std::ostream& stream) const override;

  RNNCellOptionsBase options_base;
  Tensor weight_ih;  // [G*H, input_size]
  Tensor weight_hh;  // [G*H, H]
  Tensor bias_ih;    // [G*H], undefined without bias
  Tensor bias_hh;    // [G*H], undefined without bias

 protected:
  virtual std::string get_nonlinearity_str() const { return "tanh"; }
};

}  // namespace detail

// ---- Sequence layers.

// Elman RNN: h_t = tanh (or relu)(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).
class RNNImpl : public detail::RNNImplBase {
 public:
  RNNImpl(std::int64_t input_size, std::int64_t hidden_size)
      : RNNImpl(RNNOptions(input_size, hidden_size)) {}
  explicit RNNImpl(const RNNOptions& options);

  // (output, h_n); hx is h0 (zeros when undefined).
  std::tuple<Tensor, Tensor> forward(const Tensor& input, Tensor hx = {});

  RNNOptions options;
};
SIGMA_MODULE(RNN);

// LSTM with gates i, f, g, o:
//   i, f, o = sigmoid(.), g = tanh(.) of x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
//   c_t = f c_{t-1} + i g,  h_t = o tanh(c_t)
class LSTMImpl : public detail::RNNImplBase {
 public:
  LSTMImpl(std::int64_t input_size, std::int64_t hidden_size)
      : LSTMImpl(LSTMOptions(input_size, hidden_size)) {}
  explicit LSTMImpl(const LSTMOptions& options);

  // (output, (h_n, c_n)); hx_opt is (h0, c0) (zeros when absent).
  std::tuple<Tensor, std::tuple<Tensor, Tensor>> forward(
      const Tensor& input, std::optional<std::tuple<Tensor, Tensor>> hx_opt = {});

  LSTMOptions options;
};
SIGMA_MODULE(LSTM);

// GRU with gates r, z, n (the reset gate applied after the hidden product,
// as PyTorch):
//   r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr), z likewise
//   n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)),  h' = (1 - z) n + z h
class GRUImpl : public detail::RNNImplBase {
 public:
  GRUImpl(std::int64_t input_size, std::int64_t hidden_size)
      : GRUImpl(GRUOptions(input_size, hidden_size)) {}
  explicit GRUImpl(const GRUOptions& options);

  // (output, h_n); hx is h0 (zeros when undefined).
  std::tuple<Tensor, Tensor> forward(const Tensor& input, Tensor hx = {});

  GRUOptions options;
};
SIGMA_MODULE(GRU);

// ---- Cells: one step. input [N, input_size] or [input_size] (unbatched);
// hidden states [N, H] or [H]; zeros when not given.

class RNNCellImpl : public detail::RNNCellImplBase {
 public:
  RNNCellImpl(std::int64_t input_size, std::int64_t hidden_size)
      : RNNCellImpl(RNNCellOptions(input_size, hidden_size)) {}
  explicit RNNCellImpl(const RNNCellOptions& options);

  // h'
  Tensor forward(const Tensor& input, Tensor hx = {});

  RNNCellOptions options;

 protected:
  std::string get_nonlinearity_str() const override;
};
SIGMA_MODULE(RNNCell);

class LSTMCellImpl : public detail::RNNCellImplBase {
 public:
  LSTMCellImpl(std::int64_t input_size, std::int64_t hidden_size)
      : LSTMCellImpl(LSTMCellOptions(input_size, hidden_size)) {}
  explicit LSTMCellImpl(const LSTMCellOptions& options);

  // (h', c'); hx_opt is (h, c).
  std::tuple<Tensor, Tensor> forward(const Tensor& input,
                                     std::optional<std::tuple<Tensor, Tensor>> hx_opt = {});

  LSTMCellOptions options;
};
SIGMA_MODULE(LSTMCell);

class GRUCellImpl : public detail::RNNCellImplBase {
 public:
  GRUCellImpl(std::int64_t input_size, std::int64_t hidden_size)
      : GRUCellImpl(GRUCellOptions(input_size, hidden_size)) {}
  explicit GRUCellImpl(const GRUCellOptions& options);

  // h'
  Tensor forward(const Tensor& input, Tensor hx = {});

  GRUCellOptions options;
};
SIGMA_MODULE(GRUCell);

}  // namespace sigma::nn
