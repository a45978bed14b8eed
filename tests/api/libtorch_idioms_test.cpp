// The README's promise, as a test: libtorch_idioms.inc holds everyday
// LibTorch idioms written once against a namespace alias. This file compiles
// them twice, with NS = torch and with NS = sigma, and checks that every
// idiom gives the same shapes, dtypes and values in both libraries. An idiom
// that sigma cannot compile breaks this target's build, on purpose.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "sigma/sigma.h"

namespace torch_side {
namespace NS = torch;
namespace F = torch::nn::functional;
struct Entry {
  std::string name;
  double tol;
  std::vector<torch::Tensor> (*fn)();
};
std::vector<Entry>& registry() {
  static std::vector<Entry> r;
  return r;
}
bool register_idiom(const char* name, double tol, std::vector<torch::Tensor> (*fn)()) {
  registry().push_back({name, tol, fn});
  return true;
}
std::vector<std::pair<std::string, std::string (*)()>>& text_registry() {
  static std::vector<std::pair<std::string, std::string (*)()>> r;
  return r;
}
bool register_text(const char* name, std::string (*fn)()) {
  text_registry().emplace_back(name, fn);
  return true;
}
#define NS_MODULE(Name) TORCH_MODULE(Name)
#include "libtorch_idioms.inc"
#undef NS_MODULE
}  // namespace torch_side

namespace sigma_side {
namespace NS = sigma;
namespace F = sigma::nn::functional;
struct Entry {
  std::string name;
  double tol;
  std::vector<sigma::Tensor> (*fn)();
};
std::vector<Entry>& registry() {
  static std::vector<Entry> r;
  return r;
}
bool register_idiom(const char* name, double tol, std::vector<sigma::Tensor> (*fn)()) {
  registry().push_back({name, tol, fn});
  return true;
}
std::vector<std::pair<std::string, std::string (*)()>>& text_registry() {
  static std::vector<std::pair<std::string, std::string (*)()>> r;
  return r;
}
bool register_text(const char* name, std::string (*fn)()) {
  text_registry().emplace_back(name, fn);
  return true;
}
#define NS_MODULE(Name) SIGMA_MODULE(Name)
#include "libtorch_idioms.inc"
#undef NS_MODULE
}  // namespace sigma_side

namespace {

// One result tensor as library-neutral data.
struct Flat {
  bool defined = false;
  std::vector<std::int64_t> sizes;
  std::string dtype;  // LibTorch's ScalarType names: "Float", "Long", ...
  bool floating = false;
  std::vector<double> values;
};

Flat describe(const torch::Tensor& t) {
  Flat f;
  if (!t.defined()) return f;
  f.defined = true;
  f.sizes = t.sizes().vec();
  std::ostringstream os;
  os << t.scalar_type();
  f.dtype = os.str();
  f.floating = t.is_floating_point();
  const torch::Tensor c = t.detach().to(torch::kDouble).contiguous();
  f.values.assign(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  return f;
}

Flat describe(const sigma::Tensor& t) {
  Flat f;
  if (!t.defined()) return f;
  f.defined = true;
  f.sizes = t.sizes().vec();
  std::ostringstream os;
  os << t.dtype();
  f.dtype = os.str();
  f.floating = t.is_floating_point();
  f.values = t.to_vector<double>();
  return f;
}

std::vector<std::string> idiom_names() {
  std::vector<std::string> names;
  for (const auto& e : torch_side::registry()) names.push_back(e.name);
  return names;
}

std::vector<std::string> text_idiom_names() {
  std::vector<std::string> names;
  for (const auto& e : torch_side::text_registry()) names.push_back(e.first);
  return names;
}

// Tolerance: float results match when |sigma - torch| <= tol (1 + |torch|),
// relative for magnitudes above 1 and absolute below. float32's unit roundoff
// is 6e-8; the element-wise kernels of both libraries are within a few ulp of
// the exact value (differing polynomials and SIMD paths), and the largest
// reductions here (convolution weight gradients) sum under a hundred terms of
// magnitude O(1), whose rounding error is bounded by n u sum|x|, about 6e-6
// of the terms' scale, whatever order each library sums in: tol = 1e-5 holds
// both. Idioms that train for several steps (each step feeds
// the last one's rounding into the next, and Adam/RMSprop divide by a square
// root of small second moments) use 1e-4 (IDIOM_TOL). Integer and bool
// results must be equal.
void expect_same(const Flat& s, const Flat& t, double tol, const std::string& what) {
  ASSERT_EQ(s.defined, t.defined) << what << ": defined";
  if (!t.defined) return;
  ASSERT_EQ(s.sizes, t.sizes) << what << ": shape";
  EXPECT_EQ(s.dtype, t.dtype) << what << ": dtype";
  ASSERT_EQ(s.values.size(), t.values.size()) << what;
  for (std::size_t i = 0; i < t.values.size(); ++i) {
    const double a = s.values[i], b = t.values[i];
    if (std::isnan(b)) {
      EXPECT_TRUE(std::isnan(a)) << what << " element " << i << ": sigma " << a << ", LibTorch NaN";
    } else if (t.floating || s.floating) {
      EXPECT_NEAR(a, b, tol * (1 + std::abs(b))) << what << " element " << i;
    } else {
      EXPECT_EQ(a, b) << what << " element " << i;
    }
  }
}

class LibTorchIdiom : public testing::TestWithParam<std::string> {};

TEST_P(LibTorchIdiom, SigmaMatchesLibTorch) {
  const std::string name = GetParam();
  const auto& ts = torch_side::registry();
  const auto& ss = sigma_side::registry();
  std::size_t i = 0;
  while (i < ts.size() && ts[i].name != name) ++i;
  ASSERT_LT(i, ts.size());
  ASSERT_EQ(ss[i].name, name);
  const std::vector<torch::Tensor> t = ts[i].fn();
  std::vector<sigma::Tensor> s;
  try {
    s = ss[i].fn();
  } catch (const std::exception& e) {
    FAIL() << name << ": sigma threw: " << e.what();
  }
  ASSERT_EQ(s.size(), t.size()) << name << ": number of results";
  for (std::size_t k = 0; k < t.size(); ++k)
    expect_same(describe(s[k]), describe(t[k]), ts[i].tol, name + " result " + std::to_string(k));
}

INSTANTIATE_TEST_SUITE_P(Idioms, LibTorchIdiom, testing::ValuesIn(idiom_names()),
                         [](const testing::TestParamInfo<std::string>& p) { return p.param; });

class LibTorchTextIdiom : public testing::TestWithParam<std::string> {};

TEST_P(LibTorchTextIdiom, SigmaPrintsAsLibTorch) {
  const std::string name = GetParam();
  const auto& ts = torch_side::text_registry();
  const auto& ss = sigma_side::text_registry();
  std::size_t i = 0;
  while (i < ts.size() && ts[i].first != name) ++i;
  ASSERT_LT(i, ts.size());
  ASSERT_EQ(ss[i].first, name);
  EXPECT_EQ(ss[i].second(), ts[i].second());
}

INSTANTIATE_TEST_SUITE_P(Idioms, LibTorchTextIdiom, testing::ValuesIn(text_idiom_names()),
                         [](const testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(LibTorchIdioms, BothSidesRegisterTheSameIdioms) {
  ASSERT_EQ(torch_side::registry().size(), sigma_side::registry().size());
  for (std::size_t i = 0; i < torch_side::registry().size(); ++i)
    EXPECT_EQ(torch_side::registry()[i].name, sigma_side::registry()[i].name);
  ASSERT_EQ(torch_side::text_registry().size(), sigma_side::text_registry().size());
  EXPECT_GE(torch_side::registry().size() + torch_side::text_registry().size(), 70u);
}

// A documented difference (docs/LIBTORCH.md): LibTorch's x.dtype() is a
// caffe2::TypeMeta that prints the C++ type name ("float"); sigma's is the
// ScalarType, printed as LibTorch prints x.scalar_type() ("Float").
TEST(LibTorchIdioms, PrintingDtypeDiffersAsDocumented) {
  std::ostringstream t, s;
  t << torch::zeros({1}).dtype() << " " << torch::arange(2).dtype();
  s << sigma::zeros({1}).dtype() << " " << sigma::arange(2).dtype();
  EXPECT_EQ(t.str(), "float long int");
  EXPECT_EQ(s.str(), "Float Long");
}

}  // namespace
