// rnn_cell.cpp: fused point-wise gate ops of the LSTM, GRU and Elman cells
// with their backward nodes, and the time loop of one recurrent layer.
//
// Legend: B batch, H hidden size, G gates (LSTM 4: i f g o; GRU 3: r z n;
// RNN 1), T time steps, D directions. A forward pass gathers the gate
// pre-activations into a gate-major workspace [G', B, H] so each gate is one
// contiguous span for the sigmoid / tanh kernels of sigma/kernels.h; the
// workspace keeps the activations the backward node reads.
//
// The layer loop (recurrent_layer) records, per direction, one node
// (RecurrentStepsBackward) that splits the input projection gi [T, B, G*H]
// into its steps and, in the backward pass, collects every step's d gates
// into one buffer (the point-wise nodes write there directly), so d gi needs
// no stacking and d W_hh = sum_t d gh_t^T h_{t-1} is one matrix product over
// all steps instead of T small ones. The per-step products h W_hh^T are
// ordinary mm ops on W_hh.detach() (their backward only gives d h).
#include "ops/rnn_cell.h"

#include <algorithm>
#include <memory>
#include <span>
#include <string>

#include "autograd/function.h"
#include "sigma/kernels.h"
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

template <class T> std::span<T> span_of(T* p, std::int64_t n) {
  return {p, static_cast<std::size_t>(n)};
}
template <class T> void sigmoid_inplace(T* p, std::int64_t n) {
  sigma::sigmoid(std::span<const T>(p, static_cast<std::size_t>(n)), span_of(p, n));
}
template <class T> void tanh_inplace(T* p, std::int64_t n) {
  sigma::tanh(std::span<const T>(p, static_cast<std::size_t>(n)), span_of(p, n));
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

void check_gates(const char* op, const Tensor& gi, std::int64_t G) {
  if (!gi.defined()) throw Error(std::string(op) + ": the gates are undefined");
  if (gi.dim() != 2 || gi.size(1) % G != 0)
    throw Error(std::string(op) + ": gates of shape " + shape_string(gi.sizes()) +
                " are not [B, " + std::to_string(G) + "*H]");
  if (gi.dtype() != kFloat && gi.dtype() != kDouble)
    throw_dtype(op, gi.dtype(), "float32 or float64");
}

// ---- What one direction of a layer shares between its step nodes and its
// RecurrentStepsBackward node during a backward pass.
struct ScanState {
  RecurrentKind kind;
  std::int64_t T = 0, B = 0, GH = 0;
  ScalarType dtype = kFloat;
  Tensor dgh;  // [T, B, G*H] d (h W_hh^T) of every step (LSTM, RNN: also d gi)
  Tensor dgi;  // [T, B, G*H] GRU only
  std::vector<char> written;

  Tensor slot(const Tensor& buf, std::int64_t t) const {
    return make_view(buf, {B, GH}, {GH, 1}, buf.storage_offset() + t * B * GH);
  }
  // The gradient slots of step t for this pass (allocated by the first step).
  void claim(std::int64_t t) {
    if (!dgh.defined()) {
      dgh = make_tensor({T, B, GH}, dtype);
      if (kind == RecurrentKind::Gru) dgi = make_tensor({T, B, GH}, dtype);
      written.assign(static_cast<std::size_t>(T), 0);
    }
    written[static_cast<std::size_t>(t)] = 1;
  }
};

// ---- LSTM.
struct LstmCellPointwiseBackward final : autograd::Node {
  SavedVariable act;     // [5, B, H]: i, f, g, o, tanh(c)
  SavedVariable c_prev;  // [B, H] or undefined (zero)
  std::int64_t B = 0, H = 0;
  std::shared_ptr<ScanState> scan;
  std::int64_t t = 0;
  std::string name() const override { return "LstmCellPointwiseBackward"; }
  void release_variables() override {
    act.reset();
    c_prev.reset();
  }
  TensorList apply(TensorList&& g) override {
    const Tensor a = act.unpack(this);
    const Tensor cp = unit_rows(c_prev.unpack(this));
    const Tensor dh = unit_rows(g[0]), dc = unit_rows(g[1]);
    const std::int64_t BH = B * H;
    Tensor dgates;
    if (scan) {
      scan->claim(t);
      dgates = scan->slot(scan->dgh, t);
    } else {
      dgates = make_tensor({B, 4 * H}, a.dtype());
    }
    Tensor dcp = next_edges()[2].is_valid() ? make_tensor({B, H}, a.dtype()) : Tensor();
    dispatch_floating("lstm_cell_pointwise", a.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* ap = data_of<T>(a);
      const Rows<const T> cpr(cp), dhr(dh), dcr(dc);
      const Rows<T> dgr(dgates), dcpr(dcp);
      for (std::int64_t b = 0; b < B; ++b) {
        const T* i = ap + b * H;
        const T* f = i + BH;
        const T* gg = f + BH;
        const T* o = gg + BH;
        const T* tc = o + BH;
        const T* cprev = cpr[b];
        const T* dhb = dhr[b];
        const T* dcb = dcr[b];
        T* dgb = dgr[b];
        T* dcpb = dcpr[b];
        for (std::int64_t j = 0; j < H; ++j) {
          const T dct = dcb[j] + dhb[j] * o[j] * (T(1) - tc[j] * tc[j]);
          const T cpj = cprev ? cprev[j] : T(0);
          dgb[j] = dct * gg[j] * i[j] * (T(1) - i[j]);
          dgb[H + j] = dct * cpj * f[j] * (T(1) - f[j]);
          dgb[2 * H + j] = dct * i[j] * (T(1) - gg[j] * gg[j]);
          dgb[3 * H + j] = dhb[j] * tc[j] * o[j] * (T(1) - o[j]);
          if (dcpb) dcpb[j] = dct * f[j];
        }
      }
    });
    return {dgates, next_edges()[1].is_valid() ? dgates : Tensor(), dcp};
  }
};

// h_out, c_out and work ([5, B, H] contiguous) may be given (views of a
// layer's buffers) or undefined (allocated here). bias [4H] (contiguous, or
// undefined) is added to the gates; its gradient is the caller's concern.
std::tuple<Tensor, Tensor> lstm_step(const Tensor& gi, const Tensor& gh, const Tensor& c_prev,
                                     const Tensor& bias, Tensor h_out, Tensor c_out, Tensor work,
                                     const std::shared_ptr<ScanState>& scan, std::int64_t t) {
  const std::int64_t B = gi.size(0), H = gi.size(1) / 4, BH = B * H;
  const ScalarType dt = gi.dtype();
  if (!h_out.defined()) h_out = make_tensor({B, H}, dt);
  if (!c_out.defined()) c_out = make_tensor({B, H}, dt);
  if (!work.defined()) work = make_tensor({5, B, H}, dt);
  const Tensor gi_r = unit_rows(gi), gh_r = unit_rows(gh), cp = unit_rows(c_prev);
  dispatch_floating("lstm_cell_pointwise", dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* w = data_of<T>(work);
    const Rows<const T> gir(gi_r), ghr(gh_r), cpr(cp);
    const Rows<T> hr(h_out);
    T* c = data_of<T>(c_out);  // contiguous [B, H]
    const T* bp = data_of<const T>(bias);
    for (std::int64_t b = 0; b < B; ++b) {
      const T* x = gir[b];
      const T* y = ghr[b];
      for (std::int64_t k = 0; k < 4; ++k) {
        T* dst = w + k * BH + b * H;
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
    sigmoid_inplace(w, 2 * BH);        // i, f
    tanh_inplace(w + 2 * BH, BH);      // g
    sigmoid_inplace(w + 3 * BH, BH);   // o
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
    sigma::tanh(std::span<const T>(c, static_cast<std::size_t>(BH)), span_of(tc, BH));
    for (std::int64_t b = 0; b < B; ++b) {
      const T* o = w + 3 * BH + b * H;
      const T* tcb = tc + b * H;
      T* hb = hr[b];
      for (std::int64_t j = 0; j < H; ++j) hb[j] = o[j] * tcb[j];
    }
  });
  if (auto node = make_node<LstmCellPointwiseBackward>({&gi, &gh, &c_prev})) {
    node->act = SavedVariable(work);
    node->c_prev = SavedVariable(c_prev);
    node->B = B;
    node->H = H;
    node->scan = scan;
    node->t = t;
    set_history(h_out, node);
    set_history(c_out, node);
  }
  return {h_out, c_out};
}

// ---- GRU.
struct GruCellPointwiseBackward final : autograd::Node {
  SavedVariable act;     // [4, B, H]: r, z, n, gh_n (+ b_hn)
  SavedVariable h_prev;  // [B, H] or undefined (zero)
  std::int64_t B = 0, H = 0;
  std::shared_ptr<ScanState> scan;
  std::int64_t t = 0;
  std::string name() const override { return "GruCellPointwiseBackward"; }
  void release_variables() override {
    act.reset();
    h_prev.reset();
  }
  TensorList apply(TensorList&& g) override {
    const Tensor a = act.unpack(this);
    const Tensor hp = unit_rows(h_prev.unpack(this));
    const Tensor dh = unit_rows(g[0]);
    const std::int64_t BH = B * H;
    const bool need_gh = scan || next_edges()[1].is_valid() || next_edges()[3].is_valid();
    Tensor dgi, dgh;
    if (scan) {
      scan->claim(t);
      dgi = scan->slot(scan->dgi, t);
      dgh = scan->slot(scan->dgh, t);
    } else {
      dgi = make_tensor({B, 3 * H}, a.dtype());
      if (need_gh) dgh = make_tensor({B, 3 * H}, a.dtype());
    }
    Tensor dhp = next_edges()[2].is_valid() ? make_tensor({B, H}, a.dtype()) : Tensor();
    dispatch_floating("gru_cell_pointwise", a.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* ap = data_of<T>(a);
      const Rows<const T> hpr(hp), dhr(dh);
      const Rows<T> dgir(dgi), dghr(dgh), dhpr(dhp);
      for (std::int64_t b = 0; b < B; ++b) {
        const T* r = ap + b * H;
        const T* z = r + BH;
        const T* n = z + BH;
        const T* ghn = n + BH;
        const T* hpb = hpr[b];
        const T* dhb = dhr[b];
        T* dgib = dgir[b];
        T* dghb = dghr[b];
        T* dhpb = dhpr[b];
        for (std::int64_t j = 0; j < H; ++j) {
          const T d = dhb[j];
          const T hpj = hpb ? hpb[j] : T(0);
          const T dn = d * (T(1) - z[j]) * (T(1) - n[j] * n[j]);
          const T dr = dn * ghn[j] * r[j] * (T(1) - r[j]);
          const T dz = d * (hpj - n[j]) * z[j] * (T(1) - z[j]);
          dgib[j] = dr;
          dgib[H + j] = dz;
          dgib[2 * H + j] = dn;
          if (dghb) {
            dghb[j] = dr;
            dghb[H + j] = dz;
            dghb[2 * H + j] = dn * r[j];
          }
          if (dhpb) dhpb[j] = d * z[j];
        }
      }
    });
    Tensor dbias;
    if (!scan && next_edges()[3].is_valid()) dbias = sigma::sum(dgh, {0});
    return {dgi, next_edges()[1].is_valid() ? dgh : Tensor(), dhp, dbias};
  }
};

// bias_ih [3H] (contiguous, or undefined) is added to gi with no gradient
// here; bias_edge: whether bias_hh's gradient comes from this node (false
// inside a layer, where RecurrentStepsBackward gives both biases' gradients
// for all steps at once).
Tensor gru_step(const Tensor& gi, const Tensor& gh, const Tensor& h_prev, const Tensor& bias_ih,
                const Tensor& bias_hh, bool bias_edge, Tensor h_out, Tensor work,
                const std::shared_ptr<ScanState>& scan, std::int64_t t) {
  const std::int64_t B = gi.size(0), H = gi.size(1) / 3, BH = B * H;
  const ScalarType dt = gi.dtype();
  if (!h_out.defined()) h_out = make_tensor({B, H}, dt);
  if (!work.defined()) work = make_tensor({4, B, H}, dt);
  const Tensor gi_r = unit_rows(gi), gh_r = unit_rows(gh), hp = unit_rows(h_prev);
  const Tensor bias = bias_hh.defined() ? bias_hh.contiguous() : Tensor();
  dispatch_floating("gru_cell_pointwise", dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* w = data_of<T>(work);
    const T* bp = data_of<const T>(bias);
    const T* bi = data_of<const T>(bias_ih);
    const Rows<const T> gir(gi_r), ghr(gh_r), hpr(hp);
    const Rows<T> hr(h_out);
    for (std::int64_t b = 0; b < B; ++b) {
      const T* x = gir[b];
      const T* y = ghr[b];
      T* r = w + b * H;
      T* z = r + BH;
      T* n = z + BH;
      T* ghn = n + BH;
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
    sigmoid_inplace(w, 2 * BH);  // r, z
    for (std::int64_t b = 0; b < B; ++b) {
      const T* r = w + b * H;
      T* n = w + 2 * BH + b * H;
      const T* ghn = n + BH;
      for (std::int64_t j = 0; j < H; ++j) n[j] += r[j] * ghn[j];
    }
    tanh_inplace(w + 2 * BH, BH);  // n
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
    node->act = SavedVariable(work);
    node->h_prev = SavedVariable(h_prev);
    node->B = B;
    node->H = H;
    node->scan = scan;
    node->t = t;
    set_history(h_out, node);
  }
  return h_out;
}

// ---- Elman RNN.
struct RnnCellPointwiseBackward final : autograd::Node {
  SavedVariable h;  // the output
  bool relu = false;
  std::shared_ptr<ScanState> scan;
  std::int64_t t = 0;
  std::string name() const override {
    return relu ? "RnnReluCellPointwiseBackward" : "RnnTanhCellPointwiseBackward";
  }
  void release_variables() override { h.reset(); }
  TensorList apply(TensorList&& g) override {
    const Tensor y = unit_rows(h.unpack(this));
    const Tensor dh = unit_rows(g[0]);
    const std::int64_t B = y.size(0), H = y.size(1);
    Tensor dpre;
    if (scan) {
      scan->claim(t);
      dpre = scan->slot(scan->dgh, t);
    } else {
      dpre = make_tensor({B, H}, y.dtype());
    }
    dispatch_floating("rnn_cell_pointwise", y.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const Rows<const T> yr(y), dhr(dh);
      const Rows<T> dr(dpre);
      for (std::int64_t b = 0; b < B; ++b) {
        const T* yb = yr[b];
        const T* db = dhr[b];
        T* o = dr[b];
        if (relu)
          for (std::int64_t j = 0; j < H; ++j) o[j] = yb[j] > T(0) ? db[j] : T(0);
        else
          for (std::int64_t j = 0; j < H; ++j) o[j] = db[j] * (T(1) - yb[j] * yb[j]);
      }
    });
    return {dpre, next_edges()[1].is_valid() ? dpre : Tensor()};
  }
};

// bias [H] (contiguous, or undefined) is added with no gradient here.
Tensor rnn_step(const Tensor& gi, const Tensor& gh, const Tensor& bias, bool relu, Tensor h_out,
                const std::shared_ptr<ScanState>& scan, std::int64_t t) {
  const std::int64_t B = gi.size(0), H = gi.size(1);
  const ScalarType dt = gi.dtype();
  if (!h_out.defined()) h_out = make_tensor({B, H}, dt);
  const Tensor gi_r = unit_rows(gi), gh_r = unit_rows(gh);
  dispatch_floating("rnn_cell_pointwise", dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Rows<const T> gir(gi_r), ghr(gh_r);
    const Rows<T> hr(h_out);
    const T* bp = data_of<const T>(bias);
    for (std::int64_t b = 0; b < B; ++b) {
      const T* x = gir[b];
      const T* y = ghr[b];
      T* o = hr[b];
      for (std::int64_t j = 0; j < H; ++j) o[j] = x[j];
      if (bp)
        for (std::int64_t j = 0; j < H; ++j) o[j] += bp[j];
      if (y)
        for (std::int64_t j = 0; j < H; ++j) o[j] += y[j];
      if (relu)
        for (std::int64_t j = 0; j < H; ++j) o[j] = o[j] > T(0) ? o[j] : (o[j] == o[j] ? T(0) : o[j]);
      else
        tanh_inplace(o, H);
    }
  });
  if (auto node = make_node<RnnCellPointwiseBackward>({&gi, &gh})) {
    node->h = SavedVariable(h_out);
    node->relu = relu;
    node->scan = scan;
    node->t = t;
    set_history(h_out, node);
  }
  return h_out;
}

// ---- The layer.

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
    if (!st.dgh.defined()) {
      // No step node ran in this pass (they all write their slot).
      st.dgh = make_tensor({T, B, GH}, st.dtype);
      if (gru) st.dgi = make_tensor({T, B, GH}, st.dtype);
      st.written.assign(static_cast<std::size_t>(T), 0);
    }
    for (std::int64_t t = 0; t < T; ++t)
      if (!st.written[static_cast<std::size_t>(t)])
        dispatch_floating("RecurrentStepsBackward", st.dtype, [&](auto tag) {
          using T_ = typename decltype(tag)::type;
          std::fill_n(data_of<T_>(st.dgh) + t * B * GH, B * GH, T_(0));
        });
    Tensor dgh = st.dgh;
    Tensor dgi = gru ? st.dgi : st.dgh;
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
    st.dgh = Tensor();
    st.dgi = Tensor();
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

std::tuple<Tensor, Tensor> lstm_cell_pointwise(const Tensor& gi, const Tensor& gh,
                                               const Tensor& c_prev) {
  const char* op = "lstm_cell_pointwise";
  check_gates(op, gi, 4);
  const std::int64_t B = gi.size(0), H = gi.size(1) / 4;
  check_operand(op, "gh", gh, B, 4 * H, gi.dtype());
  check_operand(op, "c_prev", c_prev, B, H, gi.dtype());
  return lstm_step(gi, gh, c_prev, {}, {}, {}, {}, nullptr, 0);
}

Tensor gru_cell_pointwise(const Tensor& gi, const Tensor& gh, const Tensor& h_prev,
                          const Tensor& bias_hh) {
  const char* op = "gru_cell_pointwise";
  check_gates(op, gi, 3);
  const std::int64_t B = gi.size(0), H = gi.size(1) / 3;
  check_operand(op, "gh", gh, B, 3 * H, gi.dtype());
  check_operand(op, "h_prev", h_prev, B, H, gi.dtype());
  if (bias_hh.defined()) {
    if (bias_hh.dim() != 1 || bias_hh.size(0) != 3 * H)
      throw_shape(op, "bias_hh", bias_hh, shape_string(std::vector<std::int64_t>{3 * H}));
    if (bias_hh.dtype() != gi.dtype())
      throw Error(std::string(op) + ": bias_hh has dtype " + to_string(bias_hh.dtype()) +
                  ", expected " + to_string(gi.dtype()) + " as the gates");
  }
  return gru_step(gi, gh, h_prev, {}, bias_hh, true, {}, {}, nullptr, 0);
}

Tensor rnn_cell_pointwise(const Tensor& gi, const Tensor& gh, bool relu) {
  const char* op = "rnn_cell_pointwise";
  check_gates(op, gi, 1);
  check_operand(op, "gh", gh, gi.size(0), gi.size(1), gi.dtype());
  return rnn_step(gi, gh, {}, relu, {}, nullptr, 0);
}

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
  // Per direction and step: LSTM i f g o tanh(c) [5, B, H] and c [B, H];
  // GRU r z n gh_n [4, B, H].
  const std::int64_t wn = lstm ? 5 : (gru ? 4 : 0);
  Tensor work = wn ? make_tensor({D, T, wn, B, H}, dt) : Tensor();
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
      Tensor h_out = make_view(out, {B, H}, {D * H, 1}, t * B * D * H + d * H);
      const Tensor& git = steps[static_cast<std::size_t>(t)];
      const std::int64_t step_index = d * T + t;
      if (lstm) {
        Tensor c_out = make_view(cbuf, {B, H}, {H, 1}, step_index * B * H);
        Tensor wk = make_view(work, {5, B, H}, {B * H, H, 1}, step_index * 5 * B * H);
        auto [hn, cn] = lstm_step(git, gh, c, bias, std::move(h_out), std::move(c_out),
                                  std::move(wk), state, t);
        h = std::move(hn);
        c = std::move(cn);
      } else if (gru) {
        Tensor wk = make_view(work, {4, B, H}, {B * H, H, 1}, step_index * 4 * B * H);
        h = gru_step(git, gh, h, bias_ih, bias_hh, false, std::move(h_out), std::move(wk), state,
                     t);
      } else {
        h = rnn_step(git, gh, bias, relu, std::move(h_out), state, t);
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

}  // namespace sigma::detail
