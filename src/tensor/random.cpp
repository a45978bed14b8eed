// random.cpp: random tensors from one global generator (std::mt19937_64 under
// a mutex), so manual_seed makes a run reproducible on every platform.
//
// The transforms are written here rather than taken from <random>'s
// distributions, whose algorithms differ between standard libraries: uniform
// values take the top bits of one 64-bit draw (as many as the type has
// significand bits, so they are exact and below 1), normals use Box-Muller,
// integer ranges reject the few draws that would bias the remainder. Values
// are generated serially in row-major order, then copied into the tensor.
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <random>
#include <sstream>
#include <vector>

#include "autograd/function.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "tensor/tensor_impl.h"

namespace sigma {

namespace {

constexpr std::uint64_t kDefaultSeed = 67280421310721ULL;  // PyTorch's default seed

struct Generator {
  std::mutex mutex;
  std::mt19937_64 engine{kDefaultSeed};
};

Generator& generator() {
  static Generator g;
  return g;
}

// A uniform double in [0, 1) with `bits` random significand bits (<= 53).
double uniform01(std::mt19937_64& e, int bits) {
  return static_cast<double>(e() >> (64 - bits)) * std::ldexp(1.0, -bits);
}

// Significand bits of a floating storage type: values k 2^-bits are exact in it.
int digits(ScalarType t) {
  switch (t) {
    case kDouble: return 53;
    case kBFloat16: return 8;
    case kHalf: return 11;
    default: return 24;
  }
}

// An unbiased integer in [0, range), range >= 1 (0 means the full 2^64).
std::uint64_t below(std::mt19937_64& e, std::uint64_t range) {
  if (range == 0) return e();
  // Draws below 2^64 mod range would make small remainders more likely.
  const std::uint64_t reject_below = (0 - range) % range;
  std::uint64_t v;
  do v = e();
  while (v < reject_below);
  return v % range;
}

// Writes n doubles from gen(engine) into t (any geometry), row-major, holding
// the generator's lock only while drawing.
template <class Gen> void fill_from(const Tensor& t, Gen&& gen) {
  const std::int64_t n = t.numel();
  Tensor dense = make_tensor(t.sizes(), kDouble);
  double* p = detail::data_of<double>(dense);
  {
    Generator& g = generator();
    std::lock_guard<std::mutex> lock(g.mutex);
    gen(g.engine, p, n);
  }
  detail::copy_elements(t, dense);
}

// The largest value of floating storage type T below `to`.
template <class T> double largest_below(double to) {
  const T r = detail::convert_value<T>(to);
  if (detail::to_double_value(r) < to) return detail::to_double_value(r);
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    return static_cast<double>(std::nextafter(r, -std::numeric_limits<T>::infinity()));
  } else {
    T b = r;  // sign-magnitude bits: one step toward -inf
    if (detail::to_double_value(r) == 0) b.bits = 0x8001;
    else b.bits = static_cast<std::uint16_t>(r.bits + ((r.bits & 0x8000) ? 1 : -1));
    return detail::to_double_value(b);
  }
}

// Uniform values in [from, to) of t's dtype (from <= to, both finite). A draw
// that rounds up to `to` in t's dtype becomes the largest value below it.
void fill_uniform(const Tensor& t, double from, double to) {
  const int bits = digits(t.dtype());
  detail::dispatch_storage(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, std::int64_t> && !std::is_same_v<T, bool>) {
      const double cap = from < to ? std::max(from, largest_below<T>(to)) : from;
      fill_from(t, [&](std::mt19937_64& e, double* p, std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) {
          const double v = uniform01(e, bits) * (to - from) + from;
          p[i] = detail::to_double_value(detail::convert_value<T>(v)) >= to ? cap : v;
        }
      });
    }
  });
}

// Standard normals by Box-Muller: each pair of uniforms gives two values.
void fill_normal(const Tensor& t, double mean, double sd) {
  fill_from(t, [&](std::mt19937_64& e, double* p, std::int64_t n) {
    constexpr double kTwoPi = 6.283185307179586476925;
    for (std::int64_t i = 0; i < n; i += 2) {
      const double u1 = 1.0 - uniform01(e, 53);  // (0, 1]: log(u1) is finite
      const double u2 = uniform01(e, 53);
      const double r = std::sqrt(-2.0 * std::log(u1));
      p[i] = mean + sd * (r * std::cos(kTwoPi * u2));
      if (i + 1 < n) p[i + 1] = mean + sd * (r * std::sin(kTwoPi * u2));
    }
  });
}

void require_floating(const char* op, ScalarType t) {
  if (!is_floating_point(t))
    throw Error(std::string(op) + ": expected a floating-point dtype, got " + to_string(t));
}

Tensor finish(Tensor t, const TensorOptions& o) {
  if (o.requires_grad()) t.requires_grad_(true);
  return t;
}

TensorOptions like(const Tensor& t, const TensorOptions& o) {
  if (!t.defined()) throw Error("random: the tensor given as a template is undefined");
  const TensorOptions d = o.has_device() ? o : o.device(t.device());
  return o.has_dtype() ? d : d.dtype(t.dtype());
}

}  // namespace

void manual_seed(std::uint64_t seed) {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.engine.seed(seed);
}

Tensor rand(IntArrayRef shape, const TensorOptions& o) {
  check_backend("rand", o.device());
  require_floating("rand", o.dtype());
  Tensor t = make_tensor(shape, o.dtype());
  fill_uniform(t, 0.0, 1.0);
  return finish(t, o);
}

Tensor randn(IntArrayRef shape, const TensorOptions& o) {
  check_backend("randn", o.device());
  require_floating("randn", o.dtype());
  Tensor t = make_tensor(shape, o.dtype());
  fill_normal(t, 0.0, 1.0);
  return finish(t, o);
}

Tensor randint(std::int64_t high, IntArrayRef shape, const TensorOptions& o) {
  check_backend("randint", o.device());
  return randint(0, high, shape, o);
}

Tensor randint(std::int64_t low, std::int64_t high, IntArrayRef shape, const TensorOptions& o) {
  check_backend("randint", o.device());
  if (low >= high) {
    std::ostringstream m;
    m << "randint: low (" << low << ") must be less than high (" << high << ")";
    throw Error(m.str());
  }
  const ScalarType dt = o.has_dtype() ? o.dtype() : kLong;
  Tensor t = make_tensor(shape, dt);
  const std::int64_t n = t.numel();
  const std::uint64_t range = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
  Tensor values = dt == kLong ? t : make_tensor(shape, kLong);
  auto* p = detail::data_of<std::int64_t>(values);
  {
    Generator& g = generator();
    std::lock_guard<std::mutex> lock(g.mutex);
    for (std::int64_t i = 0; i < n; ++i)
      p[i] = static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + below(g.engine, range));
  }
  if (dt != kLong) detail::copy_elements(t, values);
  return finish(t, o.dtype(dt));
}

Tensor randperm(std::int64_t n, const TensorOptions& o) {
  check_backend("randperm", o.device());
  if (n < 0) throw Error("randperm: n must be non-negative, got " + std::to_string(n));
  const ScalarType dt = o.has_dtype() ? o.dtype() : kLong;
  Tensor values = make_tensor({n}, kLong);
  auto* p = detail::data_of<std::int64_t>(values);
  for (std::int64_t i = 0; i < n; ++i) p[i] = i;
  {
    Generator& g = generator();
    std::lock_guard<std::mutex> lock(g.mutex);
    for (std::int64_t i = n - 1; i > 0; --i) {
      const auto j = static_cast<std::int64_t>(below(g.engine, static_cast<std::uint64_t>(i) + 1));
      std::swap(p[i], p[j]);
    }
  }
  Tensor t = dt == kLong ? values : detail::cast_data(values, dt);
  return finish(t, o.dtype(dt));
}

Tensor rand_like(const Tensor& t, const TensorOptions& o) { return rand(t.sizes(), like(t, o)); }
Tensor randn_like(const Tensor& t, const TensorOptions& o) { return randn(t.sizes(), like(t, o)); }

Tensor bernoulli(const Tensor& p) {
  if (!p.defined()) throw Error("bernoulli: the probability tensor is undefined");
  require_floating("bernoulli", p.dtype());
  Tensor probs = detail::cast_data(p.detach(), kDouble).contiguous();
  const double* q = detail::data_of<const double>(probs);
  const std::int64_t n = probs.numel();
  for (std::int64_t i = 0; i < n; ++i)
    if (!(q[i] >= 0.0 && q[i] <= 1.0)) {
      std::ostringstream m;
      m << "bernoulli: probabilities must be in [0, 1], got " << q[i] << " at flat index " << i
        << " of a tensor of shape " << shape_string(p.sizes());
      throw Error(m.str());
    }
  Tensor out = make_tensor(p.sizes(), p.dtype());
  fill_from(out, [&](std::mt19937_64& e, double* v, std::int64_t m) {
    for (std::int64_t i = 0; i < m; ++i) v[i] = uniform01(e, 53) < q[i] ? 1.0 : 0.0;
  });
  return out;
}

Tensor& Tensor::uniform_(double from, double to) {
  if (!defined()) throw Error("uniform_: the tensor is undefined");
  autograd::check_inplace("uniform_", *this);
  require_floating("uniform_", dtype());
  if (!std::isfinite(from) || !std::isfinite(to) || from > to || !std::isfinite(to - from)) {
    std::ostringstream m;
    m << "uniform_: expected finite from <= to with a finite to - from, got from=" << from
      << ", to=" << to;
    throw Error(m.str());
  }
  fill_uniform(*this, from, to);
  bump_version(*this);
  return *this;
}

Tensor& Tensor::normal_(double mean, double sd) {
  if (!defined()) throw Error("normal_: the tensor is undefined");
  autograd::check_inplace("normal_", *this);
  require_floating("normal_", dtype());
  if (!(sd >= 0.0) || !std::isfinite(sd) || !std::isfinite(mean)) {
    std::ostringstream m;
    m << "normal_: expected a finite mean and a finite std >= 0, got mean=" << mean
      << ", std=" << sd;
    throw Error(m.str());
  }
  fill_normal(*this, mean, sd);
  bump_version(*this);
  return *this;
}

}  // namespace sigma
