// Tests of src/nn/rnn.cpp and src/ops/rnn_cell.cpp: RNN, LSTM, GRU and their
// cells against a plain double-precision reference written here from the
// same weights (loops with std::exp / std::tanh), for batch_first both ways,
// bidirectional, 2 layers, with and without initial states, unbatched input;
// gradients by sigma::gradcheck in float64 (fused point-wise ops, cells, 2-layer
// bidirectional modules); PyTorch's parameter names, order and shapes; init
// bounds; reprs; errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "ops/rnn_cell.h"
#include "sigma/autograd.h"
#include "sigma/nn.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::TensorList;
using sigma::test::expect_error;
using sigma::test::random_tensor;
using sigma::test::Shape;
using sigma::test::values;
namespace nn = sigma::nn;

enum class Kind { Lstm, Gru, RnnTanh, RnnRelu };

std::int64_t gates(Kind k) { return k == Kind::Lstm ? 4 : k == Kind::Gru ? 3 : 1; }

// ---- The reference, in double.

double sig(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// The weights of one layer and direction (or of a cell), row-major.
struct RefWeights {
  std::vector<double> w_ih, w_hh, b_ih, b_hh;  // biases empty without bias
};

// One step for one batch row: h, c [H] updated from x [in].
void ref_step(Kind kind, std::int64_t in, std::int64_t H, const RefWeights& w, const double* x,
              std::vector<double>& h, std::vector<double>& c) {
  const std::int64_t GH = gates(kind) * H;
  std::vector<double> gi(static_cast<std::size_t>(GH)), gh(gi.size());
  for (std::int64_t r = 0; r < GH; ++r) {
    double a = w.b_ih.empty() ? 0.0 : w.b_ih[static_cast<std::size_t>(r)];
    for (std::int64_t k = 0; k < in; ++k) a += w.w_ih[static_cast<std::size_t>(r * in + k)] * x[k];
    double b = w.b_hh.empty() ? 0.0 : w.b_hh[static_cast<std::size_t>(r)];
    for (std::int64_t k = 0; k < H; ++k)
      b += w.w_hh[static_cast<std::size_t>(r * H + k)] * h[static_cast<std::size_t>(k)];
    gi[static_cast<std::size_t>(r)] = a;
    gh[static_cast<std::size_t>(r)] = b;
  }
  auto at = [](const std::vector<double>& v, std::int64_t i) { return v[static_cast<std::size_t>(i)]; };
  for (std::int64_t j = 0; j < H; ++j) {
    const auto uj = static_cast<std::size_t>(j);
    if (kind == Kind::Lstm) {
      const double i = sig(at(gi, j) + at(gh, j));
      const double f = sig(at(gi, H + j) + at(gh, H + j));
      const double g = std::tanh(at(gi, 2 * H + j) + at(gh, 2 * H + j));
      const double o = sig(at(gi, 3 * H + j) + at(gh, 3 * H + j));
      c[uj] = f * c[uj] + i * g;
      h[uj] = o * std::tanh(c[uj]);
    } else if (kind == Kind::Gru) {
      const double r = sig(at(gi, j) + at(gh, j));
      const double z = sig(at(gi, H + j) + at(gh, H + j));
      const double n = std::tanh(at(gi, 2 * H + j) + r * at(gh, 2 * H + j));
      h[uj] = (1.0 - z) * n + z * h[uj];
    } else {
      const double pre = at(gi, j) + at(gh, j);
      h[uj] = kind == Kind::RnnTanh ? std::tanh(pre) : std::max(pre, 0.0);
    }
  }
}

struct Config {
  std::int64_t in = 3, H = 4, L = 1;
  bool bidirectional = false, batch_first = false, bias = true;
  double dropout = 0.0;
};

struct RefOut {
  std::vector<double> out;     // [T, B, D*H]
  std::vector<double> hn, cn;  // [L*D, B, H]
};

// x [T, B, in] time-major; h0, c0 [L*D, B, H] or empty. zero_between_layers:
// the input of every layer after the first is zero (dropout with p = 1).
RefOut reference(Kind kind, const Config& c, const std::vector<RefWeights>& w,
                 std::vector<double> x, std::int64_t T, std::int64_t B,
                 const std::vector<double>& h0, const std::vector<double>& c0,
                 bool zero_between_layers = false) {
  const std::int64_t D = c.bidirectional ? 2 : 1, H = c.H;
  RefOut r;
  r.hn.assign(static_cast<std::size_t>(c.L * D * B * H), 0.0);
  r.cn = r.hn;
  std::int64_t in = c.in;
  for (std::int64_t l = 0; l < c.L; ++l) {
    std::vector<double> out(static_cast<std::size_t>(T * B * D * H));
    for (std::int64_t d = 0; d < D; ++d) {
      const RefWeights& lw = w[static_cast<std::size_t>(l * D + d)];
      for (std::int64_t b = 0; b < B; ++b) {
        std::vector<double> h(static_cast<std::size_t>(H), 0.0), cc = h;
        const std::size_t s0 = static_cast<std::size_t>(((l * D + d) * B + b) * H);
        if (!h0.empty()) std::copy_n(h0.begin() + static_cast<std::ptrdiff_t>(s0), H, h.begin());
        if (!c0.empty()) std::copy_n(c0.begin() + static_cast<std::ptrdiff_t>(s0), H, cc.begin());
        for (std::int64_t s = 0; s < T; ++s) {
          const std::int64_t t = d == 0 ? s : T - 1 - s;
          ref_step(kind, in, H, lw, x.data() + (t * B + b) * in, h, cc);
          std::copy(h.begin(), h.end(),
                    out.begin() + static_cast<std::ptrdiff_t>((t * B + b) * D * H + d * H));
        }
        std::copy(h.begin(), h.end(), r.hn.begin() + static_cast<std::ptrdiff_t>(s0));
        std::copy(cc.begin(), cc.end(), r.cn.begin() + static_cast<std::ptrdiff_t>(s0));
      }
    }
    x = out;
    in = D * H;
    if (zero_between_layers && l + 1 < c.L) std::fill(x.begin(), x.end(), 0.0);
    r.out = out;
  }
  return r;
}

// ---- The modules under test behind one interface.

struct AnyRnn {
  Kind kind;
  nn::LSTM lstm{nullptr};
  nn::GRU gru{nullptr};
  nn::RNN rnn{nullptr};

  nn::Module& module() {
    if (lstm) return *lstm;
    if (gru) return *gru;
    return *rnn;
  }
  // (output, h_n, c_n); h0/c0 may be undefined.
  std::tuple<Tensor, Tensor, Tensor> run(const Tensor& x, const Tensor& h0 = {},
                                         const Tensor& c0 = {}) {
    if (lstm) {
      auto [o, s] = h0.defined() ? lstm(x, std::make_tuple(h0, c0)) : lstm(x);
      return {o, std::get<0>(s), std::get<1>(s)};
    }
    auto [o, h] = gru ? gru(x, h0) : rnn(x, h0);
    return {o, h, Tensor()};
  }
};

AnyRnn make_rnn(Kind kind, const Config& c) {
  AnyRnn m{kind};
  switch (kind) {
    case Kind::Lstm:
      m.lstm = nn::LSTM(nn::LSTMOptions(c.in, c.H)
                            .num_layers(c.L)
                            .bias(c.bias)
                            .batch_first(c.batch_first)
                            .bidirectional(c.bidirectional)
                            .dropout(c.dropout));
      break;
    case Kind::Gru:
      m.gru = nn::GRU(nn::GRUOptions(c.in, c.H)
                          .num_layers(c.L)
                          .bias(c.bias)
                          .batch_first(c.batch_first)
                          .bidirectional(c.bidirectional)
                          .dropout(c.dropout));
      break;
    default:
      m.rnn = nn::RNN(nn::RNNOptions(c.in, c.H)
                          .num_layers(c.L)
                          .nonlinearity(kind == Kind::RnnRelu ? sigma::kReLU : sigma::kTanh)
                          .bias(c.bias)
                          .batch_first(c.batch_first)
                          .bidirectional(c.bidirectional)
                          .dropout(c.dropout));
  }
  return m;
}

std::vector<RefWeights> weights_of(nn::Module& m, const Config& c) {
  auto p = m.named_parameters();
  const std::int64_t D = c.bidirectional ? 2 : 1;
  std::vector<RefWeights> w;
  for (std::int64_t l = 0; l < c.L; ++l)
    for (std::int64_t d = 0; d < D; ++d) {
      const std::string s = "_l" + std::to_string(l) + (d ? "_reverse" : "");
      RefWeights lw;
      lw.w_ih = values(p["weight_ih" + s]);
      lw.w_hh = values(p["weight_hh" + s]);
      if (c.bias) {
        lw.b_ih = values(p["bias_ih" + s]);
        lw.b_hh = values(p["bias_hh" + s]);
      }
      w.push_back(lw);
    }
  return w;
}

// Every |a - e| <= atol + rtol |e|.
void expect_close(const std::vector<double>& actual, const std::vector<double>& expected,
                  double atol, double rtol, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i)
    ASSERT_LE(std::fabs(actual[i] - expected[i]), atol + rtol * std::fabs(expected[i]))
        << what << " element " << i << ": " << actual[i] << " vs " << expected[i];
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Lstm: return "LSTM";
    case Kind::Gru: return "GRU";
    case Kind::RnnTanh: return "RNN(tanh)";
    default: return "RNN(relu)";
  }
}

// Runs the module on random input (and states) and compares with the reference.
void check_module(Kind kind, const Config& c, bool with_state, sigma::ScalarType dt,
                  std::int64_t T = 5, std::int64_t B = 3) {
  sigma::manual_seed(7);
  AnyRnn m = make_rnn(kind, c);
  if (dt != sigma::kFloat) m.module().to(dt);
  const std::int64_t D = c.bidirectional ? 2 : 1;
  // x in time-major order for the reference; the module gets its layout.
  const Tensor x_tm = random_tensor({T, B, c.in}, dt, 11, -2.0, 2.0);
  const Tensor x = c.batch_first ? x_tm.transpose(0, 1).contiguous() : x_tm;
  Tensor h0, c0;
  if (with_state) {
    h0 = random_tensor({c.L * D, B, c.H}, dt, 12);
    if (kind == Kind::Lstm) c0 = random_tensor({c.L * D, B, c.H}, dt, 13);
  }
  auto [out, hn, cn] = m.run(x, h0, c0);
  const RefOut r = reference(kind, c, weights_of(m.module(), c), values(x_tm), T, B,
                             h0.defined() ? values(h0) : std::vector<double>{},
                             c0.defined() ? values(c0) : std::vector<double>{});
  const Shape out_shape = c.batch_first ? Shape{B, T, D * c.H} : Shape{T, B, D * c.H};
  EXPECT_EQ(out.sizes().vec(), out_shape);
  EXPECT_EQ(hn.sizes().vec(), (Shape{c.L * D, B, c.H}));
  EXPECT_EQ(out.dtype(), dt);
  const double tol = dt == sigma::kDouble ? 1e-12 : 2e-6;
  const std::string what = std::string(kind_name(kind)) + " L=" + std::to_string(c.L) +
                           " bidir=" + std::to_string(c.bidirectional) +
                           " batch_first=" + std::to_string(c.batch_first) +
                           " bias=" + std::to_string(c.bias) + " state=" + std::to_string(with_state);
  expect_close(values(c.batch_first ? out.transpose(0, 1) : out), r.out, tol, tol, what + " output");
  expect_close(values(hn), r.hn, tol, tol, what + " h_n");
  if (kind == Kind::Lstm) {
    EXPECT_EQ(cn.sizes().vec(), (Shape{c.L * D, B, c.H}));
    expect_close(values(cn), r.cn, tol, tol, what + " c_n");
  }
}

const Kind kAllKinds[] = {Kind::Lstm, Kind::Gru, Kind::RnnTanh, Kind::RnnRelu};

// ---- Modules against the reference.

TEST(RnnModules, MatchReferenceForEveryLayout) {
  for (Kind kind : kAllKinds)
    for (std::int64_t L : {1, 2})
      for (bool bidir : {false, true})
        for (bool batch_first : {false, true})
          for (bool state : {false, true}) {
            Config c;
            c.L = L;
            c.bidirectional = bidir;
            c.batch_first = batch_first;
            check_module(kind, c, state, sigma::kFloat);
          }
}

TEST(RnnModules, MatchReferenceInFloat64AndWithoutBias) {
  for (Kind kind : kAllKinds) {
    Config c;
    c.L = 2;
    c.bidirectional = true;
    check_module(kind, c, true, sigma::kDouble);
    c.bias = false;
    check_module(kind, c, true, sigma::kFloat);
    check_module(kind, c, false, sigma::kDouble, 1, 1);  // a single step and batch row
  }
}

TEST(RnnModules, LargerSizesMatchReference) {
  Config c;
  c.in = 17;
  c.H = 33;
  c.L = 2;
  c.bidirectional = true;
  c.batch_first = true;
  check_module(Kind::Lstm, c, true, sigma::kFloat, 7, 5);
  check_module(Kind::Gru, c, false, sigma::kFloat, 7, 5);
}

// One forward and backward of LSTM(64, 128) over [50, 32, 64], the case
// bench/nn_bench.cpp times: products cut into tiles, gate kernels, sums and
// gradient accumulation give the same bits for any thread count.
TEST(RnnModules, LstmForwardBackwardSameBitsForAnyThreadCount) {
  sigma::manual_seed(11);
  nn::LSTM lstm(nn::LSTMOptions(64, 128));
  const Tensor x = random_tensor({50, 32, 64}, sigma::kFloat32, 12);
  sigma::test::expect_same_bits_for_any_thread_count(
      [&] {
        lstm->zero_grad();
        auto [out, hc] = lstm(x);
        out.sum().backward();
        std::vector<Tensor> r{out, std::get<0>(hc), std::get<1>(hc)};
        for (const Tensor& p : lstm->parameters()) r.push_back(p.grad());
        return r;
      },
      "LSTM forward + backward");
}

TEST(RnnModules, UnbatchedInputIsBatchOfOne) {
  for (Kind kind : kAllKinds)
    for (bool batch_first : {false, true}) {
      Config c;
      c.L = 2;
      c.bidirectional = true;
      c.batch_first = batch_first;  // does not apply to unbatched input
      sigma::manual_seed(3);
      AnyRnn m = make_rnn(kind, c);
      const std::int64_t T = 4, D = 2;
      const Tensor x = random_tensor({T, c.in}, sigma::kFloat, 21);
      const Tensor h0 = random_tensor({c.L * D, c.H}, sigma::kFloat, 22);
      const Tensor c0 = kind == Kind::Lstm ? random_tensor({c.L * D, c.H}, sigma::kFloat, 23) : Tensor();
      auto [out, hn, cn] = m.run(x, h0, c0);
      EXPECT_EQ(out.sizes().vec(), (Shape{T, D * c.H}));
      EXPECT_EQ(hn.sizes().vec(), (Shape{c.L * D, c.H}));
      const RefOut r = reference(kind, c, weights_of(m.module(), c), values(x), T, 1, values(h0),
                                 c0.defined() ? values(c0) : std::vector<double>{});
      expect_close(values(out), r.out, 2e-6, 2e-6, "unbatched output");
      expect_close(values(hn), r.hn, 2e-6, 2e-6, "unbatched h_n");
      if (kind == Kind::Lstm) {
        EXPECT_EQ(cn.sizes().vec(), (Shape{c.L * D, c.H}));
        expect_close(values(cn), r.cn, 2e-6, 2e-6, "unbatched c_n");
      }
      // Without states as well.
      auto [out2, hn2, cn2] = m.run(x);
      const RefOut r2 = reference(kind, c, weights_of(m.module(), c), values(x), T, 1, {}, {});
      expect_close(values(out2), r2.out, 2e-6, 2e-6, "unbatched output, no state");
    }
}

TEST(RnnModules, NonContiguousInputAndStates) {
  Config c;
  c.L = 2;
  c.bidirectional = true;
  sigma::manual_seed(5);
  AnyRnn m = make_rnn(Kind::Lstm, c);
  const std::int64_t T = 4, B = 3, D = 2;
  // x [T, B, in] as a transposed view of [B, T, in]; states as sliced views.
  const Tensor xb = random_tensor({B, T, c.in}, sigma::kFloat, 31);
  const Tensor x = xb.transpose(0, 1);
  const Tensor hbig = random_tensor({c.L * D, B, 2 * c.H}, sigma::kFloat, 32);
  const Tensor h0 = hbig.slice(2, 0, 2 * c.H, 2);
  const Tensor c0 = random_tensor({B, c.L * D, c.H}, sigma::kFloat, 33).transpose(0, 1);
  ASSERT_FALSE(x.is_contiguous());
  ASSERT_FALSE(h0.is_contiguous());
  auto [out, hn, cn] = m.run(x, h0, c0);
  const RefOut r = reference(Kind::Lstm, c, weights_of(m.module(), c), values(x), T, B, values(h0),
                             values(c0));
  expect_close(values(out), r.out, 2e-6, 2e-6, "output");
  expect_close(values(cn), r.cn, 2e-6, 2e-6, "c_n");
}

TEST(RnnModules, LastStatesAreTheOutputsEnds) {
  Config c;
  c.bidirectional = true;
  sigma::manual_seed(9);
  AnyRnn m = make_rnn(Kind::Gru, c);
  const std::int64_t T = 6, B = 2, H = c.H;
  auto [out, hn, cn] = m.run(random_tensor({T, B, c.in}, sigma::kFloat, 41));
  // Forward direction ends at t = T-1, reverse at t = 0: bitwise the same values.
  EXPECT_TRUE(hn[0].equal(out[T - 1].slice(1, 0, H).contiguous()));
  EXPECT_TRUE(hn[1].equal(out[0].slice(1, H, 2 * H).contiguous()));
}

TEST(RnnModules, EmptyBatch) {
  for (Kind kind : kAllKinds) {
    Config c;
    c.bidirectional = true;
    AnyRnn m = make_rnn(kind, c);
    const Tensor x = sigma::zeros({4, 0, c.in}).requires_grad_(true);
    auto [out, hn, cn] = m.run(x);
    EXPECT_EQ(out.sizes().vec(), (Shape{4, 0, 2 * c.H}));
    EXPECT_EQ(hn.sizes().vec(), (Shape{2, 0, c.H}));
    (out.sum() + hn.sum()).backward();
    for (const Tensor& p : m.module().parameters()) {
      ASSERT_TRUE(p.grad().defined());
      EXPECT_EQ(sigma::test::values(p.grad().abs().max())[0], 0.0);
    }
  }
}

// ---- Dropout between layers.

TEST(RnnModules, DropoutActsBetweenLayersInTrainingOnly) {
  for (Kind kind : {Kind::Lstm, Kind::Gru}) {
    Config c;
    c.L = 2;
    c.dropout = 1.0;  // every element of the first layer's output dropped
    sigma::manual_seed(4);
    AnyRnn m = make_rnn(kind, c);
    const std::int64_t T = 3, B = 2;
    const Tensor x = random_tensor({T, B, c.in}, sigma::kFloat, 51);
    const auto w = weights_of(m.module(), c);
    auto [out, hn, cn] = m.run(x);
    const RefOut dropped = reference(kind, c, w, values(x), T, B, {}, {}, true);
    expect_close(values(out), dropped.out, 2e-6, 2e-6, "dropout 1 in training");
    // The first layer's final state is not affected by the dropout after it.
    expect_close(values(hn), dropped.hn, 2e-6, 2e-6, "h_n with dropout 1");
    m.module().eval();
    auto [out_eval, hn_eval, cn_eval] = m.run(x);
    const RefOut kept = reference(kind, c, w, values(x), T, B, {}, {});
    expect_close(values(out_eval), kept.out, 2e-6, 2e-6, "no dropout in eval");
  }
}

TEST(RnnModules, DropoutHalfIsReproducibleAndScales) {
  Config c;
  c.L = 2;
  c.dropout = 0.5;
  sigma::manual_seed(4);
  AnyRnn m = make_rnn(Kind::Lstm, c);
  const Tensor x = random_tensor({5, 3, c.in}, sigma::kFloat, 52);
  sigma::manual_seed(100);
  auto [a, ha, ca] = m.run(x);
  sigma::manual_seed(100);
  auto [b, hb, cb] = m.run(x);
  EXPECT_TRUE(a.equal(b));
  m.module().eval();
  auto [e, he, ce] = m.run(x);
  EXPECT_FALSE(a.equal(e));
  // A single layer ignores dropout (PyTorch warns; nothing to drop between).
  Config one;
  one.dropout = 0.5;
  sigma::manual_seed(4);
  AnyRnn m1 = make_rnn(Kind::Gru, one);
  auto [o1, h1, c1] = m1.run(x);
  const RefOut r = reference(Kind::Gru, one, weights_of(m1.module(), one), values(x), 5, 3, {}, {});
  expect_close(values(o1), r.out, 2e-6, 2e-6, "single layer with dropout");
}

// ---- Cells.

TEST(RnnCells, MatchReference) {
  for (Kind kind : kAllKinds)
    for (bool bias : {true, false})
      for (bool state : {true, false})
        for (bool unbatched : {false, true}) {
          const std::int64_t in = 5, H = 6, B = unbatched ? 1 : 4;
          sigma::manual_seed(17);
          const Tensor x = random_tensor(unbatched ? Shape{in} : Shape{B, in}, sigma::kFloat, 61, -2, 2);
          const Tensor h = state ? random_tensor(unbatched ? Shape{H} : Shape{B, H}, sigma::kFloat, 62) : Tensor();
          const Tensor cst = state ? random_tensor(unbatched ? Shape{H} : Shape{B, H}, sigma::kFloat, 63) : Tensor();
          Tensor h_new, c_new;
          nn::Module* mod = nullptr;
          nn::LSTMCell lc{nullptr};
          nn::GRUCell gc{nullptr};
          nn::RNNCell rc{nullptr};
          if (kind == Kind::Lstm) {
            lc = nn::LSTMCell(nn::LSTMCellOptions(in, H).bias(bias));
            mod = lc.get();
            std::tie(h_new, c_new) = state ? lc(x, std::make_tuple(h, cst)) : lc(x);
          } else if (kind == Kind::Gru) {
            gc = nn::GRUCell(nn::GRUCellOptions(in, H).bias(bias));
            mod = gc.get();
            h_new = gc(x, h);
          } else {
            rc = nn::RNNCell(nn::RNNCellOptions(in, H).bias(bias).nonlinearity(
                kind == Kind::RnnRelu ? sigma::kReLU : sigma::kTanh));
            mod = rc.get();
            h_new = rc(x, h);
          }
          auto p = mod->named_parameters();
          RefWeights w{values(p["weight_ih"]), values(p["weight_hh"]), {}, {}};
          if (bias) {
            w.b_ih = values(p["bias_ih"]);
            w.b_hh = values(p["bias_hh"]);
          }
          const std::vector<double> xv = values(x);
          const std::vector<double> hv = state ? values(h) : std::vector<double>(static_cast<std::size_t>(B * H), 0.0);
          const std::vector<double> cv = state ? values(cst) : hv;
          std::vector<double> eh, ec;
          for (std::int64_t b = 0; b < B; ++b) {
            std::vector<double> hb(hv.begin() + b * H, hv.begin() + (b + 1) * H);
            std::vector<double> cb(cv.begin() + b * H, cv.begin() + (b + 1) * H);
            ref_step(kind, in, H, w, xv.data() + b * in, hb, cb);
            eh.insert(eh.end(), hb.begin(), hb.end());
            ec.insert(ec.end(), cb.begin(), cb.end());
          }
          const std::string what = std::string(kind_name(kind)) + "Cell bias=" + std::to_string(bias) +
                                   " state=" + std::to_string(state) +
                                   " unbatched=" + std::to_string(unbatched);
          EXPECT_EQ(h_new.sizes().vec(), unbatched ? Shape{H} : (Shape{B, H})) << what;
          expect_close(values(h_new), eh, 2e-6, 2e-6, what + " h");
          if (kind == Kind::Lstm) expect_close(values(c_new), ec, 2e-6, 2e-6, what + " c");
        }
}

// ---- Gradients (float64, central differences).

// gradcheck's default tolerances (atol 1e-8, rtol 1e-7).
void expect_gradcheck(const std::function<Tensor(const TensorList&)>& fn, const TensorList& in,
                      const std::string& what) {
  const sigma::GradcheckResult r = sigma::gradcheck(fn, in);
  EXPECT_TRUE(r.ok) << what << ": " << r.message;
}

Tensor leaf(const Shape& s, std::uint64_t seed, double lo = -1.5, double hi = 1.5) {
  return random_tensor(s, sigma::kDouble, seed, lo, hi).requires_grad_(true);
}

TEST(RnnGradients, FusedPointwiseOps) {
  const std::int64_t B = 3, H = 4;
  const Tensor gi4 = leaf({B, 4 * H}, 71, -3, 3), gh4 = leaf({B, 4 * H}, 72, -3, 3);
  const Tensor cp = leaf({B, H}, 73);
  expect_gradcheck(
      [](const TensorList& in) {
        auto [h, c] = sigma::detail::lstm_cell_pointwise(in[0], in[1], in[2]);
        return sigma::cat({h, c * 0.7}, 1);
      },
      {gi4, gh4, cp}, "lstm_cell_pointwise(gi, gh, c)");
  expect_gradcheck(
      [](const TensorList& in) {
        auto [h, c] = sigma::detail::lstm_cell_pointwise(in[0], in[1]);
        return sigma::cat({h * 1.3, c}, 1);
      },
      {gi4, cp}, "lstm_cell_pointwise(gates, c)");
  expect_gradcheck(
      [](const TensorList& in) {
        auto [h, c] = sigma::detail::lstm_cell_pointwise(in[0], Tensor(), Tensor());
        return sigma::cat({h, c}, 1);
      },
      {gi4}, "lstm_cell_pointwise(gates) with zero c");
  // Strided gates: a transposed view.
  const Tensor gt = leaf({4 * H, B}, 74, -3, 3);
  expect_gradcheck(
      [](const TensorList& in) {
        auto [h, c] = sigma::detail::lstm_cell_pointwise(in[0].t(), in[1]);
        return h + c;
      },
      {gt, cp}, "lstm_cell_pointwise, transposed gates");

  const Tensor gi3 = leaf({B, 3 * H}, 75, -3, 3), gh3 = leaf({B, 3 * H}, 76, -3, 3);
  const Tensor hp = leaf({B, H}, 77), bhh = leaf({3 * H}, 78);
  expect_gradcheck(
      [](const TensorList& in) {
        return sigma::detail::gru_cell_pointwise(in[0], in[1], in[2], in[3]);
      },
      {gi3, gh3, hp, bhh}, "gru_cell_pointwise(gi, gh, h, b_hh)");
  expect_gradcheck(
      [](const TensorList& in) { return sigma::detail::gru_cell_pointwise(in[0], in[1], in[2]); },
      {gi3, gh3, hp}, "gru_cell_pointwise(gi, gh, h)");
  expect_gradcheck(
      [](const TensorList& in) { return sigma::detail::gru_cell_pointwise(in[0], Tensor(), Tensor(), in[1]); },
      {gi3, bhh}, "gru_cell_pointwise without state");

  const Tensor gi1 = leaf({B, H}, 79, -3, 3), gh1 = leaf({B, H}, 80, -3, 3);
  for (bool relu : {false, true})
    expect_gradcheck(
        [relu](const TensorList& in) { return sigma::detail::rnn_cell_pointwise(in[0], in[1], relu); },
        {gi1, gh1}, relu ? "rnn_cell_pointwise relu" : "rnn_cell_pointwise tanh");
}

TEST(RnnGradients, PointwiseForwardMatchesFormula) {
  const std::int64_t B = 2, H = 3;
  const Tensor gi = random_tensor({B, 4 * H}, sigma::kDouble, 81, -4, 4);
  const Tensor gh = random_tensor({B, 4 * H}, sigma::kDouble, 82, -4, 4);
  const Tensor cp = random_tensor({B, H}, sigma::kDouble, 83);
  auto [h, c] = sigma::detail::lstm_cell_pointwise(gi, gh, cp);
  const auto a = values(gi), b = values(gh), cv = values(cp), hv = values(h), cn = values(c);
  for (std::int64_t r = 0; r < B; ++r)
    for (std::int64_t j = 0; j < H; ++j) {
      auto g = [&](std::int64_t k) {
        const auto i = static_cast<std::size_t>(r * 4 * H + k * H + j);
        return a[i] + b[i];
      };
      const double cc = sig(g(1)) * cv[static_cast<std::size_t>(r * H + j)] + sig(g(0)) * std::tanh(g(2));
      EXPECT_NEAR(cn[static_cast<std::size_t>(r * H + j)], cc, 4e-15);
      EXPECT_NEAR(hv[static_cast<std::size_t>(r * H + j)], sig(g(3)) * std::tanh(cc), 4e-15);
    }
  // One node per op, producing both outputs.
  const Tensor gl = gi.clone().requires_grad_(true);
  auto [h2, c2] = sigma::detail::lstm_cell_pointwise(gl, cp);
  ASSERT_TRUE(h2.grad_fn());
  EXPECT_EQ(h2.grad_fn(), c2.grad_fn());
  EXPECT_EQ(h2.grad_fn()->name(), "LstmCellPointwiseBackward");
  EXPECT_EQ(c2.output_nr(), 1u);
}

TEST(RnnGradients, Cells) {
  for (Kind kind : kAllKinds) {
    const std::int64_t in = 3, H = 2, B = 2;
    sigma::manual_seed(19);
    nn::LSTMCell lc{nullptr};
    nn::GRUCell gc{nullptr};
    nn::RNNCell rc{nullptr};
    nn::Module* mod = nullptr;
    if (kind == Kind::Lstm) {
      lc = nn::LSTMCell(in, H);
      mod = lc.get();
    } else if (kind == Kind::Gru) {
      gc = nn::GRUCell(in, H);
      mod = gc.get();
    } else {
      rc = nn::RNNCell(nn::RNNCellOptions(in, H).nonlinearity(kind == Kind::RnnRelu ? sigma::kReLU : sigma::kTanh));
      mod = rc.get();
    }
    mod->to(sigma::kDouble);
    TensorList inputs{leaf({B, in}, 91), leaf({B, H}, 92), leaf({B, H}, 93)};
    for (const Tensor& p : mod->parameters()) inputs.push_back(p);
    expect_gradcheck(
        [&](const TensorList& t) -> Tensor {
          if (kind == Kind::Lstm) {
            auto [h, c] = lc(t[0], std::make_tuple(t[1], t[2]));
            return sigma::cat({h, c}, 1);
          }
          // t[2] is unused for single-state cells.
          return (kind == Kind::Gru ? gc(t[0], t[1]) : rc(t[0], t[1])) + 0.0 * t[2];
        },
        inputs, std::string(kind_name(kind)) + "Cell");
  }
}

void gradcheck_module(Kind kind, bool batch_first, bool with_state) {
  Config c;
  c.in = 3;
  c.H = 2;
  c.L = 2;
  c.bidirectional = true;
  c.batch_first = batch_first;
  sigma::manual_seed(23);
  AnyRnn m = make_rnn(kind, c);
  m.module().to(sigma::kDouble);
  const std::int64_t T = 3, B = 2, D = 2;
  TensorList inputs{leaf(batch_first ? Shape{B, T, c.in} : Shape{T, B, c.in}, 101, -2, 2)};
  if (with_state) {
    inputs.push_back(leaf({c.L * D, B, c.H}, 102));
    inputs.push_back(leaf({c.L * D, B, c.H}, 103));
  }
  const std::size_t first_param = inputs.size();
  for (const Tensor& p : m.module().parameters()) inputs.push_back(p);
  expect_gradcheck(
      [&](const TensorList& t) {
        Tensor h0 = with_state ? t[1] : Tensor();
        Tensor c0 = with_state && kind == Kind::Lstm ? t[2] : Tensor();
        auto [out, hn, cn] = m.run(t[0], h0, c0);
        TensorList parts{out.flatten(), hn.flatten() * 0.5};
        if (cn.defined()) parts.push_back(cn.flatten() * 1.5);
        if (with_state && kind != Kind::Lstm) parts.push_back(t[2].flatten() * 0.0);
        return sigma::cat(parts, 0);
      },
      inputs,
      std::string(kind_name(kind)) + " 2-layer bidirectional batch_first=" +
          std::to_string(batch_first) + " state=" + std::to_string(with_state));
  (void)first_param;
}

TEST(RnnGradients, TwoLayerBidirectionalLstm) {
  gradcheck_module(Kind::Lstm, false, true);
  gradcheck_module(Kind::Lstm, true, false);
}

TEST(RnnGradients, TwoLayerBidirectionalGru) {
  gradcheck_module(Kind::Gru, false, true);
  gradcheck_module(Kind::Gru, true, false);
}

TEST(RnnGradients, TwoLayerBidirectionalRnn) {
  gradcheck_module(Kind::RnnTanh, true, true);
  gradcheck_module(Kind::RnnRelu, false, false);
}

TEST(RnnGradients, UnbatchedAndWithoutBias) {
  Config c;
  c.in = 2;
  c.H = 3;
  c.bias = false;
  sigma::manual_seed(29);
  AnyRnn m = make_rnn(Kind::Lstm, c);
  m.module().to(sigma::kDouble);
  TensorList inputs{leaf({4, c.in}, 111)};
  for (const Tensor& p : m.module().parameters()) inputs.push_back(p);
  EXPECT_EQ(m.module().parameters().size(), 2u);
  expect_gradcheck(
      [&](const TensorList& t) {
        auto [out, hn, cn] = m.run(t[0]);
        return sigma::cat({out.flatten(), cn.flatten()}, 0);
      },
      inputs, "unbatched LSTM without bias");
}

TEST(RnnGradients, RetainGraphAccumulatesTwiceAndFreedGraphThrows) {
  Config c;
  sigma::manual_seed(31);
  AnyRnn m = make_rnn(Kind::Gru, c);
  const Tensor x = random_tensor({3, 2, c.in}, sigma::kFloat, 121).requires_grad_(true);
  auto [out, hn, cn] = m.run(x);
  const Tensor loss = out.sum() + hn.sum();
  loss.backward({}, true);
  const auto g1 = values(x.grad());
  const auto w1 = values(m.gru->named_parameters()["weight_hh_l0"].grad());
  loss.backward();
  const auto g2 = values(x.grad());
  const auto w2 = values(m.gru->named_parameters()["weight_hh_l0"].grad());
  for (std::size_t i = 0; i < g1.size(); ++i) EXPECT_NEAR(g2[i], 2 * g1[i], 1e-6 * (1 + std::fabs(g1[i])));
  for (std::size_t i = 0; i < w1.size(); ++i) EXPECT_NEAR(w2[i], 2 * w1[i], 1e-6 * (1 + std::fabs(w1[i])));
  expect_error([&] { loss.backward(); }, {"second time"});
}

TEST(RnnGradients, InPlaceChangeOfOutputIsDetected) {
  Config c;
  AnyRnn m = make_rnn(Kind::Lstm, c);
  const Tensor x = random_tensor({3, 2, c.in}, sigma::kFloat, 131);
  auto [out, hn, cn] = m.run(x);
  out.mul_(2.0);
  expect_error([&] { out.sum().backward(); }, {"modified by an in-place operation"});
}

TEST(RnnGradients, OnlyInitialStateRequiresGrad) {
  // Frozen weights, input without grad: the gradient reaches h0 and c0 alone.
  Config c;
  c.in = 2;
  c.H = 3;
  c.L = 2;
  sigma::manual_seed(37);
  AnyRnn m = make_rnn(Kind::Lstm, c);
  m.module().to(sigma::kDouble);
  for (Tensor p : m.module().parameters()) p.requires_grad_(false);
  const Tensor x = random_tensor({3, 2, c.in}, sigma::kDouble, 141);
  expect_gradcheck(
      [&](const TensorList& t) {
        auto [out, hn, cn] = m.run(x, t[0], t[1]);
        return sigma::cat({out.flatten(), cn.flatten()}, 0);
      },
      {leaf({2, 2, 3}, 142), leaf({2, 2, 3}, 143)}, "h0 and c0 only");
}

TEST(RnnGradients, GraphHasOneFusedNodePerStep) {
  Config c;
  c.bidirectional = true;
  AnyRnn m = make_rnn(Kind::Lstm, c);
  const std::int64_t T = 4;
  auto [out, hn, cn] = m.run(random_tensor({T, 2, c.in}, sigma::kFloat, 161));
  ASSERT_TRUE(out.grad_fn());
  EXPECT_EQ(out.grad_fn()->name(), "RecurrentOutputBackward");
  const auto& steps = out.grad_fn()->next_edges();
  ASSERT_EQ(steps.size(), static_cast<std::size_t>(2 * T));
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& node = steps[i].function;
    ASSERT_TRUE(node);
    EXPECT_EQ(node->name(), "LstmCellPointwiseBackward");
    // Inputs: the step's slice of x W_ih^T, h W_hh^T (none at the first
    // step without h0), c_prev (likewise).
    const auto& in = node->next_edges();
    ASSERT_EQ(in.size(), 3u);
    EXPECT_EQ(in[0].function->name(), "RecurrentStepsBackward");
    const bool first = i == 0 || i == static_cast<std::size_t>(2 * T - 1);
    EXPECT_EQ(in[1].is_valid(), !first) << i;
    if (!first) {
      EXPECT_EQ(in[1].function->name(), "MmBackward");
      const auto& prev = i < static_cast<std::size_t>(T) ? steps[i - 1] : steps[i + 1];
      EXPECT_EQ(in[2].function.get(), prev.function.get()) << i;
    }
  }
}

// ---- Parameters: PyTorch's names, order, shapes; initialisation.

TEST(RnnParameters, NamesOrderAndShapesArePyTorchs) {
  // As printed by [(n, tuple(p.shape)) for n, p in
  // torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True).named_parameters()].
  const std::vector<std::pair<std::string, Shape>> lstm_expected{
      {"weight_ih_l0", {80, 10}},         {"weight_hh_l0", {80, 20}},
      {"bias_ih_l0", {80}},               {"bias_hh_l0", {80}},
      {"weight_ih_l0_reverse", {80, 10}}, {"weight_hh_l0_reverse", {80, 20}},
      {"bias_ih_l0_reverse", {80}},       {"bias_hh_l0_reverse", {80}},
      {"weight_ih_l1", {80, 40}},         {"weight_hh_l1", {80, 20}},
      {"bias_ih_l1", {80}},               {"bias_hh_l1", {80}},
      {"weight_ih_l1_reverse", {80, 40}}, {"weight_hh_l1_reverse", {80, 20}},
      {"bias_ih_l1_reverse", {80}},       {"bias_hh_l1_reverse", {80}}};
  nn::LSTM lstm(nn::LSTMOptions(10, 20).num_layers(2).bidirectional(true));
  auto check = [](nn::Module& m, const std::vector<std::pair<std::string, Shape>>& expected) {
    auto p = m.named_parameters();
    ASSERT_EQ(p.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(p[i].key(), expected[i].first);
      EXPECT_EQ(p[i].value().sizes().vec(), expected[i].second) << expected[i].first;
      EXPECT_TRUE(p[i].value().requires_grad());
    }
  };
  check(*lstm, lstm_expected);
  EXPECT_EQ(lstm->all_weights().size(), 16u);
  EXPECT_TRUE(lstm->all_weights()[9].is_same(lstm->named_parameters()["weight_hh_l1"]));

  // torch.nn.GRU(4, 5, num_layers=3, bias=False)
  nn::GRU gru(nn::GRUOptions(4, 5).num_layers(3).bias(false));
  check(*gru, {{"weight_ih_l0", {15, 4}},
               {"weight_hh_l0", {15, 5}},
               {"weight_ih_l1", {15, 5}},
               {"weight_hh_l1", {15, 5}},
               {"weight_ih_l2", {15, 5}},
               {"weight_hh_l2", {15, 5}}});
  // torch.nn.RNN(3, 7, bidirectional=True)
  nn::RNN rnn(nn::RNNOptions(3, 7).bidirectional(true));
  check(*rnn, {{"weight_ih_l0", {7, 3}},
               {"weight_hh_l0", {7, 7}},
               {"bias_ih_l0", {7}},
               {"bias_hh_l0", {7}},
               {"weight_ih_l0_reverse", {7, 3}},
               {"weight_hh_l0_reverse", {7, 7}},
               {"bias_ih_l0_reverse", {7}},
               {"bias_hh_l0_reverse", {7}}});
  // Cells: torch.nn.LSTMCell(10, 20), GRUCell(10, 20, bias=False), RNNCell(10, 20)
  nn::LSTMCell lc(10, 20);
  check(*lc, {{"weight_ih", {80, 10}}, {"weight_hh", {80, 20}}, {"bias_ih", {80}}, {"bias_hh", {80}}});
  EXPECT_TRUE(lc->weight_ih.is_same(lc->named_parameters()["weight_ih"]));
  nn::GRUCell gc(nn::GRUCellOptions(10, 20).bias(false));
  check(*gc, {{"weight_ih", {60, 10}}, {"weight_hh", {60, 20}}});
  EXPECT_FALSE(gc->bias_ih.defined());
  nn::RNNCell rc(10, 20);
  check(*rc, {{"weight_ih", {20, 10}}, {"weight_hh", {20, 20}}, {"bias_ih", {20}}, {"bias_hh", {20}}});
}

TEST(RnnParameters, InitIsUniformWithinOneOverSqrtHidden) {
  sigma::manual_seed(1);
  const std::int64_t H = 64;
  nn::LSTM lstm(nn::LSTMOptions(32, H).num_layers(2));
  nn::GRUCell cell(32, H);
  const double bound = 1.0 / std::sqrt(static_cast<double>(H));
  for (nn::Module* m : {static_cast<nn::Module*>(lstm.get()), static_cast<nn::Module*>(cell.get())})
    for (const auto& item : m->named_parameters()) {
      const auto v = values(item.value());
      const auto [mn, mx] = std::minmax_element(v.begin(), v.end());
      EXPECT_GE(*mn, -bound) << item.key();
      EXPECT_LE(*mx, bound) << item.key();
      // U(-b, b): the extremes come close to the bounds, the mean near 0.
      EXPECT_LT(*mn, -0.9 * bound) << item.key();
      EXPECT_GT(*mx, 0.9 * bound) << item.key();
      double mean = 0;
      for (double x : v) mean += x;
      mean /= static_cast<double>(v.size());
      EXPECT_LT(std::fabs(mean), 0.2 * bound) << item.key();
    }
  // reset_parameters draws new values; manual_seed makes them reproducible.
  const auto before = values(lstm->named_parameters()["weight_hh_l1"]);
  lstm->reset_parameters();
  EXPECT_NE(values(lstm->named_parameters()["weight_hh_l1"]), before);
  sigma::manual_seed(1);
  nn::LSTM again(nn::LSTMOptions(32, H).num_layers(2));
  EXPECT_EQ(values(again->named_parameters()["weight_hh_l1"]), before);
}

// ---- Reprs (PyTorch's, non-default options only).

std::string repr(const nn::Module& m) {
  std::ostringstream s;
  s << m;
  return s.str();
}

TEST(RnnRepr, MatchesPyTorch) {
  EXPECT_EQ(repr(*nn::LSTM(nn::LSTMOptions(64, 128).num_layers(2).batch_first(true))),
            "LSTM(64, 128, num_layers=2, batch_first=True)");
  EXPECT_EQ(repr(*nn::LSTM(64, 128)), "LSTM(64, 128)");
  EXPECT_EQ(repr(*nn::GRU(nn::GRUOptions(10, 20).bias(false).dropout(0.5).bidirectional(true))),
            "GRU(10, 20, bias=False, dropout=0.5, bidirectional=True)");
  EXPECT_EQ(repr(*nn::RNN(nn::RNNOptions(3, 4).nonlinearity(sigma::kReLU).num_layers(3))),
            "RNN(3, 4, num_layers=3)");
  EXPECT_EQ(repr(*nn::LSTMCell(10, 20)), "LSTMCell(10, 20)");
  EXPECT_EQ(repr(*nn::GRUCell(nn::GRUCellOptions(10, 20).bias(false))), "GRUCell(10, 20, bias=False)");
  EXPECT_EQ(repr(*nn::RNNCell(10, 20)), "RNNCell(10, 20)");
  EXPECT_EQ(repr(*nn::RNNCell(nn::RNNCellOptions(10, 20).nonlinearity(sigma::kReLU))),
            "RNNCell(10, 20, nonlinearity=relu)");
}

TEST(RnnOptions, DefaultsAndChaining) {
  nn::LSTMOptions o(64, 128);
  EXPECT_EQ(o.num_layers(), 1);
  EXPECT_TRUE(o.bias());
  EXPECT_FALSE(o.batch_first());
  EXPECT_EQ(o.dropout(), 0.0);
  EXPECT_FALSE(o.bidirectional());
  EXPECT_EQ(o.proj_size(), 0);
  o.num_layers(2).batch_first(true).dropout(0.25);
  EXPECT_EQ(o.num_layers(), 2);
  EXPECT_TRUE(o.batch_first());
  EXPECT_EQ(o.dropout(), 0.25);
  EXPECT_EQ(nn::RNNOptions(1, 2).nonlinearity(), sigma::kTanh);
  EXPECT_EQ(nn::RNNCellOptions(1, 2).nonlinearity(), sigma::kTanh);
  EXPECT_TRUE(nn::GRUCellOptions(1, 2).bias());
  nn::LSTM m(nn::LSTMOptions(4, 5).num_layers(2));
  EXPECT_EQ(m->options.num_layers(), 2);
  EXPECT_EQ(m->options_base.hidden_size(), 5);
}

// ---- Errors.

TEST(RnnErrors, InputWidthAndStates) {
  nn::LSTM lstm(10, 20);
  expect_error([&] { lstm(sigma::zeros({5, 3, 7})); }, {"LSTM", "input_size", "Expected 10", "got 7"});
  expect_error([&] { lstm(sigma::zeros({5, 3, 10}), std::make_tuple(sigma::zeros({1, 3, 21}), sigma::zeros({1, 3, 20}))); },
               {"LSTM", "h0", "[1, 3, 20]", "[1, 3, 21]"});
  expect_error([&] { lstm(sigma::zeros({5, 3, 10}), std::make_tuple(sigma::zeros({1, 3, 20}), sigma::zeros({2, 3, 20}))); },
               {"LSTM", "c0", "[1, 3, 20]", "[2, 3, 20]"});
  expect_error([&] { lstm(sigma::zeros({5, 3, 10}), std::make_tuple(sigma::zeros({3, 20}), sigma::zeros({3, 20}))); },
               {"LSTM", "batched 3-D input", "3-D", "[3, 20]"});
  expect_error([&] { lstm(sigma::zeros({2, 5, 3, 10})); }, {"LSTM", "2-D", "3-D", "[2, 5, 3, 10]"});
  expect_error([&] { lstm(sigma::zeros({0, 3, 10})); }, {"LSTM", "sequence length", "[0, 3, 10]"});
  expect_error([&] { lstm(sigma::zeros({5, 3, 10}, sigma::kDouble)); }, {"LSTM", "float64", "float32"});
  nn::GRU gru(nn::GRUOptions(4, 6).num_layers(2));
  expect_error([&] { gru(sigma::zeros({5, 4}), sigma::zeros({2, 1, 6})); },
               {"GRU", "unbatched 2-D input", "[2, 1, 6]"});
  expect_error([&] { gru(sigma::zeros({5, 4}), sigma::zeros({1, 6})); }, {"GRU", "[2, 6]", "[1, 6]"});
  nn::RNN rnn(nn::RNNOptions(4, 6).batch_first(true));
  expect_error([&] { rnn(sigma::zeros({3, 5, 4}), sigma::zeros({1, 5, 6})); },
               {"RNN", "[1, 3, 6]", "[1, 5, 6]"});
}

TEST(RnnErrors, Cells) {
  nn::LSTMCell lc(10, 20);
  expect_error([&] { lc(sigma::zeros({3, 7})); }, {"LSTMCell", "input_size", "got 7", "expected 10"});
  expect_error([&] { lc(sigma::zeros({3, 10}), std::make_tuple(sigma::zeros({3, 21}), sigma::zeros({3, 20}))); },
               {"LSTMCell", "hx", "[3, 20]", "[3, 21]"});
  expect_error([&] { lc(sigma::zeros({2, 3, 10})); }, {"LSTMCell", "1-D or 2-D", "[2, 3, 10]"});
  nn::GRUCell gc(4, 6);
  expect_error([&] { gc(sigma::zeros({4}), sigma::zeros({1, 6})); }, {"GRUCell", "hx", "1-D"});
  expect_error([&] { gc(sigma::zeros({2, 4}), sigma::zeros({3, 6})); }, {"GRUCell", "[2, 6]", "[3, 6]"});
  nn::RNNCell rc(4, 6);
  expect_error([&] { rc(sigma::zeros({2, 5})); }, {"RNNCell", "got 5", "expected 4"});
}

TEST(RnnErrors, Options) {
  expect_error([] { nn::LSTM(nn::LSTMOptions(4, 0)); }, {"LSTM", "hidden_size", "0"});
  expect_error([] { nn::GRU(nn::GRUOptions(4, 3).num_layers(0)); }, {"GRU", "num_layers"});
  expect_error([] { nn::RNN(nn::RNNOptions(4, 3).dropout(1.5)); }, {"RNN", "dropout", "1.5"});
  expect_error([] { nn::LSTM(nn::LSTMOptions(4, 3).proj_size(2)); }, {"LSTM", "proj_size"});
  expect_error([] { nn::RNN(nn::RNNOptions(4, 3).nonlinearity(sigma::kSigmoid)); },
               {"RNN", "nonlinearity"});
}

TEST(RnnErrors, PointwiseOps) {
  expect_error([] { sigma::detail::lstm_cell_pointwise(sigma::zeros({2, 7}), Tensor()); },
               {"lstm_cell_pointwise", "[2, 7]"});
  expect_error([] { sigma::detail::lstm_cell_pointwise(sigma::zeros({2, 8}), sigma::zeros({2, 3})); },
               {"lstm_cell_pointwise", "c_prev", "[2, 3]", "[2, 2]"});
  expect_error([] { sigma::detail::gru_cell_pointwise(sigma::zeros({2, 6}), sigma::zeros({3, 6}), Tensor()); },
               {"gru_cell_pointwise", "gh", "[3, 6]", "[2, 6]"});
  expect_error([] { sigma::detail::rnn_cell_pointwise(sigma::zeros({2, 4}, sigma::kLong), Tensor(), false); },
               {"rnn_cell_pointwise", "int64"});
}

// ---- Other dtypes.

TEST(RnnModules, ReducedPrecisionComputesInFloat32) {
  Config c;
  c.L = 2;
  c.bidirectional = true;
  sigma::manual_seed(43);
  AnyRnn m = make_rnn(Kind::Lstm, c);
  const Tensor x = random_tensor({4, 2, c.in}, sigma::kFloat, 151);
  m.module().to(sigma::kBFloat16);
  const Tensor xb = x.to(sigma::kBFloat16);
  auto [out, hn, cn] = m.run(xb);
  EXPECT_EQ(out.dtype(), sigma::kBFloat16);
  EXPECT_EQ(cn.dtype(), sigma::kBFloat16);
  // The reference from the bf16 weights and input, in double.
  const RefOut r = reference(Kind::Lstm, c, weights_of(m.module(), c), values(xb), 4, 2, {}, {});
  expect_close(values(out), r.out, 1e-2, 1e-2, "bf16 output");
  out.sum().backward();
  for (const Tensor& p : m.module().parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().dtype(), sigma::kBFloat16);
  }
}

}  // namespace
