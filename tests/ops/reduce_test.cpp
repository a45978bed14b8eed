// Tests of src/ops/reduce.cpp: sum, mean, max, min, argmax, argmin and norm.
// References are plain loops in long double over the row-major values of the
// input (read back with to_vector, which is exact for every floating type);
// gradients are checked against central differences in float64.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "sigma/tensor.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::TensorList;
using sigma::test::check_grad;
using sigma::test::expect_error;
using sigma::test::numel;
using sigma::test::random_tensor;
using sigma::test::Shape;
using sigma::test::values;
using Mask = std::vector<bool>;

// Reference reduction over the dims in mask of row-major values of shape:
// returns the kept-dims outputs in row-major order.
std::vector<long double> ref_reduce(const std::vector<double>& v, const Shape& shape,
                                    const Mask& mask, long double init,
                                    const std::function<long double(long double, double)>& f) {
  Shape kept;
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (!mask[d]) kept.push_back(shape[d]);
  std::vector<long double> out(static_cast<std::size_t>(numel(kept)), init);
  Shape idx(shape.size(), 0);
  for (std::size_t flat = 0; flat < v.size(); ++flat) {
    std::int64_t o = 0;
    for (std::size_t d = 0; d < shape.size(); ++d)
      if (!mask[d]) o = o * shape[d] + idx[d];
    out[static_cast<std::size_t>(o)] = f(out[static_cast<std::size_t>(o)], v[flat]);
    for (std::size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

long double add(long double a, double x) { return a + x; }

Mask mask_of(std::size_t rank, std::initializer_list<std::size_t> dims) {
  Mask m(rank, false);
  for (auto d : dims) m[d] = true;
  return m;
}

// ---- sum.

TEST(Sum, AllElementsFloat32AccumulatesInDouble) {
  for (std::int64_t n : {1, 7, 8, 1000, 100003, 1 << 20}) {
    Tensor x = random_tensor({n}, sigma::kFloat32, static_cast<std::uint64_t>(n));
    const auto v = values(x);
    long double ref = 0, abs_sum = 0;
    for (double e : v) {
      ref += e;
      abs_sum += std::fabs(e);
    }
    Tensor s = x.sum();
    EXPECT_EQ(s.dim(), 0);
    EXPECT_EQ(s.dtype(), sigma::kFloat32);
    // One rounding of an (almost) exact double sum to float32.
    const double tol = std::fabs(static_cast<double>(ref)) * 6.0e-8 +
                       static_cast<double>(abs_sum) * 1e-13;
    EXPECT_NEAR(s.item<double>(), static_cast<double>(ref), tol) << "n = " << n;
  }
}

TEST(Sum, Float64IsCompensated) {
  // Naive summation loses the ones entirely; compensated summation keeps them.
  EXPECT_EQ(sigma::tensor({1.0, 1e100, 1.0, -1e100}, sigma::kFloat64).sum().item<double>(), 2.0);
  std::vector<double> v;
  const double big = std::ldexp(1.0, 60);
  for (int i = 0; i < 3000; ++i) {
    v.push_back(big);
    v.push_back(1.0);
    v.push_back(-big);
  }
  Tensor x = sigma::tensor(v, sigma::kFloat64);
  EXPECT_NEAR(x.sum().item<double>(), 3000.0, 1e-6);
  // The same through the column loop: x viewed as [9000, 1] summed over dim 0, and
  // as [3000, 3] summed over the strided columns of its transpose.
  EXPECT_NEAR(x.reshape({9000, 1}).sum({0}).item<double>(), 3000.0, 1e-6);
  const auto cols = values(x.reshape({3000, 3}).t().sum({1}));
  EXPECT_EQ(cols, (std::vector<double>{3000 * big, 3000.0, -3000 * big}));
  Tensor y = x.reshape({1000, 9}).sum({0});
  EXPECT_NEAR(y.sum().item<double>(), 3000.0, 1e-6);
}

// The same bits with 2 to 8 threads as with 1 (the OpenMP thread count, set
// here whatever the machine has).
TEST(Sum, SameBitsForOneToEightThreads) {
  Tensor x = random_tensor({3, 1 << 19}, sigma::kFloat32, 5);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto a = values(x.sum());
  const auto a1 = values(x.sum({1}));
  const auto a0 = values(x.t().sum({1}));
  for (int threads = 2; threads <= 8; ++threads) {
    omp_set_num_threads(threads);
    EXPECT_EQ(a, values(x.sum())) << threads << " threads";
    EXPECT_EQ(a1, values(x.sum({1}))) << threads << " threads";
    EXPECT_EQ(a0, values(x.t().sum({1}))) << threads << " threads";
  }
  omp_set_num_threads(saved);
}

// Every parallel reduction loop (src/ops/reduce.cpp), above its grain: one
// long run, rows, columns, a dimension in the middle, mean, and max/min
// along a dimension with their indices.
TEST(Reductions, SameBitsForAnyThreadCount) {
  const Tensor x = random_tensor({3, 1 << 19}, sigma::kFloat32, 6);
  const Tensor y = random_tensor({512, 1024}, sigma::kFloat32, 7);
  const Tensor z = random_tensor({64, 300, 40}, sigma::kFloat64, 8);
  sigma::test::expect_same_bits_for_any_thread_count(
      [&] {
        const auto [zmax, zarg] = z.max(1);
        const auto [ymin, yarg] = y.min(0);
        return std::vector<Tensor>{x.sum(),     x.sum({1}),  x.t().sum({1}), y.sum({0}),
                                   y.sum({1}),  z.sum({1}),  z.mean({0, 2}), zmax,
                                   zarg,        ymin,        yarg,           y.reshape({-1}).sum()};
      },
      "reductions");
}

struct DimsCase {
  Shape shape;
  Shape dims;
};

// Every layout the driver distinguishes: trailing runs, columns, middle,
// scattered dims (copied), size-1 dims, all dims, negative dims.
const std::vector<DimsCase> kDimsCases = {
    {{4, 5}, {1}},         {{4, 5}, {0}},          {{4, 5}, {-1}},        {{4, 5}, {0, 1}},
    {{3, 4, 5}, {1}},      {{3, 4, 5}, {0, 2}},    {{3, 4, 5}, {-1, 0}},  {{3, 4, 5}, {1, 2}},
    {{2, 3, 4, 5}, {1, 3}}, {{2, 3, 4, 5}, {0, 2}}, {{3, 1, 5}, {1}},      {{3, 1, 5}, {0, 1}},
    {{1, 1}, {0}},         {{600, 300}, {0}},      {{300, 600}, {1}},     {{7}, {0}},
};

Mask mask_from(const Shape& shape, const Shape& dims) {
  Mask m(shape.size(), false);
  for (auto d : dims) m[static_cast<std::size_t>(d < 0 ? d + static_cast<std::int64_t>(shape.size()) : d)] = true;
  return m;
}

void check_sum_dims(const Tensor& x, const Shape& dims, bool keepdim, double rel) {
  const Shape shape = x.sizes().vec();
  const Mask m = mask_from(shape, dims);
  const auto ref = ref_reduce(values(x), shape, m, 0.0L, add);
  const auto absref = ref_reduce(values(x), shape, m, 0.0L,
                                 [](long double a, double e) { return a + std::fabs(e); });
  Tensor s = x.sum(dims, keepdim);
  Shape want;
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (!m[d]) want.push_back(shape[d]);
    else if (keepdim) want.push_back(1);
  EXPECT_EQ(s.sizes().vec(), want) << sigma::shape_string(shape);
  const auto got = values(s);
  ASSERT_EQ(got.size(), ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i)
    EXPECT_NEAR(got[i], static_cast<double>(ref[i]), rel * static_cast<double>(absref[i]) + 1e-300)
        << sigma::shape_string(shape) << " dims " << sigma::shape_string(dims) << " at " << i;
}

TEST(Sum, AlongDimsMatchesLoops) {
  for (auto t : {sigma::kFloat32, sigma::kFloat64})
    for (const auto& c : kDimsCases)
      for (bool keepdim : {false, true})
        check_sum_dims(random_tensor(c.shape, t, 11), c.dims, keepdim, t == sigma::kFloat32 ? 1.2e-7 : 1e-15);
}

TEST(Sum, NonContiguousInputs) {
  Tensor base = random_tensor({6, 8, 10}, sigma::kFloat64, 3);
  const std::vector<Tensor> views = {
      base.transpose(0, 2),                      // [10, 8, 6]
      base.slice(2, 1, 9, 3),                    // [6, 8, 3], step 3
      base.permute({1, 2, 0}),                   // [8, 10, 6]
      base.select(1, 2).t(),                     // [10, 6]
      base.slice(0, 0, 1).expand({4, 8, 10}),    // broadcast leading dim (stride 0)
  };
  for (const Tensor& v : views) {
    for (std::int64_t d = 0; d < v.dim(); ++d) check_sum_dims(v, {d}, false, 1e-15);
    if (v.dim() == 3) check_sum_dims(v, {0, 2}, true, 1e-15);
    long double ref = 0;
    for (double e : values(v)) ref += e;
    EXPECT_NEAR(v.sum().item<double>(), static_cast<double>(ref), 1e-12);
  }
}

TEST(Sum, IntegerAndBoolGiveInt64) {
  Tensor x = sigma::tensor({std::int64_t{1} << 62, std::int64_t{3}, std::int64_t{-5}});
  Tensor s = x.sum();
  EXPECT_EQ(s.dtype(), sigma::kInt64);
  EXPECT_EQ(s.item<std::int64_t>(), (std::int64_t{1} << 62) - 2);  // exact beyond 2^53
  Tensor b = sigma::tensor({true, false, true, true});
  EXPECT_EQ(b.sum().dtype(), sigma::kInt64);
  EXPECT_EQ(b.sum().item<std::int64_t>(), 3);
  Tensor m = sigma::arange(12).reshape({3, 4});
  EXPECT_EQ(m.sum({0}).to_vector<std::int64_t>(), (std::vector<std::int64_t>{12, 15, 18, 21}));
  EXPECT_EQ(m.sum({1}).to_vector<std::int64_t>(), (std::vector<std::int64_t>{6, 22, 38}));
}

TEST(Sum, DtypeArgument) {
  Tensor x = random_tensor({100}, sigma::kFloat32, 8);
  Tensor s = x.sum(sigma::kFloat64);
  EXPECT_EQ(s.dtype(), sigma::kFloat64);
  long double ref = 0;
  for (double e : values(x)) ref += e;
  EXPECT_NEAR(s.item<double>(), static_cast<double>(ref), 1e-13);
  EXPECT_EQ(sigma::arange(5).sum(sigma::kFloat32).dtype(), sigma::kFloat32);
  EXPECT_EQ(sigma::arange(5).sum(sigma::kFloat32).item<double>(), 10.0);
}

// Whether r is the 16-bit value nearest to ref: within half a unit in the
// last place (8 significant bits for bf16, 11 for f16) of r, normal range.
bool nearest16(double r, long double ref, sigma::ScalarType t) {
  int e = 0;
  std::frexp(r, &e);
  const double ulp = std::ldexp(1.0, e - (t == sigma::kBFloat16 ? 8 : 11));
  return std::fabs(static_cast<long double>(r) - ref) <= ulp / 2;
}

TEST(Sum, SixteenBitRoundsOnce) {
  for (auto t : {sigma::kBFloat16, sigma::kFloat16}) {
    Tensor x = random_tensor({37, 11}, t, 21);
    const auto v = values(x);
    long double ref = 0;
    for (double e : v) ref += e;
    Tensor s = x.sum();
    EXPECT_EQ(s.dtype(), t);
    EXPECT_TRUE(nearest16(s.item<double>(), ref, t)) << s.item<double>() << " vs " << static_cast<double>(ref);
    const auto col = values(x.sum({0}));
    const auto ref_col = ref_reduce(v, {37, 11}, mask_of(2, {0}), 0.0L, add);
    for (std::size_t i = 0; i < col.size(); ++i)
      EXPECT_TRUE(nearest16(col[i], ref_col[i], t)) << col[i] << " vs " << static_cast<double>(ref_col[i]);
    const auto mean_col = values(x.mean({0}));
    for (std::size_t i = 0; i < col.size(); ++i)
      EXPECT_TRUE(nearest16(mean_col[i], ref_col[i] / 37, t));
  }
  // Exact sums just above a 16-bit tie whose nearest float is the tie itself:
  // rounding to float first and then to 16 bits would round to even (1.0).
  Tensor b = sigma::tensor({1.0, std::ldexp(1.0, -8), std::ldexp(1.0, -30)}, sigma::kFloat64)
                 .to(sigma::kBFloat16);
  EXPECT_EQ(b.sum().item<double>(), 1.0 + std::ldexp(1.0, -7));
  Tensor h = sigma::tensor({1.0, std::ldexp(1.0, -11), std::ldexp(1.0, -24)}, sigma::kFloat64)
                 .to(sigma::kFloat16);
  EXPECT_EQ(values(h), (std::vector<double>{1.0, std::ldexp(1.0, -11), std::ldexp(1.0, -24)}));
  EXPECT_EQ(h.sum().item<double>(), 1.0 + std::ldexp(1.0, -10));
}

TEST(Sum, EmptyAndZeroDim) {
  Tensor e = sigma::zeros({0, 3});
  EXPECT_EQ(e.sum().item<double>(), 0.0);
  EXPECT_EQ(e.sum({0}).sizes().vec(), (Shape{3}));
  EXPECT_EQ(values(e.sum({0})), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(e.sum({1}).sizes().vec(), (Shape{0}));
  EXPECT_EQ(e.sum({1}, true).sizes().vec(), (Shape{0, 1}));
  Tensor z = sigma::scalar_tensor(2.5);
  EXPECT_EQ(z.sum().item<double>(), 2.5);
  EXPECT_EQ(z.sum({0}).dim(), 0);
  EXPECT_EQ(z.sum({-1}, true).dim(), 0);
  // An empty dims list reduces everything.
  Tensor x = random_tensor({2, 3}, sigma::kFloat64, 2);
  EXPECT_EQ(x.sum(Shape{}).dim(), 0);
  EXPECT_EQ(x.sum(Shape{}, true).sizes().vec(), (Shape{1, 1}));
}

TEST(Sum, Errors) {
  Tensor x = sigma::zeros({2, 3});
  expect_error([&] { x.sum({1, -1}); }, {"sum", "dim 1", "multiple times"});
  expect_error([&] { x.sum({2}); }, {"sum", "2", "out of range"});
  expect_error([&] { sigma::sum(Tensor()); }, {"sum", "undefined"});
}

TEST(Sum, Gradients) {
  Tensor x = random_tensor({3, 4, 2}, sigma::kFloat64, 4);
  check_grad([](const TensorList& in) { return in[0].sum(); }, {x});
  check_grad([](const TensorList& in) { return in[0].sum({1}); }, {x});
  check_grad([](const TensorList& in) { return in[0].sum({0, -1}, true); }, {x});
  check_grad([](const TensorList& in) { return in[0].transpose(0, 2).sum({1}); }, {x});
  Tensor leaf = x.clone().requires_grad_(true);
  Tensor s = leaf.sum({1});
  ASSERT_TRUE(s.grad_fn());
  EXPECT_EQ(s.grad_fn()->name(), "SumBackward");
  s.sum().backward();
  EXPECT_EQ(values(leaf.grad()), std::vector<double>(24, 1.0));
}

// ---- mean.

TEST(Mean, MatchesLoops) {
  for (auto t : {sigma::kFloat32, sigma::kFloat64}) {
    Tensor x = random_tensor({5, 6, 7}, t, 31);
    const auto v = values(x);
    long double ref = 0;
    for (double e : v) ref += e;
    EXPECT_NEAR(x.mean().item<double>(), static_cast<double>(ref / v.size()), 1e-7);
    for (const Shape& dims : {Shape{0}, Shape{1, 2}, Shape{-2}}) {
      const auto r = ref_reduce(v, {5, 6, 7}, mask_from({5, 6, 7}, dims), 0.0L, add);
      std::int64_t n = 1;
      for (auto d : dims) n *= x.size(d);
      Tensor m = x.mean(dims, true);
      EXPECT_EQ(m.dim(), 3);
      const auto got = values(m);
      for (std::size_t i = 0; i < r.size(); ++i)
        EXPECT_NEAR(got[i], static_cast<double>(r[i] / n), t == sigma::kFloat32 ? 1e-7 : 1e-15);
    }
  }
}

TEST(Mean, RequiresFloatingPoint) {
  expect_error([] { sigma::arange(4).mean(); }, {"mean", "int64"});
  expect_error([] { sigma::arange(4).mean({0}); }, {"mean", "int64"});
}

TEST(Mean, EmptyIsNaN) { EXPECT_TRUE(std::isnan(sigma::zeros({0}).mean().item<double>())); }

TEST(Mean, Gradients) {
  Tensor x = random_tensor({3, 4}, sigma::kFloat64, 6);
  check_grad([](const TensorList& in) { return in[0].mean(); }, {x});
  check_grad([](const TensorList& in) { return in[0].mean({0}); }, {x});
  check_grad([](const TensorList& in) { return in[0].t().mean({1}, true); }, {x});
  Tensor leaf = x.clone().requires_grad_(true);
  EXPECT_EQ(leaf.mean().grad_fn()->name(), "MeanBackward");
}

// ---- max, min, argmax.

TEST(MaxMin, AllElements) {
  for (auto t : {sigma::kFloat32, sigma::kFloat64, sigma::kBFloat16, sigma::kFloat16}) {
    Tensor x = random_tensor({13, 17}, t, 41).t();
    const auto v = values(x);
    double mx = -INFINITY, mn = INFINITY;
    for (double e : v) {
      mx = std::max(mx, e);
      mn = std::min(mn, e);
    }
    EXPECT_EQ(x.max().item<double>(), mx);
    EXPECT_EQ(x.min().item<double>(), mn);
    EXPECT_EQ(x.max().dtype(), t);
  }
  const std::int64_t big = (std::int64_t{1} << 60) + 1;
  Tensor i = sigma::tensor({big - 2, big, std::int64_t{-7}});
  EXPECT_EQ(i.max().item<std::int64_t>(), big);
  EXPECT_EQ(i.min().item<std::int64_t>(), -7);
  EXPECT_EQ(sigma::tensor({false, true}).max().item<bool>(), true);
}

TEST(MaxMin, NaNPropagates) {
  Tensor x = sigma::tensor({1.0, NAN, 3.0}, sigma::kFloat64);
  EXPECT_TRUE(std::isnan(x.max().item<double>()));
  EXPECT_TRUE(std::isnan(x.min().item<double>()));
  auto [v, i] = x.max(0);
  EXPECT_TRUE(std::isnan(v.item<double>()));
  EXPECT_EQ(i.item<std::int64_t>(), 1);
}

TEST(MaxMin, EmptyIsAnError) {
  expect_error([] { sigma::zeros({0, 3}).max(); }, {"max", "[0, 3]", "empty"});
  expect_error([] { sigma::zeros({0}).min(); }, {"min", "empty"});
  expect_error([] { sigma::zeros({2, 0}).max(1); }, {"max", "dimension 1", "size 0"});
  // Reducing a non-empty dimension of an empty tensor is fine.
  auto [v, i] = sigma::zeros({2, 0}).max(0);
  EXPECT_EQ(v.sizes().vec(), (Shape{0}));
}

TEST(MaxMin, TiedGradientIsSharedEvenly) {
  Tensor x = sigma::tensor({1.0, 3.0, 3.0, -2.0, 3.0}, sigma::kFloat64).requires_grad_(true);
  Tensor m = x.max();
  EXPECT_EQ(m.grad_fn()->name(), "MaxBackward");
  m.backward();
  const double third = 1.0 / 3.0;
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, third, third, 0, third}));
  Tensor y = sigma::tensor({2.0, -1.0, -1.0, 5.0}, sigma::kFloat64).requires_grad_(true);
  Tensor n = y.min();
  EXPECT_EQ(n.grad_fn()->name(), "MinBackward");
  (n * 4.0).backward();
  EXPECT_EQ(values(y.grad()), (std::vector<double>{0, 2, 2, 0}));
}

TEST(MaxMin, AlongDimMatchesLoopsWithFirstIndexOnTies) {
  // Integers in [0, 4): many ties.
  std::mt19937_64 gen(7);
  std::vector<double> v(3 * 5 * 4);
  for (auto& e : v) e = static_cast<double>(gen() % 4);
  const Shape shape{3, 5, 4};
  Tensor x = sigma::tensor(v, sigma::kFloat64).reshape(shape);
  for (std::int64_t d = -3; d < 3; ++d)
    for (bool keepdim : {false, true}) {
      const std::int64_t dd = d < 0 ? d + 3 : d;
      auto [mx, imx] = x.max(d, keepdim);
      auto [mn, imn] = x.min(d, keepdim);
      Shape want = shape;
      if (keepdim) want[static_cast<std::size_t>(dd)] = 1;
      else want.erase(want.begin() + dd);
      EXPECT_EQ(mx.sizes().vec(), want);
      EXPECT_EQ(imx.sizes().vec(), want);
      EXPECT_EQ(imx.dtype(), sigma::kInt64);
      const auto vmx = values(mx), vmn = values(mn);
      const auto jmx = imx.to_vector<std::int64_t>(), jmn = imn.to_vector<std::int64_t>();
      const auto amx = x.argmax(d, keepdim).to_vector<std::int64_t>();
      const auto amn = x.argmin(d, keepdim).to_vector<std::int64_t>();
      // Walk the output positions; the reduced index runs along dd.
      std::size_t o = 0;
      for (std::int64_t a = 0; a < (dd == 0 ? 1 : shape[0]); ++a)
        for (std::int64_t b = 0; b < (dd == 1 ? 1 : shape[1]); ++b)
          for (std::int64_t c = 0; c < (dd == 2 ? 1 : shape[2]); ++c, ++o) {
            double best_max = -1, best_min = 9;
            std::int64_t arg_max = -1, arg_min = -1;
            for (std::int64_t r = 0; r < shape[static_cast<std::size_t>(dd)]; ++r) {
              std::int64_t ix[3] = {a, b, c};
              ix[dd] = r;
              const double e = v[static_cast<std::size_t>((ix[0] * 5 + ix[1]) * 4 + ix[2])];
              if (e > best_max) { best_max = e; arg_max = r; }
              if (e < best_min) { best_min = e; arg_min = r; }
            }
            EXPECT_EQ(vmx[o], best_max);
            EXPECT_EQ(vmn[o], best_min);
            EXPECT_EQ(jmx[o], arg_max);
            EXPECT_EQ(jmn[o], arg_min);
            EXPECT_EQ(amx[o], arg_max);
            EXPECT_EQ(amn[o], arg_min);
          }
    }
}

TEST(MaxMin, AlongDimNonContiguousAndInt64) {
  Tensor base = random_tensor({4, 6}, sigma::kFloat32, 12);
  Tensor x = base.t();  // [6, 4]
  auto [v, i] = x.max(1);
  const auto xv = values(x);
  for (std::int64_t r = 0; r < 6; ++r) {
    std::int64_t best = 0;
    for (std::int64_t c = 1; c < 4; ++c)
      if (xv[static_cast<std::size_t>(r * 4 + c)] > xv[static_cast<std::size_t>(r * 4 + best)]) best = c;
    EXPECT_EQ(i.to_vector<std::int64_t>()[static_cast<std::size_t>(r)], best);
    EXPECT_EQ(values(v)[static_cast<std::size_t>(r)], xv[static_cast<std::size_t>(r * 4 + best)]);
  }
  const std::int64_t big = std::int64_t{1} << 61;
  Tensor n = sigma::tensor({big + 1, big + 3, big + 2});
  auto [nv, ni] = n.max(0);
  EXPECT_EQ(nv.item<std::int64_t>(), big + 3);
  EXPECT_EQ(ni.item<std::int64_t>(), 1);
}

TEST(MaxMin, ZeroDim) {
  Tensor z = sigma::scalar_tensor(4.0);
  auto [v, i] = z.max(0);
  EXPECT_EQ(v.dim(), 0);
  EXPECT_EQ(v.item<double>(), 4.0);
  EXPECT_EQ(i.item<std::int64_t>(), 0);
  EXPECT_EQ(z.argmax().item<std::int64_t>(), 0);
  EXPECT_EQ(z.max().item<double>(), 4.0);
}

TEST(MaxMin, AlongDimGradientGoesToTheIndex) {
  Tensor x = sigma::tensor({{1.0, 5.0, 5.0}, {7.0, 2.0, 7.0}}, sigma::kFloat64).requires_grad_(true);
  auto [v, i] = x.max(1);
  EXPECT_EQ(v.grad_fn()->name(), "MaxBackward");
  (v * sigma::tensor({2.0, 3.0}, sigma::kFloat64)).sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 2, 0, 3, 0, 0}));
  Tensor y = random_tensor({3, 4, 5}, sigma::kFloat64, 13);  // distinct values
  check_grad([](const TensorList& in) { return std::get<0>(in[0].max(1)); }, {y});
  check_grad([](const TensorList& in) { return std::get<0>(in[0].min(-1, true)); }, {y});
  check_grad([](const TensorList& in) { return std::get<0>(in[0].transpose(0, 2).max(0)); }, {y});
  check_grad([](const TensorList& in) { return in[0].max(); }, {y});
  check_grad([](const TensorList& in) { return in[0].min(); }, {y});
}

TEST(Argmax, AllElements) {
  Tensor x = sigma::tensor({{1.0, 9.0, 3.0}, {9.0, 0.0, -1.0}});
  Tensor a = x.argmax();
  EXPECT_EQ(a.dim(), 0);
  EXPECT_EQ(a.dtype(), sigma::kInt64);
  EXPECT_EQ(a.item<std::int64_t>(), 1);  // first of the tied maxima
  EXPECT_EQ(x.t().argmax().item<std::int64_t>(), 1);  // flat index into the transpose
  EXPECT_EQ(x.argmax(std::nullopt, true).sizes().vec(), (Shape{1, 1}));
  expect_error([] { sigma::zeros({0}).argmax(); }, {"argmax", "empty"});
  // argmin: the first of the tied minima, flat over all elements.
  Tensor m = sigma::tensor({{4.0, -2.0, 3.0}, {-2.0, 8.0, 5.0}});
  EXPECT_EQ(m.argmin().item<std::int64_t>(), 1);
  EXPECT_EQ(m.t().argmin().item<std::int64_t>(), 1);  // [[4, -2], [-2, 8], [3, 5]]
  EXPECT_EQ(sigma::argmin(m, 1).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 0}));
  expect_error([] { sigma::zeros({0}).argmin(); }, {"argmin", "empty"});
  Tensor big = random_tensor({1000}, sigma::kFloat32, 77);
  const auto bv = values(big);
  const auto it = std::max_element(bv.begin(), bv.end());
  EXPECT_EQ(big.argmax().item<std::int64_t>(), it - bv.begin());
}

// ---- norm.

TEST(Norm, MatchesLoops) {
  for (auto t : {sigma::kFloat32, sigma::kFloat64, sigma::kBFloat16}) {
    Tensor x = random_tensor({7, 9}, t, 51, -3.0, 3.0);
    const auto v = values(x);
    const double rel = t == sigma::kFloat64 ? 1e-14 : t == sigma::kFloat32 ? 2e-7 : 8e-3;
    for (double p : {1.0, 2.0, 3.0, 0.5, double{INFINITY}}) {
      long double acc = 0;
      for (double e : v) {
        if (std::isinf(p)) acc = std::max<long double>(acc, std::fabs(e));
        else acc += std::pow(static_cast<long double>(std::fabs(e)), static_cast<long double>(p));
      }
      const double ref = std::isinf(p) ? static_cast<double>(acc)
                                       : static_cast<double>(std::pow(acc, 1.0L / p));
      Tensor n = x.norm(p);
      EXPECT_EQ(n.dtype(), t);
      EXPECT_NEAR(n.item<double>(), ref, rel * ref) << "p = " << p;
      // Along dims with keepdim.
      const Mask m = mask_of(2, {1});
      const auto r = ref_reduce(v, {7, 9}, m, 0.0L, [p](long double a, double e) {
        return std::isinf(p) ? std::max<long double>(a, std::fabs(e))
                             : a + std::pow(static_cast<long double>(std::fabs(e)),
                                            static_cast<long double>(p));
      });
      Tensor nd = x.norm(p, {1}, true);
      EXPECT_EQ(nd.sizes().vec(), (Shape{7, 1}));
      const auto got = values(nd);
      for (std::size_t i = 0; i < r.size(); ++i) {
        const double want = std::isinf(p) ? static_cast<double>(r[i])
                                          : static_cast<double>(std::pow(r[i], 1.0L / p));
        EXPECT_NEAR(got[i], want, rel * want);
      }
    }
  }
  EXPECT_EQ(sigma::tensor({3.0, -4.0}).norm().item<double>(), 5.0);
}

TEST(Norm, Gradients) {
  Tensor x = random_tensor({3, 4}, sigma::kFloat64, 61, 0.2, 2.0);
  Tensor s = x * sigma::tensor({1.0, -1.0, 1.0, -1.0}, sigma::kFloat64);  // mixed signs, |x| >= 0.2
  for (double p : {2.0, 1.0, 3.0, 1.5, 0.5, double{INFINITY}}) {
    check_grad([p](const TensorList& in) { return in[0].norm(p); }, {s});
    check_grad([p](const TensorList& in) { return in[0].norm(p, {0}); }, {s});
    check_grad([p](const TensorList& in) { return in[0].t().norm(p, {-1}, true); }, {s});
  }
  Tensor leaf = s.clone().requires_grad_(true);
  EXPECT_EQ(leaf.norm().grad_fn()->name(), "NormBackward");
}

TEST(Norm, GradientAtZeroIsZero) {
  Tensor z = sigma::zeros({3}, sigma::kFloat64).requires_grad_(true);
  z.norm().backward();
  EXPECT_EQ(values(z.grad()), (std::vector<double>{0, 0, 0}));
  Tensor rows = sigma::tensor({{0.0, 0.0}, {3.0, 4.0}}, sigma::kFloat64).requires_grad_(true);
  rows.norm(2, {1}).sum().backward();
  const auto rg = values(rows.grad());
  EXPECT_EQ(rg[0], 0.0);
  EXPECT_EQ(rg[1], 0.0);
  EXPECT_DOUBLE_EQ(rg[2], 0.6);
  EXPECT_DOUBLE_EQ(rg[3], 0.8);
  Tensor z3 = sigma::zeros({2}, sigma::kFloat64).requires_grad_(true);
  z3.norm(3).backward();
  EXPECT_EQ(values(z3.grad()), (std::vector<double>{0, 0}));
}

TEST(Norm, InfGradientSharedBetweenTies) {
  Tensor x = sigma::tensor({-2.0, 1.0, 2.0}, sigma::kFloat64).requires_grad_(true);
  x.norm(INFINITY).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{-0.5, 0, 0.5}));
}

TEST(Norm, Errors) {
  Tensor x = sigma::ones({3});
  expect_error([&] { x.norm(0); }, {"norm", "p", "0"});
  expect_error([&] { x.norm(-1); }, {"norm", "-1"});
  expect_error([&] { x.norm(-INFINITY); }, {"norm", "inf"});
  expect_error([] { sigma::arange(3).norm(); }, {"norm", "int64"});
  expect_error([&] { x.norm(2, {0, 0}); }, {"norm", "multiple times"});
}

}  // namespace
