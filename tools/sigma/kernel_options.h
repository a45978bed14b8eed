// What the kernel subcommands (eval, accuracy, bench) share about their
// options: op names as the user may spell them, and the SIMD target that
// SIGMA_TARGET chose, with an invalid value reported as bad input.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

#include "commands.h"
#include "sigma/error.h"
#include "sigma/kernels.h"
#include "sigma/op_list.h"

namespace sigma::cli {

// "Log-Sigmoid" and "BCE-with-logits" name log_sigmoid and bce_with_logits.
inline std::string normalize_op_name(std::string_view name) {
  std::string s(name);
  for (char& c : s) c = c == '-' ? '_' : char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "sigmoid, sigmoid_backward, ..." from SIGMA_OP_LIST.
inline std::string op_name_list() {
  std::string names;
  for (std::string_view n : op_names) names += (names.empty() ? "" : ", ") + std::string(n);
  return names;
}

// The target the kernels dispatch to. SIGMA_TARGET is read on the first call;
// an unusable value is the user's input, so it becomes a UsageError (exit 2).
inline std::string dispatch_target(std::string_view cmd) {
  try {
    return kernels::target();
  } catch (const Error& e) {
    throw UsageError(std::string(cmd) + ": " + e.what());
  }
}

}  // namespace sigma::cli
