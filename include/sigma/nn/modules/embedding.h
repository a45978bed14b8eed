// sigma/nn/modules/embedding.h: Embedding, as torch::nn::Embedding.
#pragma once

#include <cstdint>
#include <ostream>

#include "sigma/nn/module.h"
#include "sigma/nn/options.h"

namespace sigma::nn {

// A lookup table: int64 indices of any shape -> indices.shape +
// [embedding_dim], row i of weight [num_embeddings, embedding_dim] for index
// i. weight starts N(0, 1) from sigma's generator (sigma::manual_seed), with
// the padding_idx row zeroed; that row gets no gradient.
//   sigma::nn::Embedding emb(sigma::nn::EmbeddingOptions(1000, 64).padding_idx(0));
//   auto y = emb(tokens);   // tokens [B, T] int64 -> y [B, T, 64]
// sigma::Error at construction for negative sizes, a padding_idx outside
// [-num_embeddings, num_embeddings), sparse(true) or a _weight of another
// shape; at forward for an index out of range.
class EmbeddingImpl : public Module {
 public:
  EmbeddingImpl(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : EmbeddingImpl(EmbeddingOptions(num_embeddings, embedding_dim)) {}
  explicit EmbeddingImpl(EmbeddingOptions options);

  Tensor forward(const Tensor& indices);
  // Draws weight again from N(0, 1) and zeroes the padding row.
  void reset_parameters();
  // PyTorch's repr: "Embedding(10, 3, padding_idx=0)".
  void pretty_print(std::ostream& stream) const override;

  // padding_idx, when given, is stored non-negative (as PyTorch).
  EmbeddingOptions options;
  Tensor weight;
};

class Embedding : public ModuleHolder<EmbeddingImpl> {
 public:
  using ModuleHolder<EmbeddingImpl>::ModuleHolder;
  using Impl = EmbeddingImpl;
  // A table that is embeddings (2-D; the tensor itself, shared, as
  // PyTorch), trained unless options.freeze() (the default).
  static Embedding from_pretrained(const Tensor& embeddings,
                                   const EmbeddingFromPretrainedOptions& options = {});
};

}  // namespace sigma::nn
