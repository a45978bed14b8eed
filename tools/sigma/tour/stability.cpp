// Being written.
#include "tour.h"

namespace sigma::tour {

Section stability_section() {
  return {"stability", "Numerical stability", "Numerical stability", nullptr, [](Report& r) { r.text("Not written yet."); }};
}

}  // namespace sigma::tour
