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

void set_target(const std::string& name) {
  std::string want = upper(name);
  if (want == "AVX512") want = "AVX3";
  for (std::int64_t t : available_bits()) {
    if (want == hwy::TargetName(t)) {
      hwy::SetSupportedTargetsForTest(t);
      return;
    }
  }
  std::string list;
  for (const auto& n : available_targets()) list += (list.empty() ? "" : ", ") + n;
  throw std::invalid_argument("sigma::kernels::set_target: target '" + name +
                              "' is not compiled in or not supported by this CPU (available: " +
                              list + ")");
}

void reset_target() {
  available_bits();
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace kernels

namespace detail {

void init_dispatch() {
  static const bool done = [] {
    kernels::available_bits();
    if (const char* env = std::getenv("SIGMA_TARGET"); env && *env) kernels::set_target(env);
    return true;
  }();
  (void)done;
}

}  // namespace detail
}  // namespace sigma
#endif  // HWY_ONCE
