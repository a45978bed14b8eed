// Being written.
#include "tour.h"

namespace sigma::tour {

Section vanish_section() {
  return {"vanish", "Vanishing gradients", "Vanishing gradients", nullptr, [](Report& r) { r.text("Not written yet."); }};
}

}  // namespace sigma::tour
