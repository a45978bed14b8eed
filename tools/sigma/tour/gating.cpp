// Being written.
#include "tour.h"

namespace sigma::tour {

Section gating_section() {
  return {"gating", "Gating (LSTM)", "Gating (LSTM)", nullptr, [](Report& r) { r.text("Not written yet."); }};
}

}  // namespace sigma::tour
