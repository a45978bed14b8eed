// Being written.
#include "tour.h"

namespace sigma::tour {

Section train_section() {
  return {"train", "Binary classification", "Binary classification", nullptr, [](Report& r) { r.text("Not written yet."); }};
}

}  // namespace sigma::tour
