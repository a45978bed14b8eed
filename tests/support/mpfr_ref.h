// Correctly rounded references from MPFR (160-bit working precision), returned
// as long double (64-bit significand: enough to measure f64 errors to 2^-11 ULP).
#pragma once

#include <mpfr.h>

namespace sigma::test {

class Mp {
 public:
  Mp() { mpfr_init2(v_, 160); }
  explicit Mp(long double x) : Mp() { mpfr_set_ld(v_, x, MPFR_RNDN); }
  ~Mp() { mpfr_clear(v_); }
  Mp(const Mp&) = delete;
  Mp& operator=(const Mp&) = delete;
  mpfr_ptr get() { return v_; }
  long double ld() const { return mpfr_get_ld(v_, MPFR_RNDN); }

 private:
  mpfr_t v_;
};

// sigmoid(x) = 1 / (1 + exp(-x))
inline long double mp_sigmoid(long double x) {
  Mp r(-x);
  mpfr_exp(r.get(), r.get(), MPFR_RNDN);
  mpfr_add_ui(r.get(), r.get(), 1, MPFR_RNDN);
  mpfr_ui_div(r.get(), 1, r.get(), MPFR_RNDN);
  return r.ld();
}

// log(sigmoid(x)) = -log1p(exp(-x))
inline long double mp_log_sigmoid(long double x) {
  Mp r(-x);
  mpfr_exp(r.get(), r.get(), MPFR_RNDN);
  mpfr_log1p(r.get(), r.get(), MPFR_RNDN);
  mpfr_neg(r.get(), r.get(), MPFR_RNDN);
  return r.ld();
}

// log1p(exp(beta * x)) / beta
inline long double mp_softplus(long double x, long double beta) {
  Mp r(x), b(beta);
  mpfr_mul(r.get(), r.get(), b.get(), MPFR_RNDN);
  mpfr_exp(r.get(), r.get(), MPFR_RNDN);
  mpfr_log1p(r.get(), r.get(), MPFR_RNDN);
  mpfr_div(r.get(), r.get(), b.get(), MPFR_RNDN);
  return r.ld();
}

}  // namespace sigma::test
