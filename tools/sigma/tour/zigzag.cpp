// Being written.
#include "tour.h"

namespace sigma::tour {

Section zigzag_section() {
  return {"zigzag", "Not zero-centred", "Not zero-centred", nullptr, [](Report& r) { r.text("Not written yet."); }};
}

}  // namespace sigma::tour
