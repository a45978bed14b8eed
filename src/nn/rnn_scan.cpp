// rnn_scan.cpp: the time loop of one recurrent layer (RNN, LSTM, GRU) and
// the two autograd nodes that make its backward pass one matrix product per
// weight instead of one per step.
//
// Legend: T steps, B batch, H hidden size, G gates, D directions.
//
// Per direction, one node (RecurrentStepsBackward) splits the input
// projection gi [T, B, G*H] into its steps and, in the backward pass, owns a
// ScanState: the buffer every step's point-wise node writes its d gates into
// (through GateGradSink, ops/rnn_cell.h), so d gi needs no stacking and
// d W_hh = sum_t d gh_t^T h_{t-1} is one matrix product over all steps. The
// per-step products h W_hh^T are ordinary mm ops on W_hh.detach() (their
// backward only gives d h).
#include "nn/rnn_scan.h"

#include <algorithm>
#include <memory>
#include <string>

#include "autograd/function.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "tensor/dense.h"
#include "tensor/loops.h"
#include "tensor/tensor_impl.h"

namespace sigma::nn::detail {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;
using sigma::detail::copy_elements;
using sigma::detail::data_of;
using sigma::detail::dispatch_floating;
using sigma::detail::gate_spec;
using sigma::detail::StepBuffers;

namespace {

// What one direction of a layer shares between its step nodes and its
// RecurrentStepsBackward node during a backward pass: the d gates of every
// step, allocated by the first step node that runs.
struct ScanState final : sigma::detail::GateGradSink {
  RecurrentKind kind = RecurrentKind::RnnTanh;
  std::int64_t T = 0, B = 0, GH = 0;
  ScalarType dtype = kFloat;
  Tensor dgh_all;  // [T, B, G*H] d (h W_hh^T) of every step (LSTM, RNN: also d gi)
  Tensor dgi_all;  // [T, B, G*H] GRU only
  std::vector<char> written;

  Tensor slot(const Tensor& buf, std::int64_t t) const {
    return make_view(buf, {B, GH}, {GH, 1}, buf.storage_offset() + t * B * GH);
  }
  void allocate() {
    dgh_all = make_tensor({T, B, GH}, dtype);
    if (kind == RecurrentKind::Gru) dgi_all = make_tensor({T, B, GH}, dtype);
    written.assign(static_cast<std::size_t>(T), 0);
  }
  // Marks step t as written for this pass (allocating on the first step).
  void claim(std::int64_t t) {
    if (!dgh_all.defined()) allocate();
    written[static_cast<std::size_t>(t)] = 1;
  }
  Tensor dgh(std::int64_t t) override {
    claim(t);
    return slot(dgh_all, t);
  }
  Tensor dgi(std::int64_t t) override {
    claim(t);
    return slot(kind == RecurrentKind::Gru ? dgi_all : dgh_all, t);
  }
};

// Sums the rows of g [N, C] (a product with a row of ones, through BLAS).
Tensor column_sums(const Tensor& g) {
  const std::int64_t n = g.size(0);
  return mm(ones({1, n}, dtype(g.dtype())), g).view({g.size(1)});
}

// Splits gi [T, B, G*H] into its steps; the backward gives d gi from the
// step nodes' buffer, and d W_hh, d b_ih and d b_hh over all steps at once.
struct RecurrentStepsBackward final : autograd::Node {
  std::shared_ptr<ScanState> scan;
  SavedVariable output;  // [T, B, D*H], the layer's h of every step
  SavedVariable h0;      // [B, H] or undefined (zero)
  std::int64_t dir = 0, D = 1, H = 0;
  std::string name() const override { return "RecurrentStepsBackward"; }
  void release_variables() override {
    output.reset();
    h0.reset();
  }
  TensorList apply(TensorList&& g) override {
    ScanState& st = *scan;
    const std::int64_t T = st.T, B = st.B, GH = st.GH;
    const bool gru = st.kind == RecurrentKind::Gru;
    // No step node ran in this pass when nothing was allocated (they all
    // write their slot); steps that did not run contribute zeros.
    if (!st.dgh_all.defined()) st.allocate();
    for (std::int64_t t = 0; t < T; ++t)
      if (!st.written[static_cast<std::size_t>(t)])
        dispatch_floating("RecurrentStepsBackward", st.dtype, [&](auto tag) {
          using T_ = typename decltype(tag)::type;
          std::fill_n(data_of<T_>(st.dgh_all) + t * B * GH, B * GH, T_(0));
        });
    Tensor dgh = st.dgh_all;
    Tensor dgi = gru ? st.dgi_all : st.dgh_all;
    bool shared = !gru;
    for (std::int64_t t = 0; t < T; ++t) {
      Tensor slot = st.slot(dgi, t);
      const Tensor& gt = g[static_cast<std::size_t>(t)];
      const TensorImpl* a = gt.unsafeGetTensorImpl();
      const TensorImpl* s = slot.unsafeGetTensorImpl();
      if (st.written[static_cast<std::size_t>(t)] && a->storage == s->storage &&
          a->offset == s->offset && a->strides == s->strides)
        continue;
      // Another contribution was added to this step's gradient.
      if (shared) {
        dgi = dgh.clone();
        shared = false;
        slot = st.slot(dgi, t);
      }
      copy_elements(slot, gt);
    }
    st.dgh_all = Tensor();
    st.dgi_all = Tensor();
    st.written.clear();

    Tensor dw;
    if (next_edges()[1].is_valid()) {
      const Tensor out = output.unpack(this);
      const Tensor hinit = h0.unpack(this);
      const std::int64_t DH = D * H;
      // Step at time t used h_prev = h(t - 1) (forward) or h(t + 1) (reverse);
      // the first step used h0.
      const std::int64_t first = dir == 0 ? 0 : T - 1;
      if (T > 1) {
        const std::int64_t g_from = dir == 0 ? 1 : 0, h_from = dir == 0 ? 0 : 1;
        const Tensor gm = make_view(dgh, {(T - 1) * B, GH}, {GH, 1},
                                    dgh.storage_offset() + g_from * B * GH);
        const Tensor hm = make_view(out, {(T - 1) * B, H}, {DH, 1},
                                    out.storage_offset() + h_from * B * DH + dir * H);
        dw = mm(gm.t(), hm);
      }
      if (hinit.defined()) {
        const Tensor g0 = st.slot(dgh, first);
        Tensor w0 = mm(g0.t(), hinit);
        dw = dw.defined() ? dw.add_(w0) : w0;
      }
      if (!dw.defined()) dw = zeros({GH, H}, dtype(st.dtype));
    }
    Tensor dbi, dbh;
    if (next_edges()[2].is_valid()) dbi = column_sums(dgi.view({T * B, GH}));
    if (next_edges()[3].is_valid())
      dbh = !gru && dbi.defined() ? dbi : column_sums(dgh.view({T * B, GH}));
    return {next_edges()[0].is_valid() ? dgi : Tensor(), dw, dbi, dbh};
  }
};

// out's gradient handed to each step's h: views, no copies.
struct RecurrentOutputBackward final : autograd::Node {
  std::int64_t D = 1, T = 0, H = 0;
  std::string name() const override { return "RecurrentOutputBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor& go = g[0];  // [T, B, D*H]
    TensorList out;
    out.reserve(static_cast<std::size_t>(D * T));
    for (std::int64_t d = 0; d < D; ++d)
      for (std::int64_t t = 0; t < T; ++t)
        out.push_back(make_view(go, {go.size(1), H}, {go.stride(1), go.stride(2)},
                                go.storage_offset() + t * go.stride(0) + d * H * go.stride(2)));
    return out;
  }
};

}  // namespace

RecurrentLayerResult recurrent_layer(RecurrentKind kind, const std::vector<Tensor>& gi,
                                     const std::vector<Tensor>& w_hh,
                                     const std::vector<Tensor>& b_ih,
                                     const std::vector<Tensor>& b_hh,
                                     const std::vector<Tensor>& h0,
                                     const std::vector<Tensor>& c0) {
  const std::int64_t D = static_cast<std::int64_t>(gi.size());
  const std::int64_t T = gi[0].size(0), B = gi[0].size(1), GH = gi[0].size(2);
  const std::int64_t H = w_hh[0].size(1);
  const ScalarType dt = gi[0].dtype();
  const bool lstm = kind == RecurrentKind::Lstm, gru = kind == RecurrentKind::Gru;
  const bool relu = kind == RecurrentKind::RnnRelu;

  RecurrentLayerResult res;
  Tensor out = make_tensor({T, B, D * H}, dt);
  // Per direction and step: the cell's workspace, and c for LSTM.
  const std::int64_t rows = gate_spec(kind).work_rows;
  Tensor work = rows ? make_tensor({D, T, rows, B, H}, dt) : Tensor();
  Tensor cbuf = lstm ? make_tensor({D, T, B, H}, dt) : Tensor();
  std::vector<Tensor> hs(static_cast<std::size_t>(D * T));
  std::vector<std::shared_ptr<RecurrentStepsBackward>> scans;
  bool any_grad = false;

  for (std::int64_t d = 0; d < D; ++d) {
    const auto ud = static_cast<std::size_t>(d);
    const Tensor gid = gi[ud].contiguous();  // [T, B, G*H]
    auto steps_node = make_node<RecurrentStepsBackward>({&gid, &w_hh[ud], &b_ih[ud], &b_hh[ud]});
    // The biases' values without their history (the steps node gives their
    // gradients): LSTM and RNN add b_ih + b_hh once per step, GRU keeps them apart.
    Tensor bias, bias_ih, bias_hh;
    {
      NoGradGuard no_grad;
      const Tensor bi = b_ih[ud].defined() ? b_ih[ud].detach().contiguous() : Tensor();
      const Tensor bh = b_hh[ud].defined() ? b_hh[ud].detach().contiguous() : Tensor();
      if (gru) {
        bias_ih = bi;
        bias_hh = bh;
      } else {
        bias = bi.defined() && bh.defined() ? bi + bh : (bi.defined() ? bi : bh);
      }
    }
    std::shared_ptr<ScanState> state;
    if (steps_node) {
      state = std::make_shared<ScanState>();
      state->kind = kind;
      state->T = T;
      state->B = B;
      state->GH = GH;
      state->dtype = dt;
      steps_node->scan = state;
      steps_node->dir = d;
      steps_node->D = D;
      steps_node->H = H;
      steps_node->h0 = SavedVariable(h0[ud]);
      scans.push_back(steps_node);
    }
    std::vector<Tensor> steps(static_cast<std::size_t>(T));
    for (std::int64_t t = 0; t < T; ++t) {
      Tensor s = make_view(gid, {B, GH}, {GH, 1}, gid.storage_offset() + t * B * GH);
      if (steps_node) set_history(s, steps_node);
      steps[static_cast<std::size_t>(t)] = std::move(s);
    }
    const Tensor w_t = w_hh[ud].detach().t();  // [H, G*H]
    Tensor h = h0[ud], c = lstm ? c0[ud] : Tensor();
    for (std::int64_t s = 0; s < T; ++s) {
      const std::int64_t t = d == 0 ? s : T - 1 - s;
      const Tensor gh = h.defined() ? mm(h, w_t) : Tensor();
      const Tensor& git = steps[static_cast<std::size_t>(t)];
      const std::int64_t step_index = d * T + t;
      StepBuffers buf;
      buf.h_out = make_view(out, {B, H}, {D * H, 1}, t * B * D * H + d * H);
      if (rows) buf.work = make_view(work, {rows, B, H}, {B * H, H, 1}, step_index * rows * B * H);
      buf.sink = state;
      buf.t = t;
      if (lstm) {
        buf.c_out = make_view(cbuf, {B, H}, {H, 1}, step_index * B * H);
        auto [hn, cn] = sigma::detail::lstm_step(git, gh, c, bias, std::move(buf));
        h = std::move(hn);
        c = std::move(cn);
      } else if (gru) {
        h = sigma::detail::gru_step(git, gh, h, bias_ih, bias_hh, false, std::move(buf));
      } else {
        h = sigma::detail::rnn_step(git, gh, bias, relu, std::move(buf));
      }
      any_grad = any_grad || autograd::requires_grad(h);
      hs[static_cast<std::size_t>(step_index)] = h;
    }
    res.h_n.push_back(h);
    if (lstm) res.c_n.push_back(c);
  }
  if (any_grad && GradMode::is_enabled()) {
    auto node = std::make_shared<RecurrentOutputBackward>();
    node->D = D;
    node->T = T;
    node->H = H;
    node->mutable_next_edges().reserve(hs.size());
    for (const Tensor& h : hs) node->mutable_next_edges().push_back(autograd::gradient_edge(h));
    set_history(out, node);
  }
  for (auto& n : scans) n->output = SavedVariable(out);
  res.output = out;
  return res;
}

}  // namespace sigma::nn::detail
