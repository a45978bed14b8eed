// Tests of src/ops/linalg.cpp: mm, bmm, dot and matmul. The reference is a
// naive triple loop in long double that applies NumPy's matmul rules itself
// (1-D promotion, batch broadcasting); float tolerances scale with
// k * eps * sum |a||b|. Gradients are checked against central differences in
// float64.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "sigma/tensor.h"
#include "tensor_checks.h"

extern "C" int openblas_get_num_threads(void);
extern "C" void openblas_set_num_threads(int num_threads);

namespace {

using sigma::Tensor;
using sigma::TensorList;
using sigma::test::check_grad;
using sigma::test::expect_error;
using sigma::test::numel;
using sigma::test::random_tensor;
using sigma::test::Shape;
using sigma::test::values;

template <class F> std::string error_of(F&& body) {
  try {
    body();
  } catch (const sigma::Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct Ref {
  Shape shape;
  std::vector<long double> v, mag;  // values and sum |a||b| per element
  std::int64_t k = 0;
};

// NumPy/PyTorch matmul semantics, written out independently.
Ref ref_matmul(const Tensor& a, const Tensor& b) {
  const std::vector<double> av = values(a), bv = values(b);
  Shape sa = a.sizes().vec(), sb = b.sizes().vec();
  const bool a1 = sa.size() == 1, b1 = sb.size() == 1;
  if (a1) sa.insert(sa.begin(), 1);
  if (b1) sb.push_back(1);
  const std::int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
  const Shape ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  const std::size_t r = std::max(ba.size(), bb.size());
  Shape batch(r), pa(r, 1), pb(r, 1);  // padded batch shapes
  for (std::size_t i = 0; i < r; ++i) {
    if (i >= r - ba.size()) pa[i] = ba[i - (r - ba.size())];
    if (i >= r - bb.size()) pb[i] = bb[i - (r - bb.size())];
    batch[i] = std::max(pa[i], pb[i]);
  }
  Ref out;
  out.k = k;
  out.shape = batch;
  if (!a1) out.shape.push_back(m);
  if (!b1) out.shape.push_back(n);
  const std::int64_t nb = numel(batch);
  Shape idx(r, 0);
  for (std::int64_t q = 0; q < nb; ++q) {
    std::int64_t oa = 0, ob = 0;
    for (std::size_t i = 0; i < r; ++i) {
      oa = oa * pa[i] + (pa[i] == 1 ? 0 : idx[i]);
      ob = ob * pb[i] + (pb[i] == 1 ? 0 : idx[i]);
    }
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        long double s = 0, g = 0;
        for (std::int64_t p = 0; p < k; ++p) {
          const long double x = av[static_cast<std::size_t>(oa * m * k + i * k + p)];
          const long double y = bv[static_cast<std::size_t>(ob * k * n + p * n + j)];
          s += x * y;
          g += std::fabs(x * y);
        }
        out.v.push_back(s);
        out.mag.push_back(g);
      }
    for (std::size_t i = r; i-- > 0;) {
      if (++idx[i] < batch[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

double eps_of(sigma::ScalarType t) {
  switch (t) {
    case sigma::kFloat64: return std::ldexp(1.0, -53);
    case sigma::kBFloat16: return std::ldexp(1.0, -8);
    case sigma::kFloat16: return std::ldexp(1.0, -11);
    default: return std::ldexp(1.0, -24);
  }
}

void expect_matches(const Tensor& got, const Ref& ref, const std::string& what) {
  ASSERT_EQ(got.sizes().vec(), ref.shape) << what;
  const auto g = values(got);
  ASSERT_EQ(g.size(), ref.v.size()) << what;
  const sigma::ScalarType t = got.dtype();
  // Accumulated in f32 (or f64): about k eps sum|a||b|; 16-bit outputs add one
  // rounding of the result.
  const double acc_eps = eps_of(t == sigma::kFloat64 ? t : sigma::kFloat32);
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double ref_v = static_cast<double>(ref.v[i]);
    double tol = 2.0 * static_cast<double>(ref.k + 1) * acc_eps * static_cast<double>(ref.mag[i]) + 1e-300;
    if (t == sigma::kBFloat16 || t == sigma::kFloat16) tol += eps_of(t) * std::fabs(ref_v);
    EXPECT_NEAR(g[i], ref_v, tol) << what << " element " << i;
  }
}

struct Pair {
  Shape a, b;
};

// Every rank combination of PyTorch's matmul rules.
const std::vector<Pair> kRankCases = {
    {{3}, {3}},             {{2, 3}, {3}},          {{3}, {3, 4}},          {{2, 3}, {3, 4}},
    {{2, 2, 3}, {3}},       {{2, 2, 3}, {3, 4}},    {{3}, {2, 3, 4}},       {{2, 3}, {5, 3, 4}},
    {{2, 2, 3}, {2, 3, 4}}, {{2, 1, 3, 4}, {5, 4, 2}}, {{5, 3, 4}, {2, 1, 4, 2}},
    {{1, 3, 4}, {6, 4, 2}}, {{4}, {2, 3, 4, 5}},    {{4, 1, 2, 3}, {3, 3}}, {{2, 3, 1, 4}, {4}},
    {{1, 1}, {1, 1}},       {{3, 1}, {1, 3}},
};

TEST(Matmul, AllRankCombinationsMatchNaiveLoops) {
  for (auto t : {sigma::kFloat32, sigma::kFloat64}) {
    std::uint64_t seed = 1;
    for (const auto& c : kRankCases) {
      Tensor a = random_tensor(c.a, t, seed++), b = random_tensor(c.b, t, seed++);
      const std::string what = sigma::shape_string(c.a) + " @ " + sigma::shape_string(c.b);
      Tensor r = sigma::matmul(a, b);
      EXPECT_EQ(r.dtype(), t) << what;
      expect_matches(r, ref_matmul(a, b), what);
      expect_matches(a.matmul(b), ref_matmul(a, b), what);
    }
  }
  EXPECT_EQ(sigma::matmul(sigma::ones({3}), sigma::ones({3})).dim(), 0);
  EXPECT_EQ(sigma::matmul(sigma::ones({2, 1, 3, 4}), sigma::ones({5, 4, 2})).sizes().vec(),
            (Shape{2, 5, 3, 2}));
}

// Contiguous, transposed, strided (not BLAS-compatible: copied) and
// expanded operands.
std::vector<std::pair<std::string, Tensor>> layouts(std::int64_t rows, std::int64_t cols,
                                                    sigma::ScalarType t, std::uint64_t seed) {
  return {
      {"contiguous", random_tensor({rows, cols}, t, seed)},
      {"transposed", random_tensor({cols, rows}, t, seed + 1).t()},
      {"column-sliced", random_tensor({rows, 2 * cols + 1}, t, seed + 2).slice(1, 1, 2 * cols + 1, 2)},
      {"row-sliced", random_tensor({3 * rows, cols}, t, seed + 3).slice(0, 0, 3 * rows, 3)},
      {"expanded", random_tensor({1, cols}, t, seed + 4).expand({rows, cols})},
      {"sliced-transposed", random_tensor({cols + 2, rows + 3}, t, seed + 5).slice(0, 1, cols + 1).slice(1, 2, rows + 2).t()},
  };
}

TEST(Mm, LayoutsMatchNaiveLoops) {
  for (auto t : {sigma::kFloat32, sigma::kFloat64}) {
    for (const auto& [na, a] : layouts(5, 7, t, 10))
      for (const auto& [nb, b] : layouts(7, 4, t, 20)) {
        Tensor r = sigma::mm(a, b);
        EXPECT_TRUE(r.is_contiguous());
        expect_matches(r, ref_matmul(a, b), na + " x " + nb);
      }
  }
}

TEST(Mm, LargeMatrices) {
  Tensor a = random_tensor({123, 301}, sigma::kFloat32, 3), b = random_tensor({150, 301}, sigma::kFloat32, 4);
  expect_matches(a.mm(b.t()), ref_matmul(a, b.t()), "large");
}

// Products large enough to be cut into tiles of C (kGemmGrain in
// src/ops/linalg.cpp): by rows (m >= n) and by columns, with transposed
// operands as BLAS takes them without a copy.
TEST(Mm, TiledProductsMatchNaiveLoops) {
  Tensor a = random_tensor({300, 200}, sigma::kFloat32, 11), b = random_tensor({256, 200}, sigma::kFloat32, 12);
  expect_matches(a.mm(b.t()), ref_matmul(a, b.t()), "tiles of rows");
  Tensor c = random_tensor({300, 40}, sigma::kFloat32, 13), d = random_tensor({300, 600}, sigma::kFloat32, 14);
  expect_matches(c.t().mm(d), ref_matmul(c.t(), d), "tiles of columns");
  Tensor e = random_tensor({3, 100, 300}, sigma::kFloat64, 15), f = random_tensor({3, 300, 130}, sigma::kFloat64, 16);
  expect_matches(e.bmm(f), ref_matmul(e, f), "batched tiles");
}

// The LSTM's products (tanh/sigmoid training of LSTM(64, 128), batch 32,
// 50 steps) and a batch of small ones: the same bits for any thread count.
TEST(Mm, SameBitsForAnyThreadCount) {
  const Tensor x = random_tensor({1600, 64}, sigma::kFloat32, 21);
  const Tensor w_ih = random_tensor({512, 64}, sigma::kFloat32, 22);
  const Tensor w_hh = random_tensor({512, 128}, sigma::kFloat32, 23);
  const Tensor h = random_tensor({32, 128}, sigma::kFloat32, 24);
  const Tensor dg = random_tensor({32, 512}, sigma::kFloat32, 25);
  const Tensor dgs = random_tensor({1600, 512}, sigma::kFloat32, 26);
  const Tensor hs = random_tensor({1600, 128}, sigma::kFloat32, 27);
  const Tensor ba = random_tensor({64, 4, 4}, sigma::kFloat64, 28), bb = random_tensor({64, 4, 4}, sigma::kFloat64, 29);
  const Tensor va = random_tensor({100000}, sigma::kFloat64, 30), vb = random_tensor({100000}, sigma::kFloat64, 31);
  sigma::test::expect_same_bits_for_any_thread_count(
      [&] {
        return std::vector<Tensor>{x.mm(w_ih.t()),   h.mm(w_hh.t()),    dg.mm(w_hh),
                                   dgs.t().mm(hs),   dgs.t().mm(x),     dgs.mm(w_ih),
                                   ba.bmm(bb),       va.dot(vb)};
      },
      "LSTM products");
}

// sigma calls OpenBLAS single-threaded and puts the program's setting back.
TEST(Mm, LeavesOpenBlasThreadCountAsItFoundIt) {
  const int saved = openblas_get_num_threads();
  for (int n : {1, 2, 3}) {
    openblas_set_num_threads(n);
    Tensor a = random_tensor({200, 300}, sigma::kFloat32, 1), b = random_tensor({300, 400}, sigma::kFloat32, 2);
    (void)a.mm(b);
    (void)random_tensor({5000}, sigma::kFloat64, 3).dot(random_tensor({5000}, sigma::kFloat64, 4));
    EXPECT_EQ(openblas_get_num_threads(), n);
  }
  openblas_set_num_threads(saved);
}

TEST(Mm, SixteenBitComputesInFloat32) {
  for (auto t : {sigma::kBFloat16, sigma::kFloat16}) {
    Tensor a = random_tensor({6, 9}, t, 5), b = random_tensor({9, 3}, t, 6);
    Tensor r = a.mm(b);
    EXPECT_EQ(r.dtype(), t);
    expect_matches(r, ref_matmul(a, b), sigma::to_string(t));
    expect_matches(a.t().t().mm(b.t().contiguous().t()), ref_matmul(a, b), "transposed");
    Tensor ba = random_tensor({2, 6, 9}, t, 7);
    expect_matches(ba.matmul(b), ref_matmul(ba, b), "batched");
  }
}

TEST(Bmm, MatchesLoopsIncludingStridedBatches) {
  for (auto t : {sigma::kFloat32, sigma::kFloat64}) {
    Tensor a = random_tensor({4, 3, 5}, t, 1), b = random_tensor({4, 5, 2}, t, 2);
    expect_matches(a.bmm(b), ref_matmul(a, b), "plain");
    Tensor at = random_tensor({4, 5, 3}, t, 3).transpose(1, 2);
    Tensor bp = random_tensor({5, 4, 2}, t, 4).permute({1, 0, 2});
    expect_matches(at.bmm(bp), ref_matmul(at, bp), "transposed / permuted");
    Tensor be = random_tensor({1, 5, 2}, t, 5).expand({4, 5, 2});
    expect_matches(a.bmm(be), ref_matmul(a, be), "expanded batch");
    // Many small products: spread over threads.
    Tensor ma = random_tensor({64, 4, 4}, t, 6), mb = random_tensor({64, 4, 4}, t, 7);
    expect_matches(ma.bmm(mb), ref_matmul(ma, mb), "many small");
  }
}

TEST(Dot, MatchesLoopsOnStridedInputs) {
  for (auto t : {sigma::kFloat32, sigma::kFloat64, sigma::kBFloat16}) {
    Tensor a = random_tensor({31}, t, 8);
    Tensor b = random_tensor({62}, t, 9).slice(0, 0, 62, 2);
    Tensor c = random_tensor({1}, t, 10).expand({31});
    expect_matches(a.dot(b), ref_matmul(a, b), "strided");
    expect_matches(sigma::dot(b, c), ref_matmul(b, c), "expanded");
    EXPECT_EQ(a.dot(b).dim(), 0);
  }
}

TEST(Matmul, EmptyOperands) {
  EXPECT_EQ(sigma::matmul(sigma::ones({0, 3}), sigma::ones({3, 4})).sizes().vec(), (Shape{0, 4}));
  for (auto t : {sigma::kFloat32, sigma::kBFloat16}) {
    Tensor z = sigma::matmul(sigma::ones({2, 0}, t), sigma::ones({0, 3}, t));
    EXPECT_EQ(z.sizes().vec(), (Shape{2, 3}));
    EXPECT_EQ(z.dtype(), t);
    EXPECT_EQ(values(z), std::vector<double>(6, 0.0));
  }
  EXPECT_EQ(sigma::bmm(sigma::ones({0, 2, 3}), sigma::ones({0, 3, 4})).sizes().vec(), (Shape{0, 2, 4}));
  EXPECT_EQ(sigma::dot(sigma::ones({0}), sigma::ones({0})).item<double>(), 0.0);
  Tensor a = sigma::ones({2, 0}, sigma::kFloat64).requires_grad_(true);
  Tensor b = sigma::ones({0, 3}, sigma::kFloat64).requires_grad_(true);
  a.mm(b).sum().backward();
  EXPECT_EQ(a.grad().sizes().vec(), (Shape{2, 0}));
  EXPECT_EQ(b.grad().sizes().vec(), (Shape{0, 3}));
}

TEST(Matmul, ErrorMessages) {
  EXPECT_EQ(error_of([] { sigma::matmul(sigma::zeros({3, 4}), sigma::zeros({5, 2})); }),
            "matmul: shapes [3, 4] and [5, 2] cannot be multiplied (4 != 5)");
  EXPECT_EQ(error_of([] { sigma::mm(sigma::zeros({3, 4}), sigma::zeros({5, 2})); }),
            "mm: shapes [3, 4] and [5, 2] cannot be multiplied (4 != 5)");
  EXPECT_EQ(error_of([] { sigma::bmm(sigma::zeros({2, 3, 4}), sigma::zeros({2, 5, 2})); }),
            "bmm: shapes [2, 3, 4] and [2, 5, 2] cannot be multiplied (4 != 5)");
  EXPECT_EQ(error_of([] { sigma::dot(sigma::zeros({3}), sigma::zeros({4})); }),
            "dot: shapes [3] and [4] cannot be multiplied (3 != 4)");
  EXPECT_EQ(error_of([] { sigma::matmul(sigma::zeros({2, 3}), sigma::zeros({4})); }),
            "matmul: shapes [2, 3] and [4] cannot be multiplied (3 != 4)");
  expect_error([] { sigma::matmul(sigma::zeros({3, 4}), sigma::zeros({4, 2}, sigma::kFloat64)); },
               {"matmul", "float32", "float64"});
  expect_error([] { sigma::mm(sigma::zeros({3, 4}, sigma::kFloat64), sigma::zeros({4, 2})); },
               {"mm", "float64", "float32"});
  EXPECT_EQ(error_of([] { sigma::matmul(sigma::arange(6).reshape({2, 3}), sigma::arange(3)); }),
            "matmul: expected floating-point tensors, got int64");
  expect_error([] { sigma::matmul(sigma::scalar_tensor(1.0), sigma::zeros({3})); }, {"matmul", "1-D", "[]"});
  expect_error([] { sigma::mm(sigma::zeros({3}), sigma::zeros({3, 4})); }, {"mm", "2-D", "[3]", "[3, 4]"});
  expect_error([] { sigma::bmm(sigma::zeros({3, 4}), sigma::zeros({4, 2})); }, {"bmm", "3-D"});
  expect_error([] { sigma::bmm(sigma::zeros({2, 3, 4}), sigma::zeros({3, 4, 2})); },
               {"bmm", "[2, 3, 4]", "[3, 4, 2]", "2 != 3"});
  expect_error([] { sigma::dot(sigma::zeros({2, 2}), sigma::zeros({4})); }, {"dot", "1-D", "[2, 2]"});
  expect_error([] { sigma::matmul(sigma::zeros({2, 3, 4}), sigma::zeros({3, 4, 5})); },
               {"matmul", "[2, 3, 4]", "[3, 4, 5]", "broadcast"});
}

TEST(Matmul, GradientsMatchCentralDifferences) {
  const auto f64 = sigma::kFloat64;
  check_grad([](const TensorList& in) { return sigma::mm(in[0], in[1]); },
             {random_tensor({3, 4}, f64, 1), random_tensor({4, 2}, f64, 2)});
  check_grad([](const TensorList& in) { return sigma::mm(in[0].t(), in[1].t()); },
             {random_tensor({4, 3}, f64, 3), random_tensor({2, 4}, f64, 4)});
  check_grad([](const TensorList& in) { return sigma::bmm(in[0], in[1].transpose(1, 2)); },
             {random_tensor({2, 3, 4}, f64, 5), random_tensor({2, 2, 4}, f64, 6)});
  check_grad([](const TensorList& in) { return sigma::dot(in[0], in[1]); },
             {random_tensor({5}, f64, 7), random_tensor({5}, f64, 8)});
  for (const auto& c : kRankCases)
    check_grad([](const TensorList& in) { return sigma::matmul(in[0], in[1]); },
               {random_tensor(c.a, f64, 9), random_tensor(c.b, f64, 10)});
}

TEST(Matmul, BackwardNodesAndPartialGradients) {
  Tensor a = random_tensor({3, 4}, sigma::kFloat64, 1).requires_grad_(true);
  Tensor b = random_tensor({4, 2}, sigma::kFloat64, 2);
  Tensor c = a.mm(b);
  EXPECT_EQ(c.grad_fn()->name(), "MmBackward");
  EXPECT_EQ(a.matmul(b).grad_fn()->name(), "MmBackward");
  c.sum().backward();
  EXPECT_TRUE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  // dA = ones(3, 2) B^T: every row of dA is the row sums of B.
  const auto bv = values(b), ga = values(a.grad());
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t p = 0; p < 4; ++p)
      EXPECT_NEAR(ga[static_cast<std::size_t>(i * 4 + p)], bv[static_cast<std::size_t>(p * 2)] + bv[static_cast<std::size_t>(p * 2 + 1)], 1e-15);
  Tensor x = random_tensor({2, 3, 4}, sigma::kFloat64, 3).requires_grad_(true);
  EXPECT_EQ(x.bmm(random_tensor({2, 4, 1}, sigma::kFloat64, 4)).grad_fn()->name(), "BmmBackward");
  Tensor v = random_tensor({4}, sigma::kFloat64, 5).requires_grad_(true);
  EXPECT_EQ(v.dot(v).grad_fn()->name(), "DotBackward");
  EXPECT_EQ(v.matmul(v).grad_fn()->name(), "DotBackward");
  // Gradients in float32 keep the dtype.
  Tensor f = random_tensor({3, 4}, sigma::kFloat32, 6).requires_grad_(true);
  f.matmul(random_tensor({2, 4, 5}, sigma::kFloat32, 7)).sum().backward();
  EXPECT_EQ(f.grad().dtype(), sigma::kFloat32);
  EXPECT_EQ(f.grad().sizes().vec(), (Shape{3, 4}));
}

}  // namespace
