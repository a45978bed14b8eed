// How many values a sweeping test draws: all of them in the release build,
// a sixteenth under AddressSanitizer + UBSan (SIGMA_TEST_SANITIZED), where the
// sweep only has to reach every code path; the values themselves are checked
// by the release build.
#pragma once

#include <cstdint>

namespace sigma::test {

constexpr std::int64_t sweep(std::int64_t n) {
#ifdef SIGMA_TEST_SANITIZED
  return n / 16 > 0 ? n / 16 : 1;
#else
  return n;
#endif
}

}  // namespace sigma::test
