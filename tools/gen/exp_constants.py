#!/usr/bin/env python3
"""Derives the constants of sigma's SIMD exp-based kernels (src/kernels/exp_core-inl.h).

Needs mpmath. Prints C++ literals; the kernels' tests check every constant's effect
exhaustively, so this script documents where the numbers come from rather than
being part of the build.

e^-z = 2^-m * 2^(-j/16) * e^(-r) with N = round(z * 16/ln2), m = N >> 4, j = N & 15,
r = z - N * ln2/16 in [-ln2/32, ln2/32]. With t = -r:
  e^t - 1 = t + t^2 * g(t),  g(t) ~ (e^t - 1 - t) / t^2, a near-minimax polynomial.
"""
import mpmath as mp

mp.mp.prec = 200
ln2 = mp.log(2)
L = ln2 / 16
half = L / 2


def split(v, bits, total_bits):
    """v = hi + lo with hi having `bits` significant bits, lo rounded to total_bits."""
    e = mp.floor(mp.log(abs(v), 2))
    scale = mp.mpf(2) ** (bits - 1 - e)
    hi = mp.nint(v * scale) / scale
    lo = v - hi
    e2 = mp.floor(mp.log(abs(lo), 2))
    s2 = mp.mpf(2) ** (total_bits - 1 - e2)
    return hi, mp.nint(lo * s2) / s2


def round_to(v, prec):
    e = mp.floor(mp.log(abs(v), 2))
    s = mp.mpf(2) ** (prec - 1 - e)
    return mp.nint(v * s) / s


def hexf(v):
    return float(v).hex()


def g(t):
    return (mp.exp(t) - 1 - t) / t**2 if t != 0 else mp.mpf(0.5)


for name, prec, hi_bits, deg in (("f32", 24, 13, 1), ("f64", 53, 38, 5)):
    print(f"// {name}")
    print(f"//   16/ln2 = {hexf(16 / ln2)}")
    hi, lo = split(L, hi_bits, prec)
    print(f"//   ln2/16 hi = {hexf(hi)} ({hi_bits} bits), lo = {hexf(lo)}")
    coeffs = mp.chebyfit(g, [-half, half], deg + 1)
    # chebyfit returns highest degree first; round each to the target precision
    cs = [round_to(c, prec) for c in reversed(coeffs)]
    err = max(abs((g(t) - sum(c * t**k for k, c in enumerate(cs))) * t**2)
              for t in (half * (2 * mp.mpf(i) / 2000 - 1) for i in range(2001)))
    print("//   g coefficients (c0 + c1 t + ...):", [hexf(c) for c in cs])
    print(f"//   max |e^t - 1 - t - t^2 g(t)| on [-ln2/32, ln2/32] = 2^{mp.nstr(mp.log(err, 2), 4)}")
    print("//   2^(-j/16), j = 0..15 (hi, lo):")
    for j in range(16):
        v = mp.mpf(2) ** (-mp.mpf(j) / 16)
        e = mp.floor(mp.log(v, 2))
        s = mp.mpf(2) ** (prec - 1 - e)
        h = mp.nint(v * s) / s
        print(f"//     {hexf(h)}, {hexf(v - h)}")
