// Runs a test body once per SIMD target compiled in and supported here, with
// dispatch forced to that target, and restores the default afterwards.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "sigma/kernels.h"

namespace sigma::test {

template <class Body>
void for_each_target(Body&& body) {
  for (const std::string& t : sigma::kernels::available_targets()) {
    SCOPED_TRACE("target " + t);
    sigma::kernels::set_target(t);
    body(t);
  }
  sigma::kernels::reset_target();
}

}  // namespace sigma::test
