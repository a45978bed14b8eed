// Subcommands of the sigma CLI. Each add_* registers one subcommand on the
// app; its callback does the work and reports failure by throwing
// sigma::cli::UsageError (bad input, exit 2) or std::exception (exit 1).
#pragma once

#include <stdexcept>
#include <string>

namespace CLI {
class App;
}

namespace sigma::cli {

// Bad input from the user: main prints the message on one line and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void add_eval(CLI::App& app);
void add_accuracy(CLI::App& app);
void add_bench(CLI::App& app);
void add_tour(CLI::App& app);
void add_predict(CLI::App& app);

}  // namespace sigma::cli
