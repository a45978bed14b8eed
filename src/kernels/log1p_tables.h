// Constants of the log1p core (log1p_core-inl.h). Derivation: mpmath
// (chebyfit, coefficients rounded to the type and checked),
// tools/gen/other_ops_constants.py.
//
// log1p(u), u in [0, 1]: j = round(15 u), invc_j ~ 1/(1 + j/15),
// log1p(u) = -log(invc_j) + log1p(r), r = (1 + u) invc_j - 1 in [-0.0295, 0.0341].
#pragma once

namespace sigma::kernels {

template <class T>
struct Log1pConsts;

// clang-format off

template <>
struct Log1pConsts<float> {
  // At and beyond 2^24, z + log1p(e^-z) rounds to z.
  static constexpr float kLinear = 0x1p24f;
  // log1p(u) table: j = round(15 u), invc_j ~ 1/(1 + j/15) (0.94 for j = 1),
  // logc_j = -log(invc_j) as hi + lo.
  static constexpr float kLogScale = 15.0f;
  alignas(64) static constexpr float kInvC[16] = {
      0x1p+0f, 0x1.e147aep-1f, 0x1.c3c3c4p-1f, 0x1.aaaaaap-1f,
      0x1.9435e6p-1f, 0x1.8p-1f, 0x1.6db6dcp-1f, 0x1.5d1746p-1f,
      0x1.4de9bep-1f, 0x1.4p-1f, 0x1.333334p-1f, 0x1.276276p-1f,
      0x1.1c71c8p-1f, 0x1.124924p-1f, 0x1.08d3dcp-1f, 0x1p-1f};
  alignas(64) static constexpr float kLogCHi[16] = {
      0.0f, 0x1.fae222p-5f, 0x1.005588p-3f, 0x1.756504p-3f,
      0x1.e41fc8p-3f, 0x1.269622p-2f, 0x1.588c2cp-2f, 0x1.882f1ep-2f,
      0x1.b5b3ep-2f, 0x1.e148a2p-2f, 0x1.058aeep-1f, 0x1.199facp-1f,
      0x1.2cf25ep-1f, 0x1.3f9128p-1f, 0x1.5188a6p-1f, 0x1.62e43p-1f};
  alignas(64) static constexpr float kLogCLo[16] = {
      0.0f, -0x1.b5dccep-32f, -0x1.8f66d8p-29f, 0x1.45f26cp-29f,
      -0x1.561bdep-31f, -0x1.d9648ep-27f, -0x1.0cca0ap-31f, 0x1.bed93p-28f,
      -0x1.2183eap-29f, -0x1.76364cp-28f, 0x1.4aefcp-27f, 0x1.59f1ep-26f,
      0x1.3f5834p-29f, 0x1.8d464ap-27f, -0x1.4fa54ap-30f, -0x1.05c61p-29f};
  // log1p(r) = r + r^2 Q(r): relative error <= 2^-29.9 on [-0.0295, 0.0341].
  static constexpr float kLogQ[] = {-0x1.fffffep-2f, 0x1.555586p-2f, -0x1.002a68p-2f,
                                    0x1.96c61cp-3f};
};

template <>
struct Log1pConsts<double> {
  static constexpr double kLinear = 0x1p53;
  static constexpr double kLogScale = 15.0;
  alignas(64) static constexpr double kInvC[16] = {
      0x1p+0, 0x1.e147ae147ae14p-1, 0x1.c3c3c3c3c3c3cp-1, 0x1.aaaaaaaaaaaabp-1,
      0x1.9435e50d79436p-1, 0x1.8p-1, 0x1.6db6db6db6db7p-1, 0x1.5d1745d1745d1p-1,
      0x1.4de9bd37a6f4ep-1, 0x1.4p-1, 0x1.3333333333333p-1, 0x1.2762762762762p-1,
      0x1.1c71c71c71c72p-1, 0x1.1249249249249p-1, 0x1.08d3dcb08d3ddp-1, 0x1p-1};
  alignas(64) static constexpr double kLogCHi[16] = {
      0.0, 0x1.fae2206cabe4p-5, 0x1.005588ad375aep-3, 0x1.7565011e49675p-3,
      0x1.e41fccb76b0d7p-3, 0x1.269621134db92p-2, 0x1.588c2d913348fp-2, 0x1.882f1ef83ed45p-2,
      0x1.b5b3e24235e88p-2, 0x1.e148a1a2726cep-2, 0x1.058aefa811452p-1, 0x1.199fac68b4ab8p-1,
      0x1.2cf25fad8f1c3p-1, 0x1.3f91275240811p-1, 0x1.5188a4a02d7fep-1, 0x1.62e42fefa39efp-1};
  alignas(64) static constexpr double kLogCLo[16] = {
      0.0,                    -0x1.03b795ce1e11p-60,  -0x1.23dbdc498b285p-59,
      -0x1.81495b2eb862bp-57, -0x1.ef0a9ec21b972p-57, 0x1.e0efadd9db02bp-56,
      0x1.fafb06b03f0a5p-57,  0x1.d2273fd0174a6p-56,  -0x1.4e3e22530be1bp-60,
      -0x1.ac81cc8a4dfb8p-56, -0x1.c19f73d945334p-60, -0x1.0e0e34e56089ep-58,
      0x1.0a35884260cffp-56,  0x1.4d147676db21dp-55,  0x1.5cc1daef69b6ap-55,
      0x1.abc9e3b39803fp-56};
  // log1p(r) = r + r^2 Q(r): relative error <= 2^-60.5.
  static constexpr double kLogQ[] = {
      -0x1p-1,               0x1.5555555555527p-2, -0x1.000000000132dp-2, 0x1.9999999acd5f3p-3,
      -0x1.5555551d4492ap-3, 0x1.24923770afbf5p-3, -0x1.0001975c0fe8bp-3, 0x1.c7e1977fadca7p-4,
      -0x1.92bf48ff3dd21p-4};
};

// clang-format on

}  // namespace sigma::kernels
