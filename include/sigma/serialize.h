// sigma/serialize.h: checkpoints, as LibTorch's torch::save / torch::load, in
// the safetensors format that PyTorch users read with
// safetensors.torch.load_file (and write with save_file for sigma to load).
//
//   sigma::save(model, "model.safetensors");     // the model's state_dict()
//   sigma::load(model, "model.safetensors");     // load_state_dict(..., strict)
//   auto tensors = sigma::load_tensors("model.safetensors");
//
// Files hold F32, F64, BF16, F16, I64 and BOOL tensors under their
// state_dict keys (PyTorch's names) plus optional string metadata. Writes are
// atomic (temporary file, fsync, rename): a crash leaves the old file; the
// directory must exist, and a symbolic link is written through. Loads
// check everything in the file before trusting it and throw a sigma::Error
// naming the file and the problem. Optimizers and LR schedulers are saved and
// loaded the same way (sigma/optim/serialize.h).
#pragma once

#include <concepts>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "sigma/nn/module.h"
#include "sigma/nn/ordered_dict.h"
#include "sigma/nn/pimpl.h"
#include "sigma/tensor.h"

namespace sigma {

using Metadata = std::map<std::string, std::string>;

// Writes the tensors (any dtype above, any strides: they are saved
// contiguous) in the dict's order, with metadata as "__metadata__".
void save(const OrderedDict<std::string, Tensor>& tensors, const std::filesystem::path& path,
          const Metadata& metadata = {});
// Writes module.state_dict().
void save(const nn::Module& module, const std::filesystem::path& path,
          const Metadata& metadata = {});
template <class M>
void save(const nn::ModuleHolder<M>& module, const std::filesystem::path& path,
          const Metadata& metadata = {}) {
  save(static_cast<const nn::Module&>(*module.ptr()), path, metadata);
}
template <std::derived_from<nn::Module> M>
void save(const std::shared_ptr<M>& module, const std::filesystem::path& path,
          const Metadata& metadata = {}) {
  if (!module) throw Error("save: the module is null");
  save(static_cast<const nn::Module&>(*module), path, metadata);
}

// Reads a file into the module in place: load_state_dict(tensors, strict),
// so every key must match and every shape agree; tensors are converted to
// the module's dtypes. On any error the module is left unchanged.
void load(nn::Module& module, const std::filesystem::path& path);
template <class M>
void load(const nn::ModuleHolder<M>& module, const std::filesystem::path& path) {
  load(static_cast<nn::Module&>(*module.ptr()), path);
}
template <std::derived_from<nn::Module> M>
void load(const std::shared_ptr<M>& module, const std::filesystem::path& path) {
  if (!module) throw Error("load: the module is null");
  load(static_cast<nn::Module&>(*module), path);
}

// Every tensor of a file, in the order of its header, with the dtypes and
// shapes written there.
OrderedDict<std::string, Tensor> load_tensors(const std::filesystem::path& path);
// The file's "__metadata__" (empty if it has none).
Metadata load_metadata(const std::filesystem::path& path);

}  // namespace sigma
