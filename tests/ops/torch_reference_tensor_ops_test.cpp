// The tensor ops of issue 14 against LibTorch (Debian libtorch 1.13): for
// each op, the same random inputs (float64, and float32 where the op takes
// it) go through both libraries; every output is compared (values, shapes,
// dtypes; int64 outputs exactly) and, for differentiable ops, the gradients
// of sum_k sum(out_k * v_k) for random v_k.
//
// Bound: |sigma - torch| <= rtol (|torch| + 1 + max |torch|) per element,
// rtol 1e-11 in float64 and 2e-5 in float32 (at most a few dozen terms per
// sum here, each library within n u sum|terms| of the exact value: the
// usual bound on a floating-point sum, with the inputs in [-2, 2]). The
// rounding ops, sign, sorting and the shape ops move or round values
// exactly and are held to equality.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"
#include "torch_cases.h"

namespace {

using namespace sigma::test::torch_cases;

TEST(TorchReferenceTensorOps, ElementWise) {
  using sigma::Tensor;
  std::vector<Case> cases{
      {"sign", {{3, 5}}, S1([](const Tensor& x) { return x.sign(); }), T1([](const torch::Tensor& x) { return x.sign(); }), true},
      {"floor", {{3, 5}}, S1([](const Tensor& x) { return x.floor(); }), T1([](const torch::Tensor& x) { return x.floor(); }), true},
      {"ceil", {{3, 5}}, S1([](const Tensor& x) { return sigma::ceil(x); }), T1([](const torch::Tensor& x) { return torch::ceil(x); }), true},
      {"round", {{3, 5}}, S1([](const Tensor& x) { return sigma::round(x); }), T1([](const torch::Tensor& x) { return torch::round(x); }), true},
      {"round(2)", {{3, 5}}, S1([](const Tensor& x) { return x.round(2); }), T1([](const torch::Tensor& x) { return x.round(2); }), true},
      {"round(-1)", {{3, 5}}, S1([](const Tensor& x) { return x.round(-1); }), T1([](const torch::Tensor& x) { return x.round(-1); }), true, true, -500, 500},
      {"trunc", {{3, 5}}, S1([](const Tensor& x) { return x.trunc(); }), T1([](const torch::Tensor& x) { return x.trunc(); }), true},
      {"sin", {{3, 5}}, S1([](const Tensor& x) { return x.sin(); }), T1([](const torch::Tensor& x) { return x.sin(); }), false, true, -6, 6},
      {"cos", {{3, 5}}, S1([](const Tensor& x) { return sigma::cos(x.t()); }), T1([](const torch::Tensor& x) { return torch::cos(x.t()); }), false, true, -6, 6},
  };
  // Halves and specials for the rounding functions.
  for (auto& c : cases)
    if (c.name != "sin" && c.name != "cos")
      c.adjust = [](std::vector<double>& v) {
        const double special[] = {-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.0, -0.0, NAN, INFINITY, -INFINITY, 0.125, 0.375, 1234.5, -15.0};
        for (std::size_t i = 0; i < 15 && i < v.size(); ++i) v[i] = special[i];
      };
  run_all(cases);
}

TEST(TorchReferenceTensorOps, Moments) {
  using sigma::Tensor;
  using OI = std::optional<std::int64_t>;
  std::vector<Case> cases{
      {"var()", {{4, 5}}, S1([](const Tensor& x) { return x.var(); }), T1([](const torch::Tensor& x) { return x.var(); })},
      {"std(false)", {{4, 5}}, S1([](const Tensor& x) { return x.std(false); }), T1([](const torch::Tensor& x) { return x.std(false); })},
      {"var({1}, false, keepdim)", {{3, 4, 5}}, S1([](const Tensor& x) { return x.var({1}, false, true); }), T1([](const torch::Tensor& x) { return x.var({1}, false, true); })},
      {"std({0, 2})", {{3, 4, 5}}, S1([](const Tensor& x) { return sigma::std(x, {0, 2}); }), T1([](const torch::Tensor& x) { return torch::std(x, at::IntArrayRef{0, 2}); })},
      {"var(correction 2)", {{3, 4, 5}}, S1([](const Tensor& x) { return x.var({-1}, OI(2)); }), T1([](const torch::Tensor& x) { return x.var({-1}, c10::optional<int64_t>(2)); })},
      {"std(correction 0, keepdim)", {{3, 4}}, S1([](const Tensor& x) { return x.t().std({0}, OI(0), true); }), T1([](const torch::Tensor& x) { return x.t().std({0}, c10::optional<int64_t>(0), true); })},
      {"std_mean", {{3, 4}}, [](const SList& x) { auto [a, b] = sigma::std_mean(x[0], {1}); return SList{a, b}; },
       [](const TList& x) { auto [a, b] = torch::std_mean(x[0], {1}); return TList{a, b}; }},
      {"var_mean", {{3, 4}}, [](const SList& x) { auto [a, b] = sigma::var_mean(x[0], false); return SList{a, b}; },
       [](const TList& x) { auto [a, b] = torch::var_mean(x[0], false); return TList{a, b}; }},
  };
  run_all(cases);
}

TEST(TorchReferenceTensorOps, ProdAndCumsum) {
  using sigma::Tensor;
  auto zeros_at = [](std::vector<std::size_t> at) {
    return [at](std::vector<double>& v) {
      for (auto i : at) v[i] = 0.0;
    };
  };
  std::vector<Case> cases{
      {"prod()", {{3, 4}}, S1([](const Tensor& x) { return x.prod(); }), T1([](const torch::Tensor& x) { return x.prod(); })},
      {"prod(1)", {{3, 4}}, S1([](const Tensor& x) { return x.prod(1); }), T1([](const torch::Tensor& x) { return x.prod(1); })},
      {"prod(0, keepdim)", {{3, 4}}, S1([](const Tensor& x) { return x.prod(0, true); }), T1([](const torch::Tensor& x) { return x.prod(0, true); })},
      // Zeros: one in row 0, two in row 1 (columns 0, 1 for the dim-0 case).
      {"prod(1) with zeros", {{3, 4}}, S1([](const Tensor& x) { return sigma::prod(x, 1); }), T1([](const torch::Tensor& x) { return torch::prod(x, 1); })},
      {"prod() with a zero", {{3, 4}}, S1([](const Tensor& x) { return x.prod(); }), T1([](const torch::Tensor& x) { return x.prod(); })},
      {"prod(dtype)", {{3, 4}}, S1([](const Tensor& x) { return x.prod(1, false, sigma::kFloat64); }), T1([](const torch::Tensor& x) { return x.prod(1, false, torch::kDouble); })},
      {"cumsum(0)", {{3, 4, 2}}, S1([](const Tensor& x) { return x.cumsum(0); }), T1([](const torch::Tensor& x) { return x.cumsum(0); })},
      {"cumsum(-1) of a transpose", {{3, 4}}, S1([](const Tensor& x) { return x.t().cumsum(-1); }), T1([](const torch::Tensor& x) { return x.t().cumsum(-1); })},
      {"cumsum(1, dtype)", {{3, 4}}, S1([](const Tensor& x) { return sigma::cumsum(x, 1, sigma::kFloat64); }), T1([](const torch::Tensor& x) { return torch::cumsum(x, 1, torch::kDouble); })},
  };
  cases[3].adjust = zeros_at({1, 4, 6});
  cases[4].adjust = zeros_at({5});
  run_all(cases);
  // Integral inputs: int64 results.
  const sigma::Tensor si = sigma::tensor({3, -2, 5, 7});
  const torch::Tensor ti = torch::tensor({3, -2, 5, 7}, torch::kLong);
  compare(si.prod(), ti.prod(), 0, true, "prod int64");
  compare(si.cumsum(0), ti.cumsum(0), 0, true, "cumsum int64");
  EXPECT_EQ(torch_dtype(si.prod().dtype()), ti.prod().scalar_type());
}

TEST(TorchReferenceTensorOps, Sorting) {
  using sigma::Tensor;
  auto pair_s = [](std::tuple<Tensor, Tensor> r) { return SList{std::get<0>(r), std::get<1>(r)}; };
  auto pair_t = [](std::tuple<torch::Tensor, torch::Tensor> r) { return TList{std::get<0>(r), std::get<1>(r)}; };
  std::vector<Case> cases{
      {"sort()", {{4, 6}}, [&](const SList& x) { return pair_s(x[0].sort()); }, [&](const TList& x) { return pair_t(x[0].sort()); }, true},
      {"sort(0, descending)", {{4, 6}}, [&](const SList& x) { return pair_s(x[0].sort(0, true)); }, [&](const TList& x) { return pair_t(x[0].sort(0, true)); }, true},
      {"sort(stable, 1)", {{4, 6}}, [&](const SList& x) { return pair_s(sigma::sort(x[0], true, 1)); }, [&](const TList& x) { return pair_t(torch::sort(x[0], true, 1)); }, true},
      {"sort with NaN", {{8}}, [&](const SList& x) { return pair_s(x[0].sort(0, true)); }, [&](const TList& x) { return pair_t(x[0].sort(0, true)); }, true},
      {"argsort", {{4, 6}}, [](const SList& x) { return SList{x[0].argsort(0, false)}; }, [](const TList& x) { return TList{x[0].argsort(0, false)}; }, true, false},
      {"topk(3)", {{4, 6}}, [&](const SList& x) { return pair_s(x[0].topk(3)); }, [&](const TList& x) { return pair_t(x[0].topk(3)); }, true},
      {"topk(2, 0, smallest)", {{4, 6}}, [&](const SList& x) { return pair_s(x[0].topk(2, 0, false)); }, [&](const TList& x) { return pair_t(x[0].topk(2, 0, false)); }, true},
  };
  cases[3].adjust = [](std::vector<double>& v) { v[1] = NAN; v[5] = INFINITY; };
  cases[3].grad = false;  // NaN in the values: compare the order only
  run_all(cases);
  // unique on integers with repeats.
  const std::vector<std::int64_t> iv{3, 1, 3, 2, 2, 5, 1, 3};
  const sigma::Tensor si = sigma::tensor(iv).reshape({2, 4});
  const torch::Tensor ti = torch::tensor(iv, torch::kLong).reshape({2, 4});
  auto [sv, sinv, sc] = sigma::_unique2(si, true, true, true);
  auto [tv, tinv, tc] = torch::_unique2(ti, true, true, true);
  compare(sv, tv, 0, true, "_unique2 values");
  compare(sinv, tinv, 0, true, "_unique2 inverse");
  compare(sc, tc, 0, true, "_unique2 counts");
  auto [cv, cinv, cc] = sigma::unique_consecutive(si, true, true);
  auto [dv, dinv, dc] = torch::unique_consecutive(ti, true, true);
  compare(cv, dv, 0, true, "unique_consecutive values");
  compare(cinv, dinv, 0, true, "unique_consecutive inverse");
  compare(cc, dc, 0, true, "unique_consecutive counts");
  const sigma::Tensor rows = sigma::tensor({{1, 2}, {0, 5}, {1, 2}, {0, 4}});
  const torch::Tensor trows = torch::tensor({1, 2, 0, 5, 1, 2, 0, 4}, torch::kLong).reshape({4, 2});
  auto [uv, uinv, uc] = sigma::unique_dim(rows, 0, true, true, true);
  auto [wv, winv, wc] = torch::unique_dim(trows, 0, true, true, true);
  compare(uv, wv, 0, true, "unique_dim values");
  compare(uinv, winv, 0, true, "unique_dim inverse");
  compare(uc, wc, 0, true, "unique_dim counts");
}

TEST(TorchReferenceTensorOps, Shape) {
  using sigma::Tensor;
  std::vector<Case> cases{
      {"repeat", {{2, 3}}, S1([](const Tensor& x) { return x.repeat({2, 1, 3}); }), T1([](const torch::Tensor& x) { return x.repeat({2, 1, 3}); }), true},
      {"tril(-1)", {{2, 3, 4}}, S1([](const Tensor& x) { return x.tril(-1); }), T1([](const torch::Tensor& x) { return x.tril(-1); }), true},
      {"triu(1)", {{4, 3}}, S1([](const Tensor& x) { return sigma::triu(x, 1); }), T1([](const torch::Tensor& x) { return torch::triu(x, 1); }), true},
      {"flip", {{2, 3, 4}}, S1([](const Tensor& x) { return x.flip({0, -1}); }), T1([](const torch::Tensor& x) { return x.flip({0, -1}); }), true},
      {"roll flattened", {{3, 4}}, S1([](const Tensor& x) { return x.roll({5}); }), T1([](const torch::Tensor& x) { return x.roll({5}); }), true},
      {"roll dims", {{3, 4}}, S1([](const Tensor& x) { return sigma::roll(x, {-1, 6}, {1, 0}); }), T1([](const torch::Tensor& x) { return torch::roll(x, {-1, 6}, {1, 0}); }), true},
      {"clone(Contiguous) of a transpose", {{3, 4}}, S1([](const Tensor& x) { return x.t().clone(sigma::MemoryFormat::Contiguous); }), T1([](const torch::Tensor& x) { return x.t().clone(torch::MemoryFormat::Contiguous); }), true},
  };
  run_all(cases);
  // Preserve keeps a dense transpose's strides, as LibTorch.
  const sigma::Tensor s = sigma::zeros({3, 4}).t().clone();
  const torch::Tensor t = torch::zeros({3, 4}).t().clone();
  EXPECT_EQ(s.strides().vec(), t.strides().vec());
}

TEST(TorchReferenceTensorOps, Einsum) {
  std::vector<Case> cases;
  const std::vector<std::pair<std::string, std::vector<Shape>>> eqs{
      {"ij,jk->ik", {{3, 4}, {4, 5}}},      {"ij,jk", {{3, 4}, {4, 5}}},
      {"bij,bjk->bik", {{2, 3, 4}, {2, 4, 5}}}, {"bij,bkj->bki", {{2, 3, 4}, {2, 5, 4}}},
      {"ij,kj->", {{3, 4}, {5, 4}}},        {"i,j->ji", {{3}, {4}}},
      {"ba,b", {{3, 4}, {3}}},              {"bij,jk->kb", {{2, 3, 4}, {4, 5}}},
      {"iJ,Jk->kiJ", {{3, 4}, {4, 5}}},     {"ijk->kj", {{2, 3, 4}}},
      {"kji", {{2, 3, 4}}},                 {"bij,bjk->bik", {{1, 3, 4}, {2, 4, 5}}}};
  for (const auto& [eq, shapes] : eqs) {
    const std::string e = eq;
    cases.push_back({"einsum " + e, shapes, [e](const SList& x) { return SList{sigma::einsum(e, x)}; },
                     [e](const TList& x) { return TList{torch::einsum(e, x)}; }});
  }
  run_all(cases);
}

}  // namespace
