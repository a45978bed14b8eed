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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "sigma: %s (see sigma --help)\n", e.what());
    return 2;
  } catch (const sigma::cli::UsageError& e) {
    std::fprintf(stderr, "sigma: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sigma: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
