// samplers.cpp: SequentialSampler and RandomSampler (sigma/data/samplers.h).
#include "sigma/data/samplers.h"

#include <algorithm>
#include <string>

#include "sigma/error.h"
#include "sigma/ops.h"

namespace sigma::data::samplers {
namespace {

// Up to n of indices from index on, advancing index; nullopt at the end.
template <class Get>
optional<std::vector<std::size_t>> take(std::size_t& index, std::size_t size, std::size_t n,
                                        Get get) {
  if (n == 0) throw Error("Sampler::next: batch_size must be positive, got 0");
  if (index >= size) return nullopt;
  const std::size_t end = index + std::min(n, size - index);
  std::vector<std::size_t> out;
  out.reserve(end - index);
  for (; index < end; ++index) out.push_back(get(index));
  return out;
}

}  // namespace

void SequentialSampler::reset(optional<std::size_t> new_size) {
  if (new_size) size_ = *new_size;
  index_ = 0;
}

optional<std::vector<std::size_t>> SequentialSampler::next(std::size_t batch_size) {
  return take(index_, size_, batch_size, [](std::size_t i) { return i; });
}

RandomSampler::RandomSampler(std::int64_t size, ScalarType index_dtype) {
  if (size < 0) throw Error("RandomSampler: size must be non-negative, got " + std::to_string(size));
  if (index_dtype != kInt64 && is_floating_point(index_dtype))
    throw Error(std::string("RandomSampler: index_dtype must be an integer dtype, got ") +
                to_string(index_dtype));
  reset(static_cast<std::size_t>(size));
}

void RandomSampler::reset(optional<std::size_t> new_size) {
  const std::size_t n = new_size ? *new_size : indices_.size();
  const std::vector<std::int64_t> perm = sigma::randperm(static_cast<std::int64_t>(n)).to_vector<std::int64_t>();
  indices_.assign(perm.begin(), perm.end());
  index_ = 0;
}

optional<std::vector<std::size_t>> RandomSampler::next(std::size_t batch_size) {
  return take(index_, indices_.size(), batch_size, [this](std::size_t i) { return indices_[i]; });
}

}  // namespace sigma::data::samplers
