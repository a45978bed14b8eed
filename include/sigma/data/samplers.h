// sigma/data/samplers.h: the order in which a data loader visits a dataset's
// indices, as torch::data::samplers. reset() starts an epoch (the loader
// calls it at each begin()); next(n) returns up to n indices, or nullopt
// when the epoch is over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sigma/data/example.h"
#include "sigma/scalar_type.h"

namespace sigma::data::samplers {

template <class BatchRequest = std::vector<std::size_t>>
class Sampler {
 public:
  using BatchRequestType = BatchRequest;
  virtual ~Sampler() = default;
  virtual void reset(optional<std::size_t> new_size) = 0;
  virtual optional<BatchRequest> next(std::size_t batch_size) = 0;
};

// 0, 1, ..., size - 1 in order.
class SequentialSampler : public Sampler<> {
 public:
  explicit SequentialSampler(std::size_t size) : size_(size) {}
  void reset(optional<std::size_t> new_size = nullopt) override;
  optional<std::vector<std::size_t>> next(std::size_t batch_size) override;
  std::size_t index() const noexcept { return index_; }

 private:
  std::size_t size_;
  std::size_t index_ = 0;
};

// A permutation of 0, ..., size - 1, drawn again at every reset() from
// sigma's global generator (sigma::randperm), so sigma::manual_seed makes the
// order reproducible. index_dtype is accepted for LibTorch's signature (the
// indices are size_t either way).
class RandomSampler : public Sampler<> {
 public:
  explicit RandomSampler(std::int64_t size, ScalarType index_dtype = kInt64);
  void reset(optional<std::size_t> new_size = nullopt) override;
  optional<std::vector<std::size_t>> next(std::size_t batch_size) override;
  std::size_t index() const noexcept { return index_; }

 private:
  std::vector<std::size_t> indices_;
  std::size_t index_ = 0;
};

}  // namespace sigma::data::samplers
