// Being written.
#include "tour.h"

namespace sigma::tour {

Section multilabel_section() {
  return {"multilabel", "Multi-label classification", "Multi-label classification", nullptr, [](Report& r) { r.text("Not written yet."); }};
}

}  // namespace sigma::tour
