// sigma/data/datasets.h: map-style datasets, as torch::data::datasets.
//
// A dataset is a class deriving from Dataset<Self, ExampleType> that says how
// many examples it has and returns one by index:
//
//   struct Digits : sigma::data::datasets::Dataset<Digits> {
//     sigma::data::Example<> get(size_t i) override { return {images[i], labels[i]}; }
//     sigma::optional<size_t> size() const override { return images.size(0); }
//     sigma::Tensor images, labels;
//   };
//
// dataset.map(transform) wraps it in a MapDataset that applies a batch
// transform (transforms::Stack<> makes one tensor of a batch's examples).
// BatchDataset is the general form: one call returns a whole batch for a
// list of indices (the batch request).
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "sigma/data/example.h"
#include "sigma/error.h"
#include "sigma/ops.h"

namespace sigma::data::datasets {

template <class Source, class Transform> class MapDataset;

template <class Self, class Batch = std::vector<Example<>>,
          class BatchRequest = ArrayRef<std::size_t>>
class BatchDataset {
 public:
  using SelfType = Self;
  using BatchType = Batch;
  using BatchRequestType = BatchRequest;
  // sigma has no stream (stateful) datasets: every dataset is indexed.
  static constexpr bool is_stateful = false;

  virtual ~BatchDataset() = default;
  virtual Batch get_batch(BatchRequest request) = 0;
  // The number of examples (LibTorch allows unsized datasets; the samplers
  // need a size, and so does sigma).
  virtual optional<std::size_t> size() const = 0;

  template <class Transform> MapDataset<Self, Transform> map(Transform transform) & {
    return MapDataset<Self, Transform>(static_cast<Self&>(*this), std::move(transform));
  }
  template <class Transform> MapDataset<Self, Transform> map(Transform transform) && {
    return MapDataset<Self, Transform>(std::move(static_cast<Self&>(*this)),
                                       std::move(transform));
  }
};

// A dataset of single examples: get(i) is the one method to write; a batch
// is the examples at the requested indices, in order.
template <class Self, class SingleExample = Example<>>
class Dataset : public BatchDataset<Self, std::vector<SingleExample>> {
 public:
  using ExampleType = SingleExample;
  virtual ExampleType get(std::size_t index) = 0;
  std::vector<ExampleType> get_batch(ArrayRef<std::size_t> indices) override {
    std::vector<ExampleType> batch;
    batch.reserve(indices.size());
    for (const std::size_t i : indices) batch.push_back(get(i));
    return batch;
  }
};

// A dataset whose batches are another dataset's, passed through a batch
// transform (transforms.h).
template <class Source, class Transform>
class MapDataset
    : public BatchDataset<MapDataset<Source, Transform>, typename Transform::OutputBatchType,
                          typename Source::BatchRequestType> {
  static_assert(std::is_same_v<typename Source::BatchType, typename Transform::InputBatchType>,
                "the dataset's batch type is not the transform's input batch type");

 public:
  using DatasetType = Source;
  using TransformType = Transform;
  using BatchRequestType = typename Source::BatchRequestType;
  using OutputBatchType = typename Transform::OutputBatchType;

  MapDataset(Source dataset, Transform transform)
      : dataset_(std::move(dataset)), transform_(std::move(transform)) {}
  OutputBatchType get_batch(BatchRequestType indices) override {
    return transform_.apply_batch(dataset_.get_batch(std::move(indices)));
  }
  optional<std::size_t> size() const override { return dataset_.size(); }
  const Source& dataset() const noexcept { return dataset_; }
  const Transform& transform() const noexcept { return transform_; }

 private:
  Source dataset_;
  Transform transform_;
};

template <class Source, class Transform>
MapDataset<Source, Transform> map(Source dataset, Transform transform) {
  return MapDataset<Source, Transform>(std::move(dataset), std::move(transform));
}

// The slices of one tensor along dim 0, as examples without targets (as
// LibTorch's TensorDataset; a list of tensors is stacked first).
struct TensorDataset : public Dataset<TensorDataset, TensorExample> {
  explicit TensorDataset(const std::vector<Tensor>& tensors) : TensorDataset(sigma::stack(tensors)) {}
  explicit TensorDataset(Tensor t) : tensor(std::move(t)) {
    if (!tensor.defined() || tensor.dim() == 0)
      throw Error("TensorDataset: expected a tensor with at least one dimension");
  }
  TensorExample get(std::size_t index) override {
    const auto n = static_cast<std::size_t>(tensor.size(0));
    if (index >= n)
      throw Error("TensorDataset::get: index " + std::to_string(index) +
                  " is out of range for a dataset of " + std::to_string(n) + " examples");
    return TensorExample(tensor[static_cast<std::int64_t>(index)]);
  }
  optional<std::size_t> size() const override { return static_cast<std::size_t>(tensor.size(0)); }
  Tensor tensor;
};

}  // namespace sigma::data::datasets
