// sigma/data/dataloader.h: batches of a dataset in a sampler's order, as
// LibTorch's make_data_loader:
//
//   auto loader = sigma::data::make_data_loader<sigma::data::samplers::RandomSampler>(
//       std::move(dataset), sigma::data::DataLoaderOptions().batch_size(64).drop_last(true));
//   for (auto& batch : *loader) { ... batch.data, batch.target ... }
//
// Each begin() starts an epoch: the sampler is reset (RandomSampler draws a
// new permutation) and batches are made on the calling thread as the loop
// asks for them. The last batch of an epoch may be short, unless drop_last.
// The options workers, max_jobs, timeout and enforce_ordering are accepted
// as LibTorch spells them; sigma makes batches on the calling thread, so
// they change nothing (the ops inside a batch use sigma's thread pool).
#pragma once

#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "sigma/data/datasets.h"
#include "sigma/data/samplers.h"
#include "sigma/error.h"
#include "sigma/nn/options.h"

namespace sigma::data {

struct DataLoaderOptions {
  DataLoaderOptions() = default;
  DataLoaderOptions(std::size_t batch_size) : batch_size_(batch_size) {}  // NOLINT: as LibTorch
  SIGMA_ARG(std::size_t, batch_size) = 1;   // examples per batch, > 0
  SIGMA_ARG(std::size_t, workers) = 0;      // accepted; batches are made on the caller's thread
  SIGMA_ARG(optional<std::size_t>, max_jobs);
  SIGMA_ARG(optional<std::chrono::milliseconds>, timeout);
  SIGMA_ARG(bool, enforce_ordering) = true;
  SIGMA_ARG(bool, drop_last) = false;       // skip an epoch's last, short batch
};

template <class Dataset, class Sampler>
class StatelessDataLoader {
 public:
  using BatchType = typename Dataset::BatchType;
  using BatchRequestType = typename Sampler::BatchRequestType;

  // An input iterator over one epoch's batches; *it is the current batch.
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = BatchType;
    using difference_type = std::ptrdiff_t;
    using pointer = BatchType*;
    using reference = BatchType&;

    Iterator() = default;
    BatchType& operator*() { return *batch_; }
    BatchType* operator->() { return &*batch_; }
    Iterator& operator++() {
      batch_ = loader_->next_batch();
      return *this;
    }
    void operator++(int) { ++*this; }
    // Iterators compare equal when both are past the epoch's last batch.
    friend bool operator==(const Iterator& a, const Iterator& b) noexcept {
      return !a.batch_ && !b.batch_;
    }

   private:
    friend class StatelessDataLoader;
    explicit Iterator(StatelessDataLoader* loader) : loader_(loader), batch_(loader->next_batch()) {}
    StatelessDataLoader* loader_ = nullptr;
    optional<BatchType> batch_;
  };

  // sigma::Error unless batch_size > 0.
  StatelessDataLoader(Dataset dataset, Sampler sampler, DataLoaderOptions options)
      : dataset_(std::move(dataset)), sampler_(std::move(sampler)), options_(std::move(options)) {
    if (options_.batch_size() == 0)
      throw Error("DataLoader: batch_size must be positive, got 0");
  }

  // Starts an epoch (resets the sampler) and returns its first batch.
  Iterator begin() {
    sampler_.reset(nullopt);
    return Iterator(this);
  }
  Iterator end() { return Iterator(); }

  const DataLoaderOptions& options() const noexcept { return options_; }
  const Dataset& dataset() const noexcept { return dataset_; }

 private:
  optional<BatchType> next_batch() {
    auto indices = sampler_.next(options_.batch_size());
    if (!indices || indices->empty() ||
        (indices->size() < options_.batch_size() && options_.drop_last()))
      return nullopt;
    return dataset_.get_batch(*indices);
  }

  Dataset dataset_;
  Sampler sampler_;
  DataLoaderOptions options_;
};

template <class Dataset, class Sampler>
std::unique_ptr<StatelessDataLoader<Dataset, Sampler>> make_data_loader(
    Dataset dataset, Sampler sampler, DataLoaderOptions options) {
  return std::make_unique<StatelessDataLoader<Dataset, Sampler>>(
      std::move(dataset), std::move(sampler), std::move(options));
}

// The sampler made from the dataset's size (RandomSampler unless named).
template <class Sampler = samplers::RandomSampler, class Dataset,
          std::enable_if_t<std::is_constructible_v<Sampler, std::size_t>, int> = 0>
std::unique_ptr<StatelessDataLoader<Dataset, Sampler>> make_data_loader(
    Dataset dataset, DataLoaderOptions options = DataLoaderOptions()) {
  const optional<std::size_t> size = dataset.size();
  if (!size) throw Error("make_data_loader: the dataset has no size to make the sampler from");
  Sampler sampler(*size);
  return make_data_loader(std::move(dataset), std::move(sampler), std::move(options));
}

}  // namespace sigma::data
