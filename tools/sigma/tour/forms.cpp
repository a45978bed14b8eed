// Being written.
#include "tour.h"

namespace sigma::tour {

Section forms_section() {
  return {"forms", "Definition and equivalent forms", "Definition and equivalent forms", nullptr, [](Report& r) { r.text("Not written yet."); }};
}

}  // namespace sigma::tour
