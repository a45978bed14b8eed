// rnn_scan.h: one recurrent layer over a whole sequence, the time loop of
// RNN, LSTM and GRU (internal; the modules are sigma/nn/modules/rnn.h, the
// point-wise cell math src/ops/rnn_cell.h).
#pragma once

#include <vector>

#include "ops/rnn_cell.h"
#include "sigma/nn/modules/rnn.h"
#include "sigma/tensor.h"

namespace sigma::nn::detail {

using sigma::detail::RecurrentKind;

// The one mapping from LibTorch's public Mode to the cells' kind (ops/ keys
// its GateSpec table by RecurrentKind and cannot see nn/).
constexpr RecurrentKind kind_of(RNNOptionsBase::Mode mode) {
  using Mode = RNNOptionsBase::Mode;
  switch (mode) {
    case Mode::RNN_TANH: return RecurrentKind::RnnTanh;
    case Mode::RNN_RELU: return RecurrentKind::RnnRelu;
    case Mode::LSTM: return RecurrentKind::Lstm;
    case Mode::GRU: return RecurrentKind::Gru;
  }
  return RecurrentKind::RnnTanh;
}

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
// point-wise step that adds the biases and writes h straight into output. The
// gradients of W_hh and of the biases are one matrix product each over all
// steps in the backward pass.
RecurrentLayerResult recurrent_layer(RecurrentKind kind, const std::vector<Tensor>& gi,
                                     const std::vector<Tensor>& w_hh,
                                     const std::vector<Tensor>& b_ih,
                                     const std::vector<Tensor>& b_hh,
                                     const std::vector<Tensor>& h0, const std::vector<Tensor>& c0);

}  // namespace sigma::nn::detail
