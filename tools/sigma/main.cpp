// sigma: the command-line front end. Subcommands live one per file; this file
// only builds the app and turns every failure into one line and an exit code
// (0 ok, 1 runtime failure, 2 bad usage or input).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "commands.h"
#include "sigma/version.h"

int main(int argc, char** argv) {
  CLI::App app{"sigma: exact, fast sigmoid-family kernels, tensors, autograd and nn", "sigma"};
  app.set_version_flag("--version", std::string("sigma ") + sigma::version());
  app.require_subcommand(1);
  sigma::cli::add_eval(app);
  sigma::cli::add_accuracy(app);
  sigma::cli::add_bench(app);
  sigma::cli::add_tour(app);
  sigma::cli::add_predict(app);
  // After the subcommands, which would otherwise inherit it.
  app.footer(
      "The seed: the document sigma is built to demonstrate, a PyTorch-centred text on the sigmoid "
      "(definition, properties, derivative, vanishing gradients, BCEWithLogitsLoss, gating, numerical "
      "stability).");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // `sigma bogus` reaches here as "a subcommand is required": name it.
    if (app.get_subcommands().empty() && !app.remaining().empty()) {
      std::string names;
      for (const auto* c : app.get_subcommands({})) names += (names.empty() ? "" : ", ") + c->get_name();
      const std::string first = app.remaining().front();
      std::fprintf(stderr, "sigma: unknown %s '%s' (commands: %s)\n",
                   first.rfind('-', 0) == 0 ? "option" : "command", first.c_str(), names.c_str());
      return 2;
    }
    std::fprintf(stderr, "sigma: %s (see sigma --help)\n", e.what());
    return 2;
  } catch (const sigma::cli::UsageError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "sigma: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);  // what the command printed comes before its error line
    std::fprintf(stderr, "sigma: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
