// Indexing against LibTorch (Debian libtorch 1.13): the same float64 values
// and the same random int64 indices (negative ones, duplicates, broadcast
// shapes, advanced indices separated by a slice) and bool masks go through
// both libraries. Forward values are copies, so they must be equal; the
// gradients of sum(out * w), w random, sum duplicates, in any order, so they
// are compared at 1e-12 relative.
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
#include "torch_twin.h"

namespace {

namespace si = sigma::indexing;
namespace ti = torch::indexing;
using sigma::test::draw;
using sigma::test::numel;
using sigma::test::Shape;
using sigma::test::torch_values;
using SList = std::vector<sigma::Tensor>;
using TList = std::vector<torch::Tensor>;

struct Pair {
  sigma::Tensor s;
  torch::Tensor t;
};

Pair reals(const Shape& shape, std::uint64_t seed) {
  const std::vector<double> v = draw(numel(shape), -2, 2, seed);
  return {sigma::tensor(v, sigma::kFloat64).reshape(shape),
          torch::tensor(v, torch::dtype(torch::kDouble)).reshape(shape)};
}

// Random integers in [lo, hi).
Pair ints(const Shape& shape, std::int64_t lo, std::int64_t hi, std::uint64_t seed) {
  const std::vector<double> d = draw(numel(shape), 0, 1, seed);
  std::vector<std::int64_t> v;
  for (double x : d) v.push_back(lo + static_cast<std::int64_t>(std::floor(x * static_cast<double>(hi - lo))));
  return {sigma::tensor(v).reshape(shape), torch::tensor(v, torch::dtype(torch::kLong)).reshape(shape)};
}

Pair mask(const Shape& shape, std::uint64_t seed) {
  const Pair p = ints(shape, 0, 2, seed);
  return {p.s.ne(sigma::tensor({std::int64_t{0}})), p.t.ne(0)};
}

void expect_close(const sigma::Tensor& s, const torch::Tensor& t, double rtol, const std::string& what) {
  ASSERT_TRUE(s.defined()) << what;
  ASSERT_EQ(s.sizes().vec(), t.sizes().vec()) << what;
  const std::vector<double> a = s.to_vector<double>(), b = torch_values(t);
  for (std::size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], b[i], rtol * (1 + std::fabs(b[i]))) << what << " element " << i;
}

// Runs fs and ft on leaf copies of the inputs, compares the outputs exactly and
// the gradients of sum(out * w).
void compare(const std::vector<Pair>& inputs, const std::function<sigma::Tensor(const SList&)>& fs,
             const std::function<torch::Tensor(const TList&)>& ft, const std::string& what) {
  SList s;
  TList t;
  for (const Pair& p : inputs) {
    s.push_back(p.s.detach().clone().requires_grad_(true));
    t.push_back(p.t.detach().clone().requires_grad_(true));
  }
  const sigma::Tensor os = fs(s);
  const torch::Tensor ot = ft(t);
  expect_close(os, ot, 0, what + " forward");
  const Pair w = reals(ot.sizes().vec(), 1234);
  (os * w.s).sum().backward();
  (ot * w.t).sum().backward();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!t[i].grad().defined()) continue;
    expect_close(s[i].grad(), t[i].grad(), 1e-12, what + " grad of input " + std::to_string(i));
  }
}

TEST(TorchIndexing, BasicAndAdvancedIndex) {
  const Pair x = reals({5, 6, 7}, 1);
  const Pair i = ints({4}, -6, 6, 2);          // negative and duplicate indices
  const Pair r = ints({3, 1}, -5, 5, 3);       // broadcasts with c
  const Pair c = ints({4}, -7, 7, 4);
  compare({x}, [&](const SList& a) { return a[0].index({si::Slice(1, si::None, 2), i.s, si::None, "..."}); },
          [&](const TList& a) { return a[0].index({ti::Slice(1, ti::None, 2), i.t, ti::None, "..."}); },
          "slice, tensor, None, ...");
  compare({x}, [&](const SList& a) { return a[0].index({si::Slice(), r.s, c.s}); },
          [&](const TList& a) { return a[0].index({ti::Slice(), r.t, c.t}); }, "adjacent broadcast");
  compare({x}, [&](const SList& a) { return a[0].index({r.s, si::Slice(), c.s}); },
          [&](const TList& a) { return a[0].index({r.t, ti::Slice(), c.t}); }, "separated");
  compare({x}, [&](const SList& a) { return a[0].index({r.s, si::Ellipsis, c.s}); },
          [&](const TList& a) { return a[0].index({r.t, ti::Ellipsis, c.t}); }, "separated by ...");
  compare({x}, [&](const SList& a) { return a[0].index({-2, si::Slice(), c.s}); },
          [&](const TList& a) { return a[0].index({-2, ti::Slice(), c.t}); }, "integer then tensor");
  compare({x}, [&](const SList& a) { return a[0].index({r.s, c.s.index({si::Slice(si::None, 1)}) .reshape({1}), i.s.reshape({4, 1, 1})}); },
          [&](const TList& a) { return a[0].index({r.t, c.t.index({ti::Slice(ti::None, 1)}).reshape({1}), i.t.reshape({4, 1, 1})}); },
          "three broadcast indices");
  const Pair y = reals({4, 5}, 5);
  compare({y}, [&](const SList& a) { return a[0].t().index({i.s.index({si::Slice(0, 3)}).abs()}); },
          [&](const TList& a) { return a[0].t().index({i.t.index({ti::Slice(0, 3)}).abs()}); },
          "non-contiguous source");
}

TEST(TorchIndexing, Masks) {
  const Pair x = reals({4, 5, 3}, 6);
  const Pair m2 = mask({4, 5}, 7), m1 = mask({5}, 8), m3 = mask({4, 5, 3}, 9);
  compare({x}, [&](const SList& a) { return a[0].index({m2.s}); },
          [&](const TList& a) { return a[0].index({m2.t}); }, "leading 2-D mask");
  compare({x}, [&](const SList& a) { return a[0].index({m3.s}); },
          [&](const TList& a) { return a[0].index({m3.t}); }, "full mask");
  compare({x}, [&](const SList& a) { return a[0].index({si::Slice(), m1.s}); },
          [&](const TList& a) { return a[0].index({ti::Slice(), m1.t}); }, "mask on dim 1");
  compare({x}, [&](const SList& a) { return a[0].index({si::Slice(1), m1.s, 2}); },
          [&](const TList& a) { return a[0].index({ti::Slice(1), m1.t, 2}); }, "slice, mask, int");
  compare({x}, [&](const SList& a) { return a[0].masked_select(m1.s.reshape({5, 1})); },
          [&](const TList& a) { return a[0].masked_select(m1.t.reshape({5, 1})); }, "masked_select");
  compare({x}, [&](const SList& a) { return a[0].masked_fill(m3.s.index({0}), -3.5); },
          [&](const TList& a) { return a[0].masked_fill(m3.t.index({0}), -3.5); }, "masked_fill scalar");
  const Pair v = reals({}, 10);
  compare({x, v}, [&](const SList& a) { return a[0].masked_fill(m1.s.reshape({5, 1}), a[1]); },
          [&](const TList& a) { return a[0].masked_fill(m1.t.reshape({5, 1}), a[1]); }, "masked_fill tensor");
  const Pair z = reals({4, 5}, 11);
  expect_close(sigma::nonzero(m3.s), torch::nonzero(m3.t), 0, "nonzero");
  expect_close(sigma::argwhere(z.s.gt(sigma::tensor({0.5}, sigma::kFloat64))),
               torch::argwhere(z.t.gt(0.5)), 0, "argwhere");
}

TEST(TorchIndexing, IndexPut) {
  const Pair x = reals({5, 6}, 12);
  const Pair i = ints({8}, -5, 5, 13);  // duplicates
  const Pair v = reals({8}, 15), vr = reals({1}, 16);
  const Pair m = mask({5, 6}, 18);
  compare({x, v}, [&](const SList& a) { return sigma::index_put(a[0], {i.s, i.s.abs()}, a[1], true); },
          [&](const TList& a) { return torch::index_put(a[0], {i.t, i.t.abs()}, a[1], true); },
          "index_put accumulate");
  compare({x, vr}, [&](const SList& a) {
    sigma::Tensor c = a[0] * 1.0;
    c.index_put_({m.s}, a[1]);
    return c;
  }, [&](const TList& a) {
    torch::Tensor c = a[0] * 1.0;
    c.index_put_({m.t}, a[1]);
    return c;
  }, "index_put_ mask");
  const Pair u{sigma::tensor(std::vector<std::int64_t>{5, 0, -4}), torch::tensor({5, 0, -4}, torch::dtype(torch::kLong))};
  const Pair v3 = reals({3}, 19);
  compare({x, v3}, [&](const SList& a) {
    sigma::Tensor c = a[0] * 1.0;
    c.index_put_({si::Slice(1, si::None), u.s}, a[1]);
    return c;
  }, [&](const TList& a) {
    torch::Tensor c = a[0] * 1.0;
    c.index_put_({ti::Slice(1, ti::None), u.t}, a[1]);
    return c;
  }, "index_put_ slice + tensor, values broadcast");
  compare({x}, [&](const SList& a) {
    sigma::Tensor c = a[0] * 1.0;
    c.index_put_({si::Slice(), si::Slice(2, 4)}, 0.25);
    return c;
  }, [&](const TList& a) {
    torch::Tensor c = a[0] * 1.0;
    c.index_put_({ti::Slice(), ti::Slice(2, 4)}, 0.25);
    return c;
  }, "index_put_ basic scalar");
}

TEST(TorchIndexing, SelectGatherScatter) {
  const Pair x = reals({4, 6, 5}, 20);
  const Pair isel = ints({9}, 0, 6, 21);
  compare({x}, [&](const SList& a) { return a[0].index_select(1, isel.s); },
          [&](const TList& a) { return a[0].index_select(1, isel.t); }, "index_select");
  const Pair i4 = ints({7}, 0, 4, 28);
  compare({x}, [&](const SList& a) { return sigma::index_select(a[0].transpose(0, 2), -1, i4.s); },
          [&](const TList& a) { return torch::index_select(a[0].transpose(0, 2), -1, i4.t); },
          "index_select strided");
  const Pair gidx = ints({3, 7, 4}, 0, 6, 22);
  compare({x}, [&](const SList& a) { return a[0].gather(1, gidx.s); },
          [&](const TList& a) { return a[0].gather(1, gidx.t); }, "gather");
  const Pair gt = ints({5, 6, 3}, 0, 4, 31);
  compare({x}, [&](const SList& a) { return a[0].transpose(0, 2).gather(2, gt.s); },
          [&](const TList& a) { return a[0].transpose(0, 2).gather(2, gt.t); }, "gather strided");
  const Pair g2 = ints({4, 6, 2}, 0, 5, 23);
  compare({x}, [&](const SList& a) { return sigma::gather(a[0], -1, g2.s); },
          [&](const TList& a) { return torch::gather(a[0], -1, g2.t); }, "gather last dim");
  // src of index's shape: LibTorch 1.13's backward returns src's gradient in
  // index's shape when src is larger (sigma pads it with zeros; tested in
  // indexing_test.cpp).
  const Pair src = reals({3, 6, 4}, 24);
  const Pair sidx = ints({3, 6, 4}, 0, 6, 25);
  compare({x, src}, [&](const SList& a) { return a[0].scatter_add(1, sidx.s, a[1]); },
          [&](const TList& a) { return a[0].scatter_add(1, sidx.t, a[1]); }, "scatter_add");
  compare({x}, [&](const SList& a) { return a[0].scatter(2, g2.s, 1.5); },
          [&](const TList& a) { return a[0].scatter(2, g2.t, 1.5); }, "scatter value");
  // scatter of a tensor: one index per column along dim 1, so no target is written twice
  // (which write wins is unspecified in both libraries).
  const Pair pidx = ints({4, 1, 5}, 0, 6, 29);
  const Pair psrc = reals({4, 1, 5}, 30);
  compare({x, psrc}, [&](const SList& a) { return a[0].scatter(1, pidx.s, a[1]); },
          [&](const TList& a) { return a[0].scatter(1, pidx.t, a[1]); }, "scatter");
  const Pair ia = ints({3}, 0, 4, 26);
  const Pair isrc = reals({3, 6, 5}, 27);
  compare({x, isrc}, [&](const SList& a) { return a[0].index_add(0, ia.s, a[1], -2); },
          [&](const TList& a) { return a[0].index_add(0, ia.t, a[1], -2); }, "index_add");
}

}  // namespace
