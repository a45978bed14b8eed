// rnn_cell.cpp: fused point-wise gate ops of the LSTM, GRU and Elman cells
// with their backward nodes (the time loop of a layer is nn/rnn_scan.cpp).
//
// Legend: B batch, H hidden size, G gates (LSTM 4: i f g o; GRU 3: r z n;
// RNN 1). A forward pass gathers the gate pre-activations into a gate-major
// workspace [rows, B, H] (GateSpec::work_rows) so each gate is one contiguous
// span for the sigmoid / tanh kernels of the kernel table; the workspace keeps
// the activations and what the backward node differentiates from: a sigmoid
// gate's derivative, computed with its activation from one exp, and the other
// gates' pre-activations (gate_backward). Inside a layer the backward writes
// d gates into the layer's buffers through a GateGradSink instead of
// allocating them.
#include "ops/rnn_cell.h"

#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "autograd/function.h"
#include "kernels/table.h"
#include "sigma/op_list.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "tensor/dense.h"
#include "tensor/loops.h"

namespace sigma::detail {

using autograd::make_node;
using autograd::SavedVariable;
using autograd::set_history;

namespace {

// t when its rows have unit element stride, else a contiguous copy of its
// data (no autograd). Undefined stays undefined.
Tensor unit_rows(const Tensor& t) {
  if (!t.defined() || t.dim() < 2 || t.size(1) <= 1 || t.stride(1) == 1) return t;
  Tensor c = make_tensor(t.sizes(), t.dtype());
  copy_elements(c, t);
  return c;
}
// Row stride of a 2-D tensor with unit-stride rows.
std::int64_t ld(const Tensor& t) { return t.defined() && t.size(0) > 1 ? t.stride(0) : 0; }

// Row b of a [B, X] tensor as a pointer (nullptr for an undefined tensor).
template <class T> struct Rows {
  T* p = nullptr;
  std::int64_t stride = 0;
  explicit Rows(const Tensor& t) : p(data_of<T>(t)), stride(ld(t)) {}
  T* operator[](std::int64_t b) const { return p ? p + b * stride : nullptr; }
};

// ---- A gate's activation and its derivative on n elements.

// y = act(x) with the kernel table's sigmoid / tanh (y may be x for tanh and
// relu); relu keeps NaN, as sigma::relu. A sigmoid gate also overwrites x
// with its derivative s(x) s(-x), from the same exp, for gate_backward.
template <class T> void gate_forward(GateAct act, T* x, T* y, std::int64_t n, Device dev) {
  const auto N = static_cast<std::size_t>(n);
  const std::span<const T> xs(x, N);
  const std::span<T> ys(y, N);
  switch (act) {
    case GateAct::Sigmoid: sigmoid_and_derivative_kernel<T>(dev)(xs, ys, std::span<T>(x, N)); return;
    case GateAct::Tanh: unary_kernel<T>(Op::tanh, dev)(xs, ys, KernelParams{}); return;
    case GateAct::Relu:
      for (std::int64_t j = 0; j < n; ++j) y[j] = x[j] > T(0) ? x[j] : (x[j] == x[j] ? T(0) : x[j]);
      return;
  }
}

// d *= act'(x) in place, in the exact forms the activations use
// (ops/activation.cpp) where y(1 - y) and 1 - y^2 would cancel. saved: for
// a sigmoid gate the derivative s(x) s(-x) that gate_forward left in place of
// x (the product takes the first NaN, dy then the saved value, as the
// kernels do; so the bits are those of sigmoid_backward_from_input on x);
// for tanh the pre-activation x, tanh' = 4 s(2x) s(-2x) through that kernel;
// for relu x, relu' = [x > 0]. scratch: n elements.
template <class T>
void gate_backward(GateAct act, T* d, const T* saved, std::int64_t n, T* scratch, Device dev) {
  const auto N = static_cast<std::size_t>(n);
  const std::span<T> ds(d, N);
  switch (act) {
    case GateAct::Sigmoid:
      sigmoid_backward_from_derivative_kernel<T>(dev)(ds, std::span<const T>(saved, N), ds);
      return;
    case GateAct::Tanh:
      // 2x overflowing to inf gives 0, the underflowed true value; the
      // factor 4 after the kernel cannot overflow (s(2x) s(-2x) <= 1/4).
      for (std::int64_t j = 0; j < n; ++j) scratch[j] = T(2) * saved[j];
      binary_kernel<T>(Op::sigmoid_backward_from_input, dev)(ds, std::span<const T>(scratch, N),
                                                             ds, KernelParams{});
      for (std::int64_t j = 0; j < n; ++j) d[j] *= T(4);
      return;
    case GateAct::Relu:
      for (std::int64_t j = 0; j < n; ++j) d[j] = saved[j] > T(0) ? d[j] : T(0);
      return;
  }
}

[[noreturn]] void throw_shape(const char* op, const char* what, const Tensor& t,
                              const std::string& expected) {
  throw Error(std::string(op) + ": " + what + " has shape " + shape_string(t.sizes()) +
              ", expected " + expected);
}

std::string shape2(std::int64_t a, std::int64_t b) {
  return shape_string(std::vector<std::int64_t>{a, b});
}

// Checks a 2-D [B, width] operand (skipped when undefined) of the reference's dtype.
void check_operand(const char* op, const char* what, const Tensor& t, std::int64_t B,
                   std::int64_t width, ScalarType dtype) {
  if (!t.defined()) return;
  if (t.dim() != 2 || t.size(0) != B || t.size(1) != width)
    throw_shape(op, what, t, shape2(B, width));
  if (t.dtype() != dtype)
    throw Error(std::string(op) + ": " + what + " has dtype " + to_string(t.dtype()) +
                ", expected " + to_string(dtype) + " as the gates");
}

// Checks a cell's operands: gi [B, G*H] float32 / float64, gh [B, G*H] and
// the previous state [B, H] (each skipped when undefined). Returns H.
std::int64_t check_cell(const char* op, RecurrentKind kind, const Tensor& gi, const Tensor& gh,
                        const Tensor& state, const char* state_name) {
  const std::int64_t G = gate_spec(kind).gates;
  if (!gi.defined()) throw Error(std::string(op) + ": the gates are undefined");
  if (gi.dim() != 2 || gi.size(1) % G != 0)
    throw Error(std::string(op) + ": gates of shape " + shape_string(gi.sizes()) +
                " are not [B, " + std::to_string(G) + "*H]");
  if (gi.dtype() != kFloat && gi.dtype() != kDouble)
    throw_dtype(op, gi.dtype(), "float32 or float64");
  const std::int64_t B = gi.size(0), H = gi.size(1) / G;
  check_operand(op, "gh", gh, B, G * H, gi.dtype());
  check_operand(op, state_name, state, B, H, gi.dtype());
  return H;
}

// A step's workspace: the given view, or a new [work_rows, B, H] tensor.
Tensor workspace(Tensor work, RecurrentKind kind, std::int64_t B, std::int64_t H, ScalarType dt) {
  const std::int64_t rows = gate_spec(kind).work_rows;
  if (work.defined() || rows == 0) return work;
  return make_tensor({rows, B, H}, dt);
}

// What every cell's backward node holds: the workspace, the previous state
// (c for LSTM, h for GRU; none for RNN), and where its d gates go inside a
// layer.
struct CellBackward : autograd::Node {
  SavedVariable act;   // the workspace [work_rows, B, H]
  SavedVariable prev;  // [B, H] or undefined (zero)
  std::int64_t B = 0, H = 0;
  std::shared_ptr<GateGradSink> sink;
  std::int64_t t = 0;
  void release_variables() override {
    act.reset();
    prev.reset();
  }
  // d gh's buffer [B, G*H]: the layer's slot for this step, or a new tensor.
  Tensor dgh_buffer(RecurrentKind kind, ScalarType dt) const {
    return sink ? sink->dgh(t) : make_tensor({B, gate_spec(kind).gates * H}, dt);
  }
  // d prev [B, H] when the previous state (input 2) needs it, else undefined.
  Tensor dprev_buffer(ScalarType dt) const {
    return next_edges()[2].is_valid() ? make_tensor({B, H}, dt) : Tensor();
  }
};

// Fills in what CellBackward holds.
template <class N>
void record(const std::shared_ptr<N>& node, const Tensor& work, const Tensor& prev,
            std::int64_t B, std::int64_t H, const StepBuffers& buf) {
  node->act = SavedVariable(work);
  node->prev = SavedVariable(prev);
  node->B = B;
  node->H = H;
  node->sink = buf.sink;
  node->t = buf.t;
}

// The backward nodes gather each gate's d activation gate-major ([G, B, H],
// as the workspace) so gate_backward runs once per gate over B*H elements,
// then copy the d pre-activations into the rows of d gates [B, G*H].

// Copies gate-major dpre [G, B, H] into the rows of dgates [B, G*H].
template <class T>
void scatter_rows(const T* dpre, const Rows<T>& dgates, std::int64_t G, std::int64_t B,
                  std::int64_t H) {
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t k = 0; k < G; ++k) std::copy_n(dpre + (k * B + b) * H, H, dgates[b] + k * H);
}

// ---- LSTM. Workspace rows: i f g o | tanh(c) | i' f' (g's pre-activation) o' | c.
struct LstmCellPointwiseBackward final : CellBackward {
  std::string name() const override { return "LstmCellPointwiseBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor a = act.unpack(this);
    const Tensor cp = unit_rows(prev.unpack(this));
    const Tensor dh = unit_rows(g[0]), dc = unit_rows(g[1]);
    const std::int64_t BH = B * H;
    const Tensor dgates = dgh_buffer(RecurrentKind::Lstm, a.dtype());
    const Tensor dcp = dprev_buffer(a.dtype());
    const GateSpec& spec = gate_spec(RecurrentKind::Lstm);
    dispatch_floating("lstm_cell_pointwise", a.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* ap = data_of<T>(a);
      const T* pre = ap + 5 * BH;  // gate k's saved row (derivative or pre-activation)
      const T* c = pre + 4 * BH;
      const Rows<const T> cpr(cp), dhr(dh), dcr(dc);
      const Rows<T> dcpr(dcp);
      const std::unique_ptr<T[]> buf(new T[static_cast<std::size_t>(6 * BH)]);  // uninitialised
      T* dact = buf.get();          // [4, B, H]
      T* dct = dact + 4 * BH;        // [B, H] d c
      T* scratch = dct + BH;         // [B, H]
      // d c = dc + tanh'(c) dh o
      for (std::int64_t b = 0; b < B; ++b) {
        const T* o = ap + 3 * BH + b * H;
        const T* dhb = dhr[b];
        for (std::int64_t j = 0; j < H; ++j) dct[b * H + j] = dhb[j] * o[j];
      }
      gate_backward(GateAct::Tanh, dct, c, BH, scratch, a.device());
      for (std::int64_t b = 0; b < B; ++b) {
        const std::int64_t r = b * H;
        const T* i = ap + r;
        const T* f = i + BH;
        const T* gg = f + BH;
        const T* tc = gg + 2 * BH;
        const T* cprev = cpr[b];
        const T* dhb = dhr[b];
        const T* dcb = dcr[b];
        T* dcpb = dcpr[b];
        for (std::int64_t j = 0; j < H; ++j) {
          const T d = dct[r + j] + dcb[j];
          dact[r + j] = d * gg[j];
          dact[BH + r + j] = cprev ? d * cprev[j] : T(0);
          dact[2 * BH + r + j] = d * i[j];
          dact[3 * BH + r + j] = dhb[j] * tc[j];
          if (dcpb) dcpb[j] = d * f[j];
        }
      }
      for (std::int64_t k = 0; k < 4; ++k)
        gate_backward(spec.act[static_cast<std::size_t>(k)], dact + k * BH, pre + k * BH, BH,
                      scratch, a.device());
      scatter_rows(dact, Rows<T>(dgates), 4, B, H);
    });
    return {dgates, next_edges()[1].is_valid() ? dgates : Tensor(), dcp};
  }
};

// ---- GRU. Workspace rows: r z n | gh_n (+ b_hn) | r' z' (n's pre-activation).
struct GruCellPointwiseBackward final : CellBackward {
  std::string name() const override { return "GruCellPointwiseBackward"; }
  TensorList apply(TensorList&& g) override {
    const Tensor a = act.unpack(this);
    const Tensor hp = unit_rows(prev.unpack(this));
    const Tensor dh = unit_rows(g[0]);
    const std::int64_t BH = B * H;
    const bool need_gh = sink || next_edges()[1].is_valid() || next_edges()[3].is_valid();
    const Tensor dgi = sink ? sink->dgi(t) : make_tensor({B, 3 * H}, a.dtype());
    const Tensor dgh = need_gh ? dgh_buffer(RecurrentKind::Gru, a.dtype()) : Tensor();
    const Tensor dhp = dprev_buffer(a.dtype());
    const GateSpec& spec = gate_spec(RecurrentKind::Gru);
    dispatch_floating("gru_cell_pointwise", a.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* ap = data_of<T>(a);
      const Rows<const T> hpr(hp), dhr(dh);
      const T* pre = ap + 4 * BH;  // gate k's saved row (derivative or pre-activation)
      const Rows<T> dgir(dgi), dghr(dgh), dhpr(dhp);
      const std::unique_ptr<T[]> buf(new T[static_cast<std::size_t>(4 * BH)]);  // uninitialised
      T* dact = buf.get();  // [3, B, H]
      T* scratch = dact + 3 * BH;
      // d n first: the reset gate's gradient goes through it.
      for (std::int64_t b = 0; b < B; ++b) {
        const T* z = ap + BH + b * H;
        const T* dhb = dhr[b];
        for (std::int64_t j = 0; j < H; ++j) dact[2 * BH + b * H + j] = dhb[j] * (T(1) - z[j]);
      }
      gate_backward(spec.act[2], dact + 2 * BH, pre + 2 * BH, BH, scratch, a.device());
      for (std::int64_t b = 0; b < B; ++b) {
        const std::int64_t r = b * H;
        const T* z = ap + BH + r;
        const T* n = z + BH;
        const T* ghn = n + BH;
        const T* hpb = hpr[b];
        const T* dhb = dhr[b];
        T* dhpb = dhpr[b];
        for (std::int64_t j = 0; j < H; ++j) {
          const T hpj = hpb ? hpb[j] : T(0);
          dact[r + j] = dact[2 * BH + r + j] * ghn[j];
          dact[BH + r + j] = dhb[j] * (hpj - n[j]);
          if (dhpb) dhpb[j] = dhb[j] * z[j];
        }
      }
      for (std::int64_t k = 0; k < 2; ++k)
        gate_backward(spec.act[static_cast<std::size_t>(k)], dact + k * BH, pre + k * BH, BH,
                      scratch, a.device());
      scatter_rows(dact, dgir, 3, B, H);
      if (dgh.defined())
        for (std::int64_t b = 0; b < B; ++b) {
          const T* rg = ap + b * H;
          const T* dgib = dgir[b];
          T* dghb = dghr[b];
          std::copy_n(dgib, 2 * H, dghb);
          for (std::int64_t j = 0; j < H; ++j) dghb[2 * H + j] = dgib[2 * H + j] * rg[j];
        }
    });
    Tensor dbias;
    if (!sink && next_edges()[3].is_valid()) dbias = sigma::sum(dgh, {0});
    return {dgi, next_edges()[1].is_valid() ? dgh : Tensor(), dhp, dbias};
  }
};

// ---- Elman RNN. Workspace row: the pre-activation.
struct RnnCellPointwiseBackward final : CellBackward {
  RecurrentKind kind = RecurrentKind::RnnTanh;
  std::string name() const override {
    return kind == RecurrentKind::RnnRelu ? "RnnReluCellPointwiseBackward"
                                          : "RnnTanhCellPointwiseBackward";
  }
  TensorList apply(TensorList&& g) override {
    const Tensor pre = act.unpack(this);
    const Tensor dh = unit_rows(g[0]);
    const Tensor dpre = dgh_buffer(kind, pre.dtype());
    const std::int64_t BH = B * H;
    dispatch_floating("rnn_cell_pointwise", pre.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const Rows<const T> dhr(dh);
      const std::unique_ptr<T[]> buf(new T[static_cast<std::size_t>(2 * BH)]);  // uninitialised
      T* dact = buf.get();  // [B, H]
      for (std::int64_t b = 0; b < B; ++b) std::copy_n(dhr[b], H, dact + b * H);
      gate_backward(gate_spec(kind).act[0], dact, data_of<T>(pre), BH, dact + BH, pre.device());
      scatter_rows(dact, Rows<T>(dpre), 1, B, H);
    });
    return {dpre, next_edges()[1].is_valid() ? dpre : Tensor()};
  }
};

}  // namespace

std::tuple<Tensor, Tensor> lstm_step(const Tensor& gi, const Tensor& gh, const Tensor& c_prev,
                                     const Tensor& bias, StepBuffers buf) {
  const std::int64_t B = gi.size(0), H = gi.size(1) / 4, BH = B * H;
  const ScalarType dt = gi.dtype();
  Tensor h_out = buf.h_out.defined() ? buf.h_out : make_tensor({B, H}, dt);
  Tensor c_out = buf.c_out.defined() ? buf.c_out : make_tensor({B, H}, dt);
  const Tensor work = workspace(buf.work, RecurrentKind::Lstm, B, H, dt);
  const Tensor gi_r = unit_rows(gi), gh_r = unit_rows(gh), cp = unit_rows(c_prev);
  const GateSpec& spec = gate_spec(RecurrentKind::Lstm);
  dispatch_floating("lstm_cell_pointwise", dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* w = data_of<T>(work);
    T* pre = w + 5 * BH;
    T* c = pre + 4 * BH;
    const Rows<const T> gir(gi_r), ghr(gh_r), cpr(cp);
    const Rows<T> hr(h_out);
    const T* bp = data_of<const T>(bias);
    for (std::int64_t b = 0; b < B; ++b) {
      const T* x = gir[b];
      const T* y = ghr[b];
      for (std::int64_t k = 0; k < 4; ++k) {
        T* dst = pre + k * BH + b * H;
        const T* xk = x + k * H;
        const T* bk = bp ? bp + k * H : nullptr;
        if (y && bk)
          for (std::int64_t j = 0; j < H; ++j) dst[j] = (xk[j] + bk[j]) + y[k * H + j];
        else if (y)
          for (std::int64_t j = 0; j < H; ++j) dst[j] = xk[j] + y[k * H + j];
        else if (bk)
          for (std::int64_t j = 0; j < H; ++j) dst[j] = xk[j] + bk[j];
        else
          std::copy_n(xk, H, dst);
      }
    }
    for (std::int64_t k = 0; k < 4; ++k)
      gate_forward(spec.act[static_cast<std::size_t>(k)], pre + k * BH, w + k * BH, BH,
                   gi.device());
    for (std::int64_t b = 0; b < B; ++b) {
      const T* i = w + b * H;
      const T* f = i + BH;
      const T* g = f + BH;
      const T* cprev = cpr[b];
      T* cb = c + b * H;
      for (std::int64_t j = 0; j < H; ++j)
        cb[j] = cprev ? f[j] * cprev[j] + i[j] * g[j] : i[j] * g[j];
    }
    T* tc = w + 4 * BH;
    gate_forward(GateAct::Tanh, c, tc, BH, gi.device());
    std::copy_n(c, BH, data_of<T>(c_out));  // c_out: contiguous [B, H]
    for (std::int64_t b = 0; b < B; ++b) {
      const T* o = w + 3 * BH + b * H;
      const T* tcb = tc + b * H;
      T* hb = hr[b];
      for (std::int64_t j = 0; j < H; ++j) hb[j] = o[j] * tcb[j];
    }
  });
  if (auto node = make_node<LstmCellPointwiseBackward>({&gi, &gh, &c_prev})) {
    record(node, work, c_prev, B, H, buf);
    set_history(h_out, node);
    set_history(c_out, node);
  }
  return {h_out, c_out};
}

Tensor gru_step(const Tensor& gi, const Tensor& gh, const Tensor& h_prev, const Tensor& bias_ih,
                const Tensor& bias_hh, bool bias_edge, StepBuffers buf) {
  const std::int64_t B = gi.size(0), H = gi.size(1) / 3, BH = B * H;
  const ScalarType dt = gi.dtype();
  Tensor h_out = buf.h_out.defined() ? buf.h_out : make_tensor({B, H}, dt);
  const Tensor work = workspace(buf.work, RecurrentKind::Gru, B, H, dt);
  const Tensor gi_r = unit_rows(gi), gh_r = unit_rows(gh), hp = unit_rows(h_prev);
  const Tensor bias = bias_hh.defined() ? bias_hh.contiguous() : Tensor();
  const GateSpec& spec = gate_spec(RecurrentKind::Gru);
  dispatch_floating("gru_cell_pointwise", dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* w = data_of<T>(work);
    T* pre = w + 4 * BH;  // gate k's pre-activation row: pre + k * BH
    const T* bp = data_of<const T>(bias);
    const T* bi = data_of<const T>(bias_ih);
    const Rows<const T> gir(gi_r), ghr(gh_r), hpr(hp);
    const Rows<T> hr(h_out);
    for (std::int64_t b = 0; b < B; ++b) {
      const T* x = gir[b];
      const T* y = ghr[b];
      T* r = pre + b * H;
      T* z = r + BH;
      T* n = z + BH;
      T* ghn = w + 3 * BH + b * H;
      for (std::int64_t j = 0; j < H; ++j) {
        T hr_ = y ? y[j] : T(0), hz = y ? y[H + j] : T(0), hn = y ? y[2 * H + j] : T(0);
        T xr = x[j], xz = x[H + j], xn = x[2 * H + j];
        if (bp) {
          hr_ += bp[j];
          hz += bp[H + j];
          hn += bp[2 * H + j];
        }
        if (bi) {
          xr += bi[j];
          xz += bi[H + j];
          xn += bi[2 * H + j];
        }
        r[j] = xr + hr_;
        z[j] = xz + hz;
        n[j] = xn;  // gi_n (+ b_in) until the reset gate is known
        ghn[j] = hn;
      }
    }
    for (std::int64_t k = 0; k < 2; ++k)  // r, z
      gate_forward(spec.act[static_cast<std::size_t>(k)], pre + k * BH, w + k * BH, BH,
                   gi.device());
    for (std::int64_t b = 0; b < B; ++b) {
      const T* r = w + b * H;
      const T* ghn = w + 3 * BH + b * H;
      T* n = pre + 2 * BH + b * H;
      for (std::int64_t j = 0; j < H; ++j) n[j] += r[j] * ghn[j];
    }
    gate_forward(spec.act[2], pre + 2 * BH, w + 2 * BH, BH, gi.device());  // n
    for (std::int64_t b = 0; b < B; ++b) {
      const T* z = w + BH + b * H;
      const T* n = z + BH;
      const T* hpb = hpr[b];
      T* hb = hr[b];
      // n + z (h_prev - n), as PyTorch.
      for (std::int64_t j = 0; j < H; ++j) hb[j] = n[j] + z[j] * ((hpb ? hpb[j] : T(0)) - n[j]);
    }
  });
  const Tensor no_bias;
  if (auto node = make_node<GruCellPointwiseBackward>({&gi, &gh, &h_prev,
                                                       bias_edge ? &bias_hh : &no_bias})) {
    record(node, work, h_prev, B, H, buf);
    set_history(h_out, node);
  }
  return h_out;
}

Tensor rnn_step(const Tensor& gi, const Tensor& gh, const Tensor& bias, bool relu,
                StepBuffers buf) {
  const RecurrentKind kind = relu ? RecurrentKind::RnnRelu : RecurrentKind::RnnTanh;
  const std::int64_t B = gi.size(0), H = gi.size(1);
  const ScalarType dt = gi.dtype();
  Tensor h_out = buf.h_out.defined() ? buf.h_out : make_tensor({B, H}, dt);
  const Tensor work = workspace(buf.work, kind, B, H, dt);
  const Tensor gi_r = unit_rows(gi), gh_r = unit_rows(gh);
  dispatch_floating("rnn_cell_pointwise", dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Rows<const T> gir(gi_r), ghr(gh_r);
    const Rows<T> hr(h_out);
    const T* bp = data_of<const T>(bias);
    T* pre = data_of<T>(work);  // [B, H]
    for (std::int64_t b = 0; b < B; ++b) {
      const T* x = gir[b];
      const T* y = ghr[b];
      T* p = pre + b * H;
      for (std::int64_t j = 0; j < H; ++j) p[j] = x[j];
      if (bp)
        for (std::int64_t j = 0; j < H; ++j) p[j] += bp[j];
      if (y)
        for (std::int64_t j = 0; j < H; ++j) p[j] += y[j];
      gate_forward(gate_spec(kind).act[0], p, hr[b], H, gi.device());
    }
  });
  if (auto node = make_node<RnnCellPointwiseBackward>({&gi, &gh})) {
    record(node, work, Tensor(), B, H, buf);
    node->kind = kind;
    set_history(h_out, node);
  }
  return h_out;
}

std::tuple<Tensor, Tensor> lstm_cell_pointwise(const Tensor& gi, const Tensor& gh,
                                               const Tensor& c_prev) {
  check_cell("lstm_cell_pointwise", RecurrentKind::Lstm, gi, gh, c_prev, "c_prev");
  return lstm_step(gi, gh, c_prev, {}, {});
}

Tensor gru_cell_pointwise(const Tensor& gi, const Tensor& gh, const Tensor& h_prev,
                          const Tensor& bias_hh) {
  const char* op = "gru_cell_pointwise";
  const std::int64_t H = check_cell(op, RecurrentKind::Gru, gi, gh, h_prev, "h_prev");
  if (bias_hh.defined()) {
    if (bias_hh.dim() != 1 || bias_hh.size(0) != 3 * H)
      throw_shape(op, "bias_hh", bias_hh, shape_string(std::vector<std::int64_t>{3 * H}));
    if (bias_hh.dtype() != gi.dtype())
      throw Error(std::string(op) + ": bias_hh has dtype " + to_string(bias_hh.dtype()) +
                  ", expected " + to_string(gi.dtype()) + " as the gates");
  }
  return gru_step(gi, gh, h_prev, {}, bias_hh, true, {});
}

Tensor rnn_cell_pointwise(const Tensor& gi, const Tensor& gh, bool relu) {
  check_cell("rnn_cell_pointwise", relu ? RecurrentKind::RnnRelu : RecurrentKind::RnnTanh, gi, gh,
             Tensor(), "h_prev");
  return rnn_step(gi, gh, {}, relu, {});
}

}  // namespace sigma::detail
