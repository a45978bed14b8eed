// The digit-classifier sections' shared flags and training epoch (mlp.h).
#include "mlp.h"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "../commands.h"

namespace sigma::tour {

void add_mlp_flags(CLI::App& app, MlpParams& p, int epochs, int quick_epochs) {
  app.add_option("--epochs", p.epochs,
                 "Training epochs (default " + std::to_string(epochs) + ", --quick " +
                     std::to_string(quick_epochs) + ")")
      ->check(CLI::Range(1, 100000));
  app.add_option("--hidden", p.hidden, "Hidden units (default 64)")->check(CLI::Range(1, 100000));
  app.add_option("--batch-size", p.batch, "Mini-batch size (default 64)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--lr", p.lr, "Adam learning rate (default 3e-3)")->check(CLI::PositiveNumber);
}

MlpSettings mlp_settings(const char* section, const MlpParams& p, bool quick, int epochs,
                         int quick_epochs) {
  MlpSettings s;
  s.epochs = p.epochs.value_or(quick ? quick_epochs : epochs);
  s.hidden = p.hidden.value_or(64);
  s.batch = p.batch.value_or(64);
  s.lr = p.lr.value_or(3e-3);
  if (s.epochs < 1 || s.hidden < 1 || s.batch < 1 || !(s.lr > 0))
    throw cli::UsageError(std::string(section) +
                          ": need --epochs, --hidden, --batch-size >= 1 and --lr > 0");
  return s;
}

double train_epoch(std::int64_t n, int batch, optim::Optimizer& opt,
                   const std::function<Tensor(const std::vector<std::int64_t>&)>& loss) {
  const std::vector<std::int64_t> order = sigma::randperm(n).to_vector<std::int64_t>();
  double sum = 0;
  for (std::int64_t start = 0; start < n; start += batch) {
    const std::vector<std::int64_t> rows(order.begin() + start,
                                         order.begin() + std::min(n, start + batch));
    const Tensor l = loss(rows);
    opt.zero_grad();
    l.backward();
    opt.step();
    sum += l.item<double>() * static_cast<double>(rows.size());
  }
  return sum / static_cast<double>(n);
}

}  // namespace sigma::tour
