// Tests of src/ops/einsum.cpp: one- and two-operand equations against loops
// written from the definition (sum over the letters not in the output),
// implicit outputs, broadcasting of size-1 dimensions, errors for the
// unsupported forms, and gradients by central differences.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor_checks.h"

namespace {

using sigma::Tensor;
using sigma::test::draw;
using sigma::test::expect_error;
using sigma::test::make;
using sigma::test::Shape;
using L = sigma::TensorList;

// out[o] = sum over every assignment of the letters of prod_k x_k[...], by
// brute force over all letters (operands given as row-major values).
std::vector<double> brute_force(const std::vector<std::string>& labels, const std::string& out,
                                const std::vector<Tensor>& xs, Shape& out_shape) {
  std::map<char, std::int64_t> size;
  for (std::size_t k = 0; k < xs.size(); ++k)
    for (std::size_t d = 0; d < labels[k].size(); ++d) size[labels[k][d]] = std::max(size[labels[k][d]], xs[k].size(static_cast<std::int64_t>(d)));
  std::vector<char> letters;
  for (auto& [c, s] : size) letters.push_back(c);
  out_shape.clear();
  for (char c : out) out_shape.push_back(size[c]);
  std::int64_t out_n = 1;
  for (auto s : out_shape) out_n *= s;
  std::vector<double> r(static_cast<std::size_t>(out_n), 0.0);
  std::vector<std::vector<double>> vals;
  for (const auto& x : xs) vals.push_back(x.to_vector<double>());
  std::map<char, std::int64_t> at;
  for (char c : letters) at[c] = 0;
  for (;;) {
    double p = 1;
    for (std::size_t k = 0; k < xs.size(); ++k) {
      std::int64_t flat = 0;
      for (std::size_t d = 0; d < labels[k].size(); ++d) {
        const std::int64_t s = xs[k].size(static_cast<std::int64_t>(d));
        flat = flat * s + (s == 1 ? 0 : at[labels[k][d]]);
      }
      p *= vals[k][static_cast<std::size_t>(flat)];
    }
    std::int64_t o = 0;
    for (std::size_t d = 0; d < out.size(); ++d) o = o * out_shape[d] + at[out[d]];
    r[static_cast<std::size_t>(o)] += p;
    std::size_t j = letters.size();
    while (j > 0) {
      --j;
      if (++at[letters[j]] < size[letters[j]]) break;
      at[letters[j]] = 0;
      if (j == 0) return r;
    }
    if (letters.empty()) return r;
  }
}

void expect_einsum(const std::string& eq, const std::vector<std::string>& labels,
                   const std::string& out, const std::vector<Tensor>& xs) {
  Shape shape;
  const std::vector<double> want = brute_force(labels, out, xs, shape);
  const Tensor got = sigma::einsum(eq, xs);
  EXPECT_EQ(got.sizes().vec(), shape) << eq;
  const auto g = got.to_vector<double>();
  ASSERT_EQ(g.size(), want.size()) << eq;
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(g[i], want[i], 1e-12) << eq << " element " << i;
}

Tensor rnd(const Shape& s, std::uint64_t seed) {
  std::int64_t n = 1;
  for (auto e : s) n *= e;
  return make(s, draw(n, -1, 1, seed));
}

TEST(Einsum, TwoOperandPatterns) {
  const Tensor a = rnd({2, 3}, 1), b = rnd({3, 4}, 2), c = rnd({5, 2, 3}, 3), d = rnd({5, 3, 4}, 4);
  expect_einsum("ij,jk->ik", {"ij", "jk"}, "ik", {a, b});
  expect_einsum("ij,jk", {"ij", "jk"}, "ik", {a, b});               // implicit output
  expect_einsum("ij,jk->ki", {"ij", "jk"}, "ki", {a, b});           // transposed output
  expect_einsum("bij,bjk->bik", {"bij", "bjk"}, "bik", {c, d});     // batch
  expect_einsum("bij,bjk->kb", {"bij", "bjk"}, "kb", {c, d});       // sums out i and j
  expect_einsum("ij,kj->ik", {"ij", "kj"}, "ik", {a, rnd({4, 3}, 5)});
  expect_einsum("i,j->ij", {"i", "j"}, "ij", {rnd({3}, 6), rnd({4}, 7)});  // outer
  expect_einsum("i,i->", {"i", "i"}, "", {rnd({3}, 8), rnd({3}, 9)});      // dot
  expect_einsum("ij,ij->i", {"ij", "ij"}, "i", {a, rnd({2, 3}, 10)});
  expect_einsum("ba,b", {"ba", "b"}, "a", {a, rnd({2}, 11)});
  expect_einsum("iJ,Jk->kiJ", {"iJ", "Jk"}, "kiJ", {a, b});        // capitals, batch-like J
  expect_einsum("bij,jk->bik", {"bij", "jk"}, "bik", {c, b});
  expect_einsum("ij,kl->", {"ij", "kl"}, "", {a, b});               // both summed out alone
  // Size-1 dimensions broadcast.
  expect_einsum("bij,bjk->bik", {"bij", "bjk"}, "bik", {rnd({1, 2, 3}, 12), d});
  expect_einsum("ij,jk->ik", {"ij", "jk"}, "ik", {rnd({2, 1}, 13), b});
}

TEST(Einsum, OneOperand) {
  const Tensor a = rnd({2, 3, 4}, 20);
  expect_einsum("ijk->kji", {"ijk"}, "kji", {a});
  expect_einsum("ijk->j", {"ijk"}, "j", {a});
  expect_einsum("ijk", {"ijk"}, "ijk", {a});
  expect_einsum("kji", {"kji"}, "ijk", {a});  // implicit: alphabetical order
  expect_einsum("ijk->", {"ijk"}, "", {a});
}

TEST(Einsum, Errors) {
  const Tensor a = rnd({2, 3}, 1), b = rnd({3, 4}, 2);
  expect_error([&] { (void)sigma::einsum("...ij,jk", {a, b}); }, {"einsum", "...", "not supported"});
  expect_error([&] { (void)sigma::einsum("ii", {rnd({3, 3}, 1)}); }, {"einsum", "'i'", "diagonal"});
  expect_error([&] { (void)sigma::einsum("ij,jk", {a}); }, {"einsum", "2 operand(s)", "1 tensor(s)"});
  expect_error([&] { (void)sigma::einsum("ijk,jk", {a, b}); }, {"einsum", "operand 0", "[2, 3]"});
  expect_error([&] { (void)sigma::einsum("ij,jk->iz", {a, b}); }, {"einsum", "'z'"});
  expect_error([&] { (void)sigma::einsum("ij,kj", {a, b}); }, {"einsum", "'j'", "3", "4"});
  expect_error([&] { (void)sigma::einsum("i1,jk", {a, b}); }, {"einsum", "'1'"});
  expect_error([&] { (void)sigma::einsum("i,j,k", {rnd({2}, 1), rnd({2}, 2), rnd({2}, 3)}); },
               {"einsum", "one or two"});
}

TEST(Einsum, GradientsMatchCentralDifferences) {
  const Tensor c = rnd({2, 2, 3}, 30).requires_grad_(), d = rnd({2, 3, 2}, 31).requires_grad_();
  for (const char* eq : {"bij,bjk->bik", "bij,bjk->kb", "bij,bkj->ik", "bij,bjk"}) {
    const auto r = sigma::gradcheck([eq](const L& in) { return sigma::einsum(eq, in); },
                                    {c, eq == std::string("bij,bkj->ik") ? rnd({2, 2, 3}, 32).requires_grad_() : d});
    EXPECT_TRUE(r.ok) << eq << ": " << r.message;
  }
  const auto r = sigma::gradcheck([](const L& in) { return sigma::einsum("ijk->ki", in); }, {c});
  EXPECT_TRUE(r.ok) << r.message;
}

}  // namespace
