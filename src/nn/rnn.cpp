// rnn.cpp: the recurrent modules (RNN, LSTM, GRU and their cells): parameter
// registration in PyTorch's names and order, initialisation, argument checks
// with PyTorch's rules (unbatched inputs, batch_first, initial states), the
// stacking of layers with inter-layer dropout, and reprs. Each layer's time
// loop is nn/rnn_scan.cpp; the point-wise gate math src/ops/rnn_cell.cpp.
//
// Legend: T steps, B batch, H hidden size, G gates, L layers, D directions.
#include "sigma/nn/modules/rnn.h"

#include <cmath>
#include <ostream>
#include <string>

#include "core/python_repr.h"
#include "nn/rnn_scan.h"
#include "sigma/autograd.h"
#include "sigma/nn/functional.h"
#include "sigma/ops.h"

namespace sigma::nn {

namespace {

using Mode = detail::RNNOptionsBase::Mode;
using detail::kind_of;
using sigma::detail::gate_spec;
using sigma::detail::RecurrentKind;

using sigma::detail::python_float;

Mode rnn_mode(const char* op, Nonlinearity n) {
  if (n == kTanh) return Mode::RNN_TANH;
  if (n == kReLU) return Mode::RNN_RELU;
  throw Error(std::string(op) + ": unknown nonlinearity; expected kTanh or kReLU");
}

// U(-1/sqrt(H), 1/sqrt(H)) for every parameter, as PyTorch.
void init_uniform(const std::vector<Tensor>& params, std::int64_t hidden_size) {
  const double stdv = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  NoGradGuard no_grad;
  for (Tensor p : params)
    if (p.defined()) p.uniform_(-stdv, stdv);
}

// The dtype the math runs in: reduced-precision parameters compute in
// float32 and round the outputs once; float32 and float64 compute as stored.
struct ComputeDtype {
  ScalarType param, compute;
  explicit ComputeDtype(ScalarType p)
      : param(p), compute((p == kBFloat16 || p == kHalf) ? kFloat : p) {}
  // t in the compute dtype / back in the parameters' (undefined stays undefined).
  Tensor in(const Tensor& t) const { return !t.defined() || compute == param ? t : t.to(compute); }
  Tensor out(const Tensor& t) const { return !t.defined() || compute == param ? t : t.to(param); }
};

// The floating dtype the module's parameters share; sigma::Error for input
// of another dtype.
void check_input_dtype(const char* op, const Tensor& input, ScalarType param) {
  if (input.dtype() != param)
    throw Error(std::string(op) + ": input dtype " + to_string(input.dtype()) +
                " does not match the parameters' dtype " + to_string(param));
}

// An initial state: same dtype as the parameters and the expected shape.
void check_state(const char* op, const char* what, const Tensor& t,
                 const std::vector<std::int64_t>& expected, ScalarType param) {
  if (!(t.sizes() == IntArrayRef(expected)))
    throw Error(std::string(op) + ": expected " + what + " of shape " + shape_string(expected) +
                ", got " + shape_string(t.sizes()));
  if (t.dtype() != param)
    throw Error(std::string(op) + ": " + what + " has dtype " + to_string(t.dtype()) +
                ", expected " + to_string(param) + " as the parameters");
}

}  // namespace

// ---- Sequence layers.

namespace detail {

RNNImplBase::RNNImplBase(const RNNOptionsBase& options) : options_base(options) {
  const sigma::detail::GateSpec& spec = gate_spec(kind_of(options.mode()));
  const char* op = spec.module;
  const std::int64_t in = options.input_size(), H = options.hidden_size();
  if (in < 0)
    throw Error(std::string(op) + ": input_size must be non-negative, got " + std::to_string(in));
  if (H <= 0)
    throw Error(std::string(op) + ": hidden_size must be greater than zero, got " +
                std::to_string(H));
  if (options.num_layers() <= 0)
    throw Error(std::string(op) + ": num_layers must be greater than zero, got " +
                std::to_string(options.num_layers()));
  const double p = options.dropout();
  if (!(p >= 0.0 && p <= 1.0))
    throw Error(std::string(op) + ": dropout should be a number in range [0, 1] representing "
                "the probability of an element being zeroed, got " + python_float(p));
  if (options.proj_size() != 0)
    throw Error(std::string(op) + ": proj_size=" + std::to_string(options.proj_size()) +
                " is not supported (only 0)");
  const std::int64_t G = spec.gates, D = options.bidirectional() ? 2 : 1;
  for (std::int64_t k = 0; k < options.num_layers(); ++k) {
    const std::int64_t layer_in = k == 0 ? in : D * H;
    for (std::int64_t d = 0; d < D; ++d) {
      const std::string suffix = std::string("_l") + std::to_string(k) + (d == 1 ? "_reverse" : "");
      LayerWeights w;
      w.w_ih = register_parameter(std::string("weight_ih") + suffix, sigma::empty({G * H, layer_in}));
      w.w_hh = register_parameter(std::string("weight_hh") + suffix, sigma::empty({G * H, H}));
      if (options.bias()) {
        w.b_ih = register_parameter(std::string("bias_ih") + suffix, sigma::empty({G * H}));
        w.b_hh = register_parameter(std::string("bias_hh") + suffix, sigma::empty({G * H}));
      }
      layer_weights_.push_back(w);
    }
  }
  reset_parameters();
}

void RNNImplBase::reset_parameters() {
  init_uniform(all_weights(), options_base.hidden_size());
}

std::vector<Tensor> RNNImplBase::all_weights() const {
  std::vector<Tensor> out;
  for (const LayerWeights& w : layer_weights_)
    for (const Tensor& t : {w.w_ih, w.w_hh, w.b_ih, w.b_hh})
      if (t.defined()) out.push_back(t);
  return out;
}

void RNNImplBase::pretty_print(std::ostream& stream) const {
  const RNNOptionsBase& o = options_base;
  stream << name() << "(" << o.input_size() << ", " << o.hidden_size();
  if (o.proj_size() != 0) stream << ", proj_size=" << o.proj_size();
  if (o.num_layers() != 1) stream << ", num_layers=" << o.num_layers();
  if (!o.bias()) stream << ", bias=False";
  if (o.batch_first()) stream << ", batch_first=True";
  if (o.dropout() != 0.0) stream << ", dropout=" << python_float(o.dropout());
  if (o.bidirectional()) stream << ", bidirectional=True";
  stream << ")";
}

namespace {

// Runs every layer. input [T, B, in] / [B, T, in] / [T, in]; hx, cx
// [L*D, B, H] / [L*D, H] or undefined. Returns (output, h_n, c_n).
std::tuple<Tensor, Tensor, Tensor> run_rnn(const RNNImplBase& m, const Tensor& input, Tensor hx,
                                           Tensor cx, bool training,
                                           const std::vector<RNNImplBase::LayerWeights>& layers) {
  const RNNOptionsBase& o = m.options_base;
  const Mode mode = o.mode();
  const bool lstm = mode == Mode::LSTM;
  const std::string name = m.name();
  const char* op = name.c_str();
  const std::int64_t H = o.hidden_size(), L = o.num_layers(), D = o.bidirectional() ? 2 : 1;
  const ScalarType param = layers.front().w_ih.dtype();

  if (!input.defined()) throw Error(name + ": the input is undefined");
  if (input.dim() != 2 && input.dim() != 3)
    throw Error(name + ": expected input to be 2-D (unbatched) or 3-D (batched), got " +
                std::to_string(input.dim()) + "-D input of shape " + shape_string(input.sizes()));
  check_input_dtype(op, input, param);
  if (input.size(-1) != o.input_size())
    throw Error(name + ": input.size(-1) must be equal to input_size. Expected " +
                std::to_string(o.input_size()) + ", got " + std::to_string(input.size(-1)) +
                " (input of shape " + shape_string(input.sizes()) + ")");
  const bool unbatched = input.dim() == 2;
  const char* h_name = lstm ? "h0" : "hx";
  for (const auto& [t, what] : {std::pair<const Tensor&, const char*>{hx, h_name},
                                std::pair<const Tensor&, const char*>{cx, "c0"}}) {
    if (!t.defined()) continue;
    if (unbatched && t.dim() != 2)
      throw Error(name + ": for unbatched 2-D input, " + what + " should also be 2-D but got " +
                  std::to_string(t.dim()) + "-D tensor of shape " + shape_string(t.sizes()));
    if (!unbatched && t.dim() != 3)
      throw Error(name + ": for batched 3-D input, " + what + " should also be 3-D but got " +
                  std::to_string(t.dim()) + "-D tensor of shape " + shape_string(t.sizes()));
  }
  // x: [T, B, in], time-major.
  Tensor x = unbatched ? input.unsqueeze(1) : (o.batch_first() ? input.transpose(0, 1) : input);
  const std::int64_t T = x.size(0), B = x.size(1);
  if (T == 0)
    throw Error(name + ": expected a sequence length greater than 0, got input of shape " +
                shape_string(input.sizes()));
  const std::vector<std::int64_t> state_shape =
      unbatched ? std::vector<std::int64_t>{L * D, H} : std::vector<std::int64_t>{L * D, B, H};
  if (hx.defined()) check_state(op, h_name, hx, state_shape, param);
  if (cx.defined()) check_state(op, "c0", cx, state_shape, param);
  if (unbatched) {
    if (hx.defined()) hx = hx.unsqueeze(1);
    if (cx.defined()) cx = cx.unsqueeze(1);
  }

  const ComputeDtype cd(param);
  x = cd.in(x);
  hx = cd.in(hx);
  cx = cd.in(cx);

  const RecurrentKind kind = kind_of(mode);
  Tensor layer_input = x;
  std::vector<Tensor> h_n, c_n;
  for (std::int64_t k = 0; k < L; ++k) {
    const Tensor x2 = layer_input.reshape({T * B, layer_input.size(2)});
    std::vector<Tensor> gi, w_hh, b_ih, b_hh, h0, c0;
    for (std::int64_t d = 0; d < D; ++d) {
      const RNNImplBase::LayerWeights& lw = layers[static_cast<std::size_t>(k * D + d)];
      // [T*B, G*H] = x W_ih^T for every step at once
      const Tensor g = mm(x2, cd.in(lw.w_ih).t());
      gi.push_back(g.view({T, B, g.size(1)}));
      b_ih.push_back(cd.in(lw.b_ih));  // undefined without bias
      b_hh.push_back(cd.in(lw.b_hh));
      w_hh.push_back(cd.in(lw.w_hh));
      h0.push_back(hx.defined() ? hx.select(0, k * D + d) : Tensor());
      c0.push_back(cx.defined() ? cx.select(0, k * D + d) : Tensor());
    }
    auto res = recurrent_layer(kind, gi, w_hh, b_ih, b_hh, h0, c0);
    layer_input = res.output;
    if (o.dropout() > 0.0 && training && k + 1 < L)
      layer_input = functional::dropout(
          layer_input, functional::DropoutFuncOptions().p(o.dropout()).training(true));
    for (auto& t : res.h_n) h_n.push_back(std::move(t));
    for (auto& t : res.c_n) c_n.push_back(std::move(t));
  }
  Tensor output = cd.out(layer_input);
  Tensor hn = cd.out(sigma::stack(h_n, 0));
  Tensor cn = lstm ? cd.out(sigma::stack(c_n, 0)) : Tensor();
  if (unbatched) {
    output = output.squeeze(1);
    hn = hn.squeeze(1);
    if (cn.defined()) cn = cn.squeeze(1);
  } else if (o.batch_first()) {
    output = output.transpose(0, 1);
  }
  return {output, hn, cn};
}

}  // namespace
}  // namespace detail

namespace {
// The options every recurrent module shares, copied into the base's options.
template <class Options>
detail::RNNOptionsBase base_options(detail::RNNOptionsBase::Mode mode, const Options& o) {
  return detail::RNNOptionsBase(mode, o.input_size(), o.hidden_size())
      .num_layers(o.num_layers())
      .bias(o.bias())
      .batch_first(o.batch_first())
      .dropout(o.dropout())
      .bidirectional(o.bidirectional());
}
}  // namespace

RNNImpl::RNNImpl(const RNNOptions& options_)
    : detail::RNNImplBase(base_options(rnn_mode("RNN", options_.nonlinearity()), options_)),
      options(options_) {}

std::tuple<Tensor, Tensor> RNNImpl::forward(const Tensor& input, Tensor hx) {
  auto [out, hn, cn] = detail::run_rnn(*this, input, std::move(hx), {}, is_training(), layer_weights_);
  return {out, hn};
}

LSTMImpl::LSTMImpl(const LSTMOptions& options_)
    : detail::RNNImplBase(
          base_options(detail::RNNOptionsBase::Mode::LSTM, options_).proj_size(options_.proj_size())),
      options(options_) {}

std::tuple<Tensor, std::tuple<Tensor, Tensor>> LSTMImpl::forward(
    const Tensor& input, std::optional<std::tuple<Tensor, Tensor>> hx_opt) {
  Tensor h0, c0;
  if (hx_opt) {
    std::tie(h0, c0) = *hx_opt;
    if (h0.defined() != c0.defined())
      throw Error("LSTM: expected both h0 and c0 to be defined, or neither");
  }
  auto [out, hn, cn] = detail::run_rnn(*this, input, h0, c0, is_training(), layer_weights_);
  return {out, {hn, cn}};
}

GRUImpl::GRUImpl(const GRUOptions& options_)
    : detail::RNNImplBase(base_options(detail::RNNOptionsBase::Mode::GRU, options_)),
      options(options_) {}

std::tuple<Tensor, Tensor> GRUImpl::forward(const Tensor& input, Tensor hx) {
  auto [out, hn, cn] = detail::run_rnn(*this, input, std::move(hx), {}, is_training(), layer_weights_);
  return {out, hn};
}

// ---- Cells.

namespace detail {

RNNCellImplBase::RNNCellImplBase(const RNNCellOptionsBase& options) : options_base(options) {
  const std::int64_t in = options.input_size(), H = options.hidden_size(),
                     G = options.num_chunks();
  if (in < 0 || H <= 0)
    throw Error("RNNCell: input_size must be non-negative and hidden_size greater than zero, got "
                "input_size=" + std::to_string(in) + ", hidden_size=" + std::to_string(H));
  weight_ih = register_parameter("weight_ih", sigma::empty({G * H, in}));
  weight_hh = register_parameter("weight_hh", sigma::empty({G * H, H}));
  bias_ih = register_parameter("bias_ih", options.bias() ? sigma::empty({G * H}) : Tensor(),
                               options.bias());
  bias_hh = register_parameter("bias_hh", options.bias() ? sigma::empty({G * H}) : Tensor(),
                               options.bias());
  reset_parameters();
}

void RNNCellImplBase::reset_parameters() {
  init_uniform({weight_ih, weight_hh, bias_ih, bias_hh}, options_base.hidden_size());
}

void RNNCellImplBase::pretty_print(std::ostream& stream) const {
  stream << name() << "(" << options_base.input_size() << ", " << options_base.hidden_size();
  if (!options_base.bias()) stream << ", bias=False";
  const std::string nl = get_nonlinearity_str();
  if (nl != "tanh") stream << ", nonlinearity=" << nl;
  stream << ")";
}

namespace {

// A cell's input and state as 2-D [B, *] tensors in the compute dtype, and
// what to undo on the way out.
struct CellArgs {
  Tensor x;
  std::vector<Tensor> states;
  bool unbatched = false;
  ComputeDtype cd{kFloat};
};

CellArgs cell_args(const RNNCellImplBase& m, const Tensor& input, std::vector<Tensor> states,
                   const std::vector<const char*>& names) {
  const std::string name = m.name();
  const RNNCellOptionsBase& o = m.options_base;
  CellArgs a;
  a.cd = ComputeDtype(m.weight_ih.dtype());
  const ScalarType param = a.cd.param;
  if (!input.defined()) throw Error(name + ": the input is undefined");
  if (input.dim() != 1 && input.dim() != 2)
    throw Error(name + ": expected input to be 1-D or 2-D, got " + std::to_string(input.dim()) +
                "-D input of shape " + shape_string(input.sizes()));
  check_input_dtype(name.c_str(), input, param);
  if (input.size(-1) != o.input_size())
    throw Error(name + ": input has inconsistent input_size: got " +
                std::to_string(input.size(-1)) + ", expected " + std::to_string(o.input_size()) +
                " (input of shape " + shape_string(input.sizes()) + ")");
  a.unbatched = input.dim() == 1;
  a.x = a.unbatched ? input.unsqueeze(0) : input;
  const std::int64_t B = a.x.size(0), H = o.hidden_size();
  for (std::size_t i = 0; i < states.size(); ++i) {
    Tensor& s = states[i];
    if (!s.defined()) {
      s = sigma::zeros({B, H}, dtype(param));
      continue;
    }
    if (s.dim() != input.dim())
      throw Error(name + ": expected " + names[i] + " to be " + std::to_string(input.dim()) +
                  "-D for " + std::to_string(input.dim()) + "-D input, got shape " +
                  shape_string(s.sizes()));
    if (a.unbatched) s = s.unsqueeze(0);
    check_state(name.c_str(), names[i], s, {B, H}, param);
  }
  a.states = std::move(states);
  a.x = a.cd.in(a.x);
  for (Tensor& s : a.states) s = a.cd.in(s);
  return a;
}

Tensor cell_out(const CellArgs& a, const Tensor& t) {
  const Tensor r = a.cd.out(t);
  return a.unbatched ? r.squeeze(0) : r;
}

// x W_ih^T + b_ih and h W_hh^T + b_hh in the compute dtype.
std::pair<Tensor, Tensor> cell_projections(const RNNCellImplBase& m, const CellArgs& a) {
  return {functional::linear(a.x, a.cd.in(m.weight_ih), a.cd.in(m.bias_ih)),
          functional::linear(a.states[0], a.cd.in(m.weight_hh), a.cd.in(m.bias_hh))};
}

}  // namespace
}  // namespace detail

RNNCellImpl::RNNCellImpl(const RNNCellOptions& options_)
    : detail::RNNCellImplBase(detail::RNNCellOptionsBase(options_.input_size(),
                                                         options_.hidden_size(), options_.bias(),
                                                         gate_spec(RecurrentKind::RnnTanh).gates)),
      options(options_) {
  rnn_mode("RNNCell", options.nonlinearity());
}

std::string RNNCellImpl::get_nonlinearity_str() const {
  return options.nonlinearity() == kReLU ? "relu" : "tanh";
}

Tensor RNNCellImpl::forward(const Tensor& input, Tensor hx) {
  const auto a = detail::cell_args(*this, input, {std::move(hx)}, {"hx"});
  auto [gi, gh] = detail::cell_projections(*this, a);
  return detail::cell_out(a, sigma::detail::rnn_cell_pointwise(gi, gh, options.nonlinearity() == kReLU));
}

LSTMCellImpl::LSTMCellImpl(const LSTMCellOptions& options_)
    : detail::RNNCellImplBase(detail::RNNCellOptionsBase(options_.input_size(),
                                                         options_.hidden_size(), options_.bias(),
                                                         gate_spec(RecurrentKind::Lstm).gates)),
      options(options_) {}

std::tuple<Tensor, Tensor> LSTMCellImpl::forward(const Tensor& input,
                                                 std::optional<std::tuple<Tensor, Tensor>> hx_opt) {
  Tensor h, c;
  if (hx_opt) {
    std::tie(h, c) = *hx_opt;
    if (h.defined() != c.defined())
      throw Error("LSTMCell: expected both h and c to be defined, or neither");
  }
  const auto a = detail::cell_args(*this, input, {std::move(h), std::move(c)}, {"hx", "cx"});
  auto [gi, gh] = detail::cell_projections(*this, a);
  auto [hn, cn] = sigma::detail::lstm_cell_pointwise(gi, gh, a.states[1]);
  return {detail::cell_out(a, hn), detail::cell_out(a, cn)};
}

GRUCellImpl::GRUCellImpl(const GRUCellOptions& options_)
    : detail::RNNCellImplBase(detail::RNNCellOptionsBase(options_.input_size(),
                                                         options_.hidden_size(), options_.bias(),
                                                         gate_spec(RecurrentKind::Gru).gates)),
      options(options_) {}

Tensor GRUCellImpl::forward(const Tensor& input, Tensor hx) {
  const auto a = detail::cell_args(*this, input, {std::move(hx)}, {"hx"});
  auto [gi, gh] = detail::cell_projections(*this, a);
  return detail::cell_out(a, sigma::detail::gru_cell_pointwise(gi, gh, a.states[0]));
}

}  // namespace sigma::nn
