// Which SIMD target the kernels use: naming it, listing the compiled and
// supported ones, forcing one (API or SIGMA_TARGET) and the thread count.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/dispatch.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace sigma::kernels::HWY_NAMESPACE {
std::int64_t CurrentTarget() { return HWY_TARGET; }
}  // namespace sigma::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "hwy/targets.h"
#include "kernels/dispatch.h"
#include "sigma/error.h"
#include "sigma/kernels.h"

namespace sigma {
namespace kernels {
HWY_EXPORT(CurrentTarget);

namespace {

// Compiled and supported targets, best first. Read once, before any forcing,
// because SupportedTargets() reflects a forced target afterwards.
const std::vector<std::int64_t>& available_bits() {
  static const std::vector<std::int64_t> bits = hwy::SupportedAndGeneratedTargets();
  return bits;
}

std::string upper(std::string s) {
  for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string target() {
  detail::init_dispatch();
  return hwy::TargetName(HWY_DYNAMIC_DISPATCH(CurrentTarget)());
}

std::vector<std::string> available_targets() {
  std::vector<std::string> names;
  for (std::int64_t t : available_bits()) names.emplace_back(hwy::TargetName(t));
  return names;
}

namespace {

// Forces `name` (case-insensitive; AVX512 is AVX3); false if it is not one of
// available_targets().
bool force_target(const std::string& name) {
  std::string want = upper(name);
  if (want == "AVX512") want = "AVX3";
  for (std::int64_t t : available_bits()) {
    if (want == hwy::TargetName(t)) {
      hwy::SetSupportedTargetsForTest(t);
      return true;
    }
  }
  return false;
}

std::string target_list() {
  std::string list;
  for (const auto& n : available_targets()) list += (list.empty() ? "" : ", ") + n;
  return list;
}

}  // namespace

// SIGMA_TARGET is applied before any explicit choice, so set_target and
// reset_target win over it whenever they are called.
void set_target(const std::string& name) {
  detail::init_dispatch();
  if (!force_target(name))
    throw std::invalid_argument("sigma::kernels::set_target: target '" + name +
                                "' is not compiled in or not supported by this CPU (available: " +
                                target_list() + ")");
}

void reset_target() {
  detail::init_dispatch();
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace kernels

namespace detail {

void init_dispatch() {
  static const bool done = [] {
    kernels::available_bits();
    const char* env = std::getenv("SIGMA_TARGET");
    if (env && *env && !kernels::force_target(env))
      throw Error("SIGMA_TARGET: '" + std::string(env) +
                  "' is not a SIMD target compiled in and supported by this CPU (valid: " +
                  kernels::target_list() + "; AVX512 means AVX3; unset it for the best)");
    return true;
  }();
  (void)done;
}

}  // namespace detail
}  // namespace sigma
#endif  // HWY_ONCE
