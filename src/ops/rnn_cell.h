// rnn_cell.h: the fused point-wise gate math of the recurrent cells, one
// forward pass and one backward node per step (internal; the layers' time
// loop is src/nn/rnn_scan.cpp, the modules sigma/nn/modules/rnn.h).
//
// Each step evaluates its gates with the sigmoid / tanh kernels of the kernel
// table (kernels/table.h) and differentiates them with the same exact forms
// the activations use (sigmoid' = s(x) s(-x), tanh' = 4 s(2x) s(-2x), from
// the saved pre-activation x), so no derivative cancels near saturation.
// Shapes: B batch, H hidden size, G gates. Supported dtypes: float32, float64.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <tuple>

#include "sigma/tensor.h"

namespace sigma::detail {

// The recurrent cells. nn's RNNOptionsBase::Mode (LibTorch's public names)
// maps onto this in one place, nn/rnn_scan.h's kind_of; ops/ cannot see nn/.
enum class RecurrentKind : std::int8_t { RnnTanh, RnnRelu, Lstm, Gru };

enum class GateAct : std::int8_t { Sigmoid, Tanh, Relu };

// What a cell kind is made of; every place that sizes weights, gates or
// workspaces reads this table.
struct GateSpec {
  const char* module;            // "LSTM": the layer's name in messages
  std::int64_t gates;            // G: weights [G*H, *], gates [B, G*H]
  std::int64_t work_rows;        // per-step workspace [work_rows, B, H] (layout below)
  std::array<GateAct, 4> act;    // activation of gate k < G
};
// Workspace rows: LSTM  i f g o | tanh(c) | i' f' (g's pre-activation) o' | c
//                 GRU   r z n | gh_n (+ b_hn) | r' z' (n's pre-activation)
//                 RNN   the pre-activation
// (a sigmoid gate's derivative s(x) s(-x) replaces its pre-activation once
// the forward has activated it: see gate_forward in rnn_cell.cpp)
inline constexpr std::array<GateSpec, 4> kGateSpecs = {{
    {"RNN", 1, 1, {GateAct::Tanh}},
    {"RNN", 1, 1, {GateAct::Relu}},
    {"LSTM", 4, 10, {GateAct::Sigmoid, GateAct::Sigmoid, GateAct::Tanh, GateAct::Sigmoid}},
    {"GRU", 3, 7, {GateAct::Sigmoid, GateAct::Sigmoid, GateAct::Tanh}},
}};
inline const GateSpec& gate_spec(RecurrentKind k) { return kGateSpecs[static_cast<std::size_t>(k)]; }

// Where a step's backward writes its gate gradients when the step belongs to
// a layer (nn/rnn_scan.cpp): [B, G*H] views of the layer's buffers for step
// t, d (h W_hh^T) and, for GRU, d (x W_ih^T) (the same buffer otherwise).
class GateGradSink {
 public:
  virtual ~GateGradSink() = default;
  virtual Tensor dgh(std::int64_t t) = 0;
  virtual Tensor dgi(std::int64_t t) = 0;
};

// A step's outputs and workspace: views of a layer's buffers, or undefined
// (allocated by the step); sink null for a lone cell.
struct StepBuffers {
  Tensor h_out;  // [B, H]
  Tensor c_out;  // [B, H], LSTM only
  Tensor work;   // [work_rows, B, H] contiguous
  std::shared_ptr<GateGradSink> sink;
  std::int64_t t = 0;
};

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

// ---- The unchecked steps behind those, for a layer's time loop. A bias
// (contiguous, or undefined) is added with no gradient here: the layer gives
// the biases' gradients over all steps at once. gru_step's bias_edge: whether
// bias_hh's gradient comes from this step's node (the lone cell) or not.
std::tuple<Tensor, Tensor> lstm_step(const Tensor& gi, const Tensor& gh, const Tensor& c_prev,
                                     const Tensor& bias, StepBuffers buf);
Tensor gru_step(const Tensor& gi, const Tensor& gh, const Tensor& h_prev, const Tensor& bias_ih,
                const Tensor& bias_hh, bool bias_edge, StepBuffers buf);
Tensor rnn_step(const Tensor& gi, const Tensor& gh, const Tensor& bias, bool relu,
                StepBuffers buf);

}  // namespace sigma::detail
