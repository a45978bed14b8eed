// Constants of the exp core (exp_core-inl.h), the one range reduction of the
// sigmoid family. Derivation: tools/gen/exp_constants.py (reduction, table,
// kGSigmoid) and tools/gen/other_ops_constants.py (kG, the limits).
//
// e^-z = 2^-m * 2^(-j/16) * e^t with N = round(z * 16/ln2), m = N >> 4,
// j = N & 15 and t = N * ln2/16 - z in [-ln2/32, ln2/32];
// e^t - 1 = t + t^2 * g(t) with g a near-minimax polynomial.
#pragma once

#include <cstdint>

namespace sigma::kernels {

template <class T>
struct ExpConsts;

template <>
struct ExpConsts<float> {
  using Bits = std::int32_t;
  static constexpr float kInvL = 0x1.715476p+4f;    // 16 / ln2
  static constexpr float kLHi = 0x1.62ep-5f;        // ln2/16, 13 bits: N * kLHi is exact
  static constexpr float kLLo = 0x1.0bfbe8p-19f;    // ln2/16 - kLHi
  static constexpr float kMagic = 0x1.8p23f;        // z*16/ln2 + kMagic rounds to an integer
  static constexpr Bits kMagicMMask = 0x003ffff0;   // bits of N & ~15 inside magic + N
  static constexpr Bits kOneBits = 0x3f800000;      // 1.0f
  static constexpr int kMantBits = 23;
  // g(t) = c0 + c1 t + c2 t^2: |e^t - 1 - t - t^2 g(t)| <= 2^-36.5 on
  // [-ln2/32, ln2/32], for the ops that compute on from the unrounded pieces.
  static constexpr float kG[] = {0x1p-1f, 0x1.5556e4p-3f, 0x1.55566p-5f};
  // g(t) = c0 + c1 t: error <= 2^-27.7, enough where sigmoid(+-z) is rounded
  // straight from the pieces (sigmoid and its derivative).
  static constexpr float kGSigmoid[] = {0x1.000148p-1f, 0x1.55565cp-3f};
  // Below kFastZ every 2^-m and every partial product stays normal; beyond
  // it log1p(e^-z) = e^-z to 2^-100.
  static constexpr float kFastZ = 80.0f;
  // Beyond this e^-z rounds to 0 (e^-104.5 < 2^-150): sigmoid(z) is 0 or 1.
  static constexpr float kZMaxExp = 104.5f;
  // Backward: FLT_MAX * (1 + z) e^-z < 2^-150 beyond this.
  static constexpr float kZMaxGrad = 200.0f;
  alignas(64) static constexpr float kTabHi[16] = {
      0x1p+0f,         0x1.ea4afap-1f,  0x1.d5818ep-1f, 0x1.c199bep-1f,
      0x1.ae89fap-1f,  0x1.9c4918p-1f,  0x1.8ace54p-1f, 0x1.7a1148p-1f,
      0x1.6a09e6p-1f,  0x1.5ab07ep-1f,  0x1.4bfdaep-1f, 0x1.3dea64p-1f,
      0x1.306fe0p-1f,  0x1.2387a6p-1f,  0x1.172b84p-1f, 0x1.0b5586p-1f};
  alignas(64) static constexpr float kTabLo[16] = {
      0.0f,            0x1.52486cp-28f, -0x1.822dbcp-28f, -0x1.3d56b2p-28f,
      -0x1.a94b14p-27f, 0x1.51f848p-28f, 0x1.15506ep-28f, -0x1.829fd0p-26f,
      0x1.9fcef4p-27f, -0x1.5bd5ecp-28f, -0x1.593abcp-26f, 0x1.824684p-26f,
      0x1.4636e2p-26f, 0x1.ceac48p-26f, -0x1.c15742p-28f, 0x1.9f3122p-26f};
};

// g of degree 5: |e^t - 1 - t - t^2 g(t)| <= 2^-64.4, for every f64 use.
inline constexpr double kExpGDouble[] = {0x1.0000000000001p-1, 0x1.5555555555556p-3,
                                         0x1.55555554e9468p-5, 0x1.11111110e10a8p-7,
                                         0x1.6c17ed4cc4834p-10, 0x1.a01b0c2edab7cp-13};

template <>
struct ExpConsts<double> {
  using Bits = std::int64_t;
  static constexpr double kInvL = 0x1.71547652b82fep+4;
  static constexpr double kLHi = 0x1.62e42fefa0000p-5;  // 38 bits
  static constexpr double kLLo = 0x1.cf79abc9e3b3ap-44;
  static constexpr double kMagic = 0x1.8p52;
  static constexpr Bits kMagicMMask = 0x0007fffffffffff0;
  static constexpr Bits kOneBits = 0x3ff0000000000000;
  static constexpr int kMantBits = 52;
  static constexpr const auto& kG = kExpGDouble;
  static constexpr const auto& kGSigmoid = kExpGDouble;
  static constexpr double kFastZ = 700.0;
  static constexpr double kZMaxExp = 745.5;  // e^-745.5 < 2^-1075
  static constexpr double kZMaxGrad = 1470.0;
  alignas(64) static constexpr double kTabHi[16] = {
      0x1p+0,                0x1.ea4afa2a490dap-1, 0x1.d5818dcfba487p-1, 0x1.c199bdd85529cp-1,
      0x1.ae89f995ad3adp-1,  0x1.9c49182a3f090p-1, 0x1.8ace5422aa0dbp-1, 0x1.7a11473eb0187p-1,
      0x1.6a09e667f3bcdp-1,  0x1.5ab07dd485429p-1, 0x1.4bfdad5362a27p-1, 0x1.3dea64c123422p-1,
      0x1.306fe0a31b715p-1,  0x1.2387a6e756238p-1, 0x1.172b83c7d517bp-1, 0x1.0b5586cf9890fp-1};
  alignas(64) static constexpr double kTabLo[16] = {
      0.0,                    -0x1.e9c23179c2893p-55, 0x1.2ed02d75b3707p-56, 0x1.11065895048ddp-56,
      0x1.7a1cd345dcc81p-55,  0x1.c7c46b071f2bep-57,  0x1.6e9f156864b27p-55, -0x1.41577ee04992fp-56,
      -0x1.bdd3413b26456p-55, 0x1.6324c054647adp-55,  0x1.d4397afec42e2p-57, 0x1.ada0911f09ebcp-56,
      0x1.6f46ad23182e4p-56,  0x1.9b07eb6c70573p-55,  -0x1.19041b9d78a76p-56, 0x1.8a62e4adc610bp-55};
};

}  // namespace sigma::kernels
