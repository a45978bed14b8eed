// embedding.cpp: Embedding and F::embedding, thin layers over
// sigma::embedding and sigma::embedding_renorm_ (src/ops/embedding.cpp).
#include <ostream>
#include <string>

#include "core/python_repr.h"
#include "sigma/autograd.h"
#include "sigma/nn/functional.h"
#include "sigma/nn/init.h"
#include "sigma/nn/modules/embedding.h"
#include "sigma/ops.h"
#include "tensor/tensor_impl.h"

namespace sigma::nn {

namespace {
// padding_idx in [-rows, rows), made non-negative; -1 (none) when absent.
std::int64_t padding_row(const char* op, const std::optional<std::int64_t>& padding_idx,
                         std::int64_t rows) {
  if (!padding_idx) return -1;
  const std::int64_t p = *padding_idx;
  if (p < -rows || p >= rows)
    throw Error(std::string(op) + ": padding_idx must be within [-num_embeddings, num_embeddings) = [" +
                std::to_string(-rows) + ", " + std::to_string(rows) + "), got " +
                std::to_string(p));
  return p < 0 ? p + rows : p;
}
}  // namespace

namespace functional {
Tensor embedding(const Tensor& input, const Tensor& weight, const EmbeddingFuncOptions& options) {
  check_defined("embedding", weight, "weight");
  if (weight.dim() != 2)
    throw Error("embedding: weight must be 2-D [num_embeddings, embedding_dim], got shape " +
                shape_string(weight.sizes()));
  const std::int64_t pad = padding_row("embedding", options.padding_idx(), weight.size(0));
  if (options.max_norm()) {
    NoGradGuard no_grad;
    Tensor w = weight;
    sigma::embedding_renorm_(w, input, *options.max_norm(), options.norm_type());
  }
  return sigma::embedding(weight, input, pad, options.scale_grad_by_freq(), options.sparse());
}
}  // namespace functional

EmbeddingImpl::EmbeddingImpl(EmbeddingOptions options_) : options(std::move(options_)) {
  const std::int64_t rows = options.num_embeddings(), dim = options.embedding_dim();
  if (rows < 0 || dim < 0)
    throw Error("Embedding: num_embeddings and embedding_dim must be non-negative, got " +
                std::to_string(rows) + " and " + std::to_string(dim));
  if (options.sparse())
    throw Error("Embedding: sparse=true is not supported (sigma has no sparse tensors)");
  if (options.padding_idx()) options.padding_idx(padding_row("Embedding", options.padding_idx(), rows));
  if (options._weight().defined()) {
    if (!(options._weight().sizes() == IntArrayRef(std::vector<std::int64_t>{rows, dim})))
      throw Error("Embedding: _weight of shape " + shape_string(options._weight().sizes()) +
                  " does not match [num_embeddings, embedding_dim] = [" + std::to_string(rows) +
                  ", " + std::to_string(dim) + "]");
    weight = register_parameter("weight", options._weight());
  } else {
    weight = register_parameter("weight", sigma::empty({rows, dim}));
    reset_parameters();
  }
}

void EmbeddingImpl::reset_parameters() {
  init::normal_(weight);
  if (options.padding_idx()) {
    NoGradGuard no_grad;
    weight.select(0, *options.padding_idx()).fill_(0);
  }
}

Tensor EmbeddingImpl::forward(const Tensor& indices) {
  return functional::embedding(indices, weight,
                               functional::EmbeddingFuncOptions()
                                   .padding_idx(options.padding_idx())
                                   .max_norm(options.max_norm())
                                   .norm_type(options.norm_type())
                                   .scale_grad_by_freq(options.scale_grad_by_freq())
                                   .sparse(options.sparse()));
}

// PyTorch's extra_repr: only the options that differ from their defaults.
void EmbeddingImpl::pretty_print(std::ostream& stream) const {
  using sigma::detail::python_float;
  stream << "Embedding(" << options.num_embeddings() << ", " << options.embedding_dim();
  if (options.padding_idx()) stream << ", padding_idx=" << *options.padding_idx();
  if (options.max_norm()) stream << ", max_norm=" << python_float(*options.max_norm());
  if (options.norm_type() != 2) stream << ", norm_type=" << python_float(options.norm_type());
  if (options.scale_grad_by_freq()) stream << ", scale_grad_by_freq=True";
  if (options.sparse()) stream << ", sparse=True";
  stream << ")";
}

Embedding Embedding::from_pretrained(const Tensor& embeddings,
                                     const EmbeddingFromPretrainedOptions& options) {
  check_defined("Embedding::from_pretrained", embeddings, "embeddings");
  if (embeddings.dim() != 2)
    throw Error("Embedding::from_pretrained: embeddings must be 2-D, got shape " +
                shape_string(embeddings.sizes()));
  Embedding embedding(EmbeddingOptions(embeddings.size(0), embeddings.size(1))
                          ._weight(embeddings)
                          .padding_idx(options.padding_idx())
                          .max_norm(options.max_norm())
                          .norm_type(options.norm_type())
                          .scale_grad_by_freq(options.scale_grad_by_freq())
                          .sparse(options.sparse()));
  embedding->weight.set_requires_grad(!options.freeze());
  return embedding;
}

}  // namespace sigma::nn
