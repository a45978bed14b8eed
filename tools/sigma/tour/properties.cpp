// Being written.
#include "tour.h"

namespace sigma::tour {

Section properties_section() {
  return {"properties", "Properties", "Properties", nullptr, [](Report& r) { r.text("Not written yet."); }};
}

}  // namespace sigma::tour
