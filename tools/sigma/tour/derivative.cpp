// Being written.
#include "tour.h"

namespace sigma::tour {

Section derivative_section() {
  return {"derivative", "Derivative", "Derivative", nullptr, [](Report& r) { r.text("Not written yet."); }};
}

}  // namespace sigma::tour
