// safetensors.h: the reader and writer behind sigma::save / sigma::load, with
// the caller's operation name in their messages, for checkpoints built in
// other layers (optimizers: src/optim/serialize.cpp) (internal).
#pragma once

#include <filesystem>
#include <string>

#include "sigma/serialize.h"

namespace sigma::io {

struct TensorFile {
  OrderedDict<std::string, Tensor> tensors;  // in the order of the header
  Metadata metadata;
};

// sigma::save's writer; errors start with "<op>: ".
void write_tensors(const char* op, const OrderedDict<std::string, Tensor>& tensors,
                   const std::filesystem::path& path, const Metadata& metadata);
// The tensors and metadata of one validated file, read once.
TensorFile read_tensors(const char* op, const std::filesystem::path& path);

}  // namespace sigma::io
