// rnn_cell.h: the fused point-wise gate math of the recurrent cells and the
// time loop of one recurrent layer (internal; the modules in
// sigma/nn/modules/rnn.h are built on it).
//
// Each point-wise op is one pass forward (calling the sigmoid / tanh span
// kernels of sigma/kernels.h on the gate slices) and one backward node that
// computes every input gradient in one pass from the activations saved by the
// forward. Shapes: B batch, H hidden size, T time steps, D directions.
// Supported dtypes: float32 and float64.
#pragma once

#include <cstdint>
#include <tuple>
#include <vector>

#include "sigma/tensor.h"

namespace sigma::detail {

// LSTM: gates = gi + gh [B, 4H] in the order i, f, g, o (gh may be
// undefined: zero); c_prev [B, H] (undefined: zero).
//   i, f, o = sigmoid, g = tanh, c = f c_prev + i g, h = o tanh(c)
// Returns (h, c), each [B, H]. The backward gives d gi = d gh = d gates and
// d c_prev in one pass.
std::tuple<Tensor, Tensor> lstm_cell_pointwise(const Tensor& gi, const Tensor& gh,
                                               const Tensor& c_prev);
inline std::tuple<Tensor, Tensor> lstm_cell_pointwise(const Tensor& gates, const Tensor& c_prev) {
  return lstm_cell_pointwise(gates, Tensor(), c_prev);
}

// GRU: gi = x W_ih^T + b_ih, gh = h W_hh^T (+ b_hh) [B, 3H] in the order r, z,
// n; bias_hh [3H] is added to gh when defined (so the caller need not);
// h_prev [B, H] (undefined: zero; gh may then be undefined too).
//   r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z),
//   n = tanh(gi_n + r gh_n), h = (1 - z) n + z h_prev
// Returns h [B, H]; the backward gives d gi, d gh, d h_prev and d bias_hh.
Tensor gru_cell_pointwise(const Tensor& gi, const Tensor& gh, const Tensor& h_prev,
                          const Tensor& bias_hh = {});

// Elman RNN: h = tanh(gi + gh), or relu(gi + gh) with relu (gh may be
// undefined: zero). Returns h [B, H].
Tensor rnn_cell_pointwise(const Tensor& gi, const Tensor& gh, bool relu);

// ---- One recurrent layer over a whole sequence.

enum class RecurrentKind : std::int8_t { RnnTanh, RnnRelu, Lstm, Gru };

struct RecurrentLayerResult {
  Tensor output;            // [T, B, D*H]: h of every step, direction d in [..., dH:(d+1)H]
  std::vector<Tensor> h_n;  // per direction: h of its last step [B, H]
  std::vector<Tensor> c_n;  // LSTM only: c of its last step [B, H]
};

// Runs D = gi.size() directions (1 or 2; direction 1 walks t = T-1 .. 0) of
// one layer. Per direction d:
//   gi[d]   [T, B, G*H]  x W_ih^T for every step, time-major
//   w_hh[d] [G*H, H]
//   b_ih[d], b_hh[d] [G*H]  biases (undefined without bias)
//   h0[d], c0[d] [B, H]  initial states (undefined: zeros; c0 LSTM only)
// Each step is one matrix product h W_hh^T (sigma::mm) and one fused
// point-wise op that adds the biases and writes h straight into output. The
// gradients of W_hh and of the biases are one matrix product each over all
// steps in the backward pass.
RecurrentLayerResult recurrent_layer(RecurrentKind kind, const std::vector<Tensor>& gi,
                                     const std::vector<Tensor>& w_hh,
                                     const std::vector<Tensor>& b_ih,
                                     const std::vector<Tensor>& b_hh,
                                     const std::vector<Tensor>& h0, const std::vector<Tensor>& c0);

}  // namespace sigma::detail
