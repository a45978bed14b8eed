#!/usr/bin/env python3
"""Derives the constants of the sigmoid family's cores: the f32 exp polynomial
(src/kernels/exp_tables.h, ExpConsts), the log1p tables (log1p_tables.h,
Log1pConsts), tanh's polynomial (tanh.cpp) and silu's backward band (silu.cpp),
used by sigma's log_sigmoid, softplus, silu, tanh and bce_with_logits kernels.

Needs mpmath. Prints C++ literals and each approximation's error after rounding
its coefficients to the target type; the kernels' tests check the effect
exhaustively (f32) and against MPFR (f64), so this documents the numbers.

  exp:   e^t - 1 = t + t^2 g(t) on |t| <= 0.0218 (f32 only; f64 reuses exp_tables.h)
  log1p: u in [0, 1], j = round(15 u), invc_j ~ 1/(1 + j/15) (0.94 for j = 1, so
         that u invc_j + (invc_j - 1) is a Sterbenz difference), r = (1 + u) invc_j - 1,
         log1p(r) = r + r^2 Q(r); logc_j = -log(invc_j) as hi + lo
  tanh:  tanh(z) = z + z^3 P(z^2) on [0, T0]
  silu': s(x)(1 + x s(-x)) = (x - x0) P(x - x0) on |x - x0| <= B around its root x0
"""
import mpmath as mp

mp.mp.prec = 200


def round_to(v, prec):
    if v == 0:
        return mp.mpf(0)
    e = mp.floor(mp.log(abs(v), 2))
    s = mp.mpf(2) ** (prec - 1 - e)
    return mp.nint(v * s) / s


def lit(v, prec):
    return (float(v).hex() if v != 0 else "0.0") + ("f" if prec == 24 else "")


def horner(cs, x):
    r = mp.mpf(0)
    for c in reversed(cs):
        r = r * x + c
    return r


def fit(f, a, b, deg, prec, err, n=4000):
    """Chebyshev fit, coefficients rounded to prec bits; max err over a grid."""
    cs = [round_to(c, prec) for c in reversed(mp.chebyfit(f, [a, b], deg + 1))]
    worst = max(err(a + (b - a) * mp.mpf(i) / n, cs) for i in range(n + 1))
    return cs, worst


def show(name, cs, prec, worst):
    print(f"  {name} = {{{', '.join(lit(c, prec) for c in cs)}}}  // error 2^{mp.nstr(mp.log(worst, 2), 4)}")


sig = lambda x: 1 / (1 + mp.exp(-x))
for tname, prec, qdeg, t0, tdeg, band, bdeg in (("float", 24, 3, "0.375", 4, "1/16", 4),
                                                 ("double", 53, 8, "0.25", 7, "1/32", 7)):
    print(f"FamilyConsts<{tname}>:")
    if prec == 24:
        g = lambda t: (mp.exp(t) - 1 - t) / t**2 if t else mp.mpf(0.5)
        H = mp.mpf("0.0218")
        cs, w = fit(g, -H, H, 2, prec, lambda t, cs: abs((g(t) - horner(cs, t)) * t * t) / mp.exp(t))
        show("kExpG", cs, prec, w)
    invc, lch, lcl = [], [], []
    rmin = rmax = mp.mpf(0)
    for j in range(16):
        ic = mp.mpf(1) if j == 0 else round_to(mp.mpf("0.94") if j == 1 else 1 / (1 + mp.mpf(j) / 15), prec)
        lc = -mp.log(ic)
        invc.append(ic)
        lch.append(round_to(lc, prec))
        lcl.append(round_to(lc - lch[-1], prec))
        lo = max((j - mp.mpf("0.5")) / 15 - mp.mpf("1e-6"), 0)
        hi = min((j + mp.mpf("0.5")) / 15 + mp.mpf("1e-6"), 1)
        rmin, rmax = min(rmin, (1 + lo) * ic - 1), max(rmax, (1 + hi) * ic - 1)
        assert j == 0 or lo * ic / (1 - ic) > 0.5  # Sterbenz: p >= (1 - invc) / 2
    print("  kInvC =", ", ".join(lit(v, prec) for v in invc))
    print("  kLogCHi =", ", ".join(lit(v, prec) for v in lch))
    print("  kLogCLo =", ", ".join(lit(v, prec) for v in lcl))
    print(f"  r in [{mp.nstr(rmin, 6)}, {mp.nstr(rmax, 6)}]")
    Q = lambda r: (mp.log1p(r) - r) / r**2 if r else mp.mpf(-0.5)
    cs, w = fit(Q, rmin, rmax, qdeg, prec,
                lambda r, cs: abs((Q(r) - horner(cs, r)) * r * r / mp.log1p(r)) if r else 0)
    show("kLogQ", cs, prec, w)
    P = lambda v: (mp.tanh(mp.sqrt(v)) - mp.sqrt(v)) / mp.sqrt(v) ** 3 if v else mp.mpf(-1) / 3
    W = mp.mpf(t0) ** 2
    cs, w = fit(P, mp.mpf(0), W, tdeg, prec,
                lambda v, cs: abs((P(v) - horner(cs, v)) * v * mp.sqrt(v) / mp.tanh(mp.sqrt(v))) if v else 0, 2000)
    print(f"  kTanhSmall = {t0}")
    show("kTanhP", cs, prec, w)
    ds = lambda x: sig(x) * (1 + x * sig(-x))
    x0 = mp.findroot(lambda x: 1 + x * sig(-x), -1.278)
    h = round_to(x0, prec)
    print(f"  kSiluX0Hi = {lit(h, prec)}, kSiluX0Lo = {lit(round_to(x0 - h, prec), prec)}, kSiluBand = {band}")
    Pd = lambda dl: ds(x0 + dl) / dl if dl else mp.diff(ds, x0)
    B = mp.mpf(1) / int(band.split("/")[1])
    cs, w = fit(Pd, -B, B, bdeg, prec, lambda dl, cs: abs(horner(cs, dl) / Pd(dl) - 1), 1000)
    show("kSiluBandP", cs, prec, w)
