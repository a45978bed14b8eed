// What the tour's digit-classifier sections (multilabel, multiclass) share:
// their training knobs as CLI flags, the checked settings, and one epoch of
// mini-batch training over shuffled rows.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sigma/sigma.h"

namespace CLI {
class App;
}

namespace sigma::tour {

struct MlpParams {
  std::optional<int> epochs, hidden, batch;
  std::optional<double> lr;
};

struct MlpSettings {
  int epochs = 0, hidden = 64, batch = 64;
  double lr = 3e-3;
};

// --epochs (default `epochs`, `quick_epochs` with --quick), --hidden (64),
// --batch-size (64), --lr (Adam, 3e-3).
void add_mlp_flags(CLI::App& app, MlpParams& p, int epochs, int quick_epochs);
// The flags' values or their defaults; cli::UsageError naming `section` for
// values out of range.
MlpSettings mlp_settings(const char* section, const MlpParams& p, bool quick, int epochs,
                         int quick_epochs);

// One epoch over n rows in a fresh random order (sigma's generator), batches
// of `batch`: loss(rows) is minimised with opt. Returns the mean loss per row.
double train_epoch(std::int64_t n, int batch, optim::Optimizer& opt,
                   const std::function<Tensor(const std::vector<std::int64_t>&)>& loss);

}  // namespace sigma::tour
