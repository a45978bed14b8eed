// sigma/optim/serialize.h: optimizer and scheduler checkpoints, as LibTorch's
// torch::save(optimizer, path) / torch::load(optimizer, path), in the
// safetensors format of model checkpoints (sigma/serialize.h):
//
//   sigma::save(model, "model.safetensors");
//   sigma::save(optimizer, "optimizer.safetensors");
//   sigma::save(scheduler, "scheduler.safetensors");
//   ...  // later, maybe in another process, into newly made objects:
//   sigma::load(model, "model.safetensors");
//   sigma::load(optimizer, "optimizer.safetensors");
//   sigma::load(scheduler, "scheduler.safetensors");
//
// Training then continues bit for bit as if it had never stopped. Files hold
// the per-parameter state (momentum buffers, moments, step counts) as
// tensors and every group's options as JSON; src/optim/serialize.cpp has the
// layout. SGD, Adam, AdamW, RMSprop and Adagrad; StepLR, ExponentialLR,
// CosineAnnealingLR, LambdaLR (its step count and rates: the functions are not
// saved, as PyTorch saves no plain function) and ReduceLROnPlateauScheduler
// (its best metric and counters). The optimizer's
// defaults are not saved (as in PyTorch): they only matter to groups added
// later. Writes are atomic. Loads check the whole file against the object
// (its kind, groups, parameter counts, each state tensor's shape and dtype
// against its parameter, step counts, unknown or missing entries) before
// changing anything, and throw sigma::Error naming the file and the problem;
// on error the object is unchanged.
#pragma once

#include <filesystem>

#include "sigma/optim/optimizer.h"
#include "sigma/optim/schedulers.h"

namespace sigma {

// Writes every group's options and every parameter's state.
void save(const optim::Optimizer& optimizer, const std::filesystem::path& path);
// Replaces every group's options (the learning rate included) and the whole
// state with the file's. The optimizer must be of the same kind, over
// parameters of the same shapes and dtypes in the same groups.
void load(optim::Optimizer& optimizer, const std::filesystem::path& path);

// Writes the step count t, the base and the last learning rates and the
// schedule's own parameters (step_size and gamma; gamma; T_max and eta_min; the
// number of LambdaLR functions).
void save(const optim::LRScheduler& scheduler, const std::filesystem::path& path);
// Restores t and the rates into a scheduler of the same kind and schedule
// parameters, made for an optimizer with as many groups.
void load(optim::LRScheduler& scheduler, const std::filesystem::path& path);

// Writes t, the best metric, the bad-epoch and cooldown counters, the last
// rates and the settings.
void save(const optim::ReduceLROnPlateauScheduler& scheduler, const std::filesystem::path& path);
// Restores them into a scheduler with the same settings (mode, factor,
// patience, threshold, threshold_mode, cooldown, min_lrs, eps), made for an
// optimizer with as many groups.
void load(optim::ReduceLROnPlateauScheduler& scheduler, const std::filesystem::path& path);

}  // namespace sigma
