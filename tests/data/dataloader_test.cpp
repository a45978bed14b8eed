// sigma::data: datasets, transforms, samplers and the data loader, used as
// LibTorch code uses them. Every expected batch is built here from the
// dataset's definition (example i is row i), not taken from the loader.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <vector>

#include "sigma/data.h"
#include "sigma/ops.h"

namespace {

namespace data = sigma::data;

// Example i: data row i of a [n, 3] tensor, target i * 10.
struct Rows : data::datasets::Dataset<Rows> {
  explicit Rows(std::int64_t n)
      : x(sigma::arange(n * 3, sigma::kFloat32).reshape({n, 3})),
        y(sigma::arange(n, sigma::kInt64).mul(10)) {}
  data::Example<> get(size_t i) override {
    const auto j = static_cast<std::int64_t>(i);
    return {x[j], y[j]};
  }
  sigma::optional<size_t> size() const override { return static_cast<size_t>(x.size(0)); }
  sigma::Tensor x, y;
};

// The indices of a batch made from Rows: its targets / 10.
std::vector<std::int64_t> indices_of(const data::Example<>& batch) {
  std::vector<std::int64_t> out;
  for (std::int64_t t : batch.target.to_vector<std::int64_t>()) out.push_back(t / 10);
  return out;
}

void expect_rows(const data::Example<>& batch, const std::vector<std::int64_t>& idx) {
  ASSERT_EQ(batch.data.sizes(), (std::vector<std::int64_t>{static_cast<std::int64_t>(idx.size()), 3}));
  const auto d = batch.data.to_vector<float>();
  for (std::size_t r = 0; r < idx.size(); ++r)
    for (std::int64_t c = 0; c < 3; ++c)
      EXPECT_EQ(d[r * 3 + static_cast<std::size_t>(c)], static_cast<float>(idx[r] * 3 + c));
}

TEST(DataLoader, SequentialBatchesInOrderWithAShortLastBatch) {
  auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
      Rows(10).map(data::transforms::Stack<>()), data::DataLoaderOptions().batch_size(4));
  std::vector<std::vector<std::int64_t>> seen;
  for (auto& batch : *loader) {
    seen.push_back(indices_of(batch));
    expect_rows(batch, seen.back());
  }
  const std::vector<std::vector<std::int64_t>> want{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}};
  EXPECT_EQ(seen, want);
}

TEST(DataLoader, DropLastSkipsTheShortBatchAndEveryEpochRestarts) {
  auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
      Rows(10).map(data::transforms::Stack<>()), data::DataLoaderOptions(4).drop_last(true));
  for (int epoch = 0; epoch < 2; ++epoch) {
    int batches = 0;
    for (auto& batch : *loader) {
      EXPECT_EQ(batch.data.size(0), 4);
      ++batches;
    }
    EXPECT_EQ(batches, 2);
  }
  // A dataset that fills its batches exactly loses nothing to drop_last.
  auto exact = data::make_data_loader<data::samplers::SequentialSampler>(
      Rows(8).map(data::transforms::Stack<>()), data::DataLoaderOptions(4).drop_last(true));
  int n = 0;
  for (auto it = exact->begin(); it != exact->end(); ++it) n += static_cast<int>(it->data.size(0));
  EXPECT_EQ(n, 8);
}

TEST(DataLoader, RandomSamplerVisitsEveryExampleOncePerEpochAndFollowsTheSeed) {
  auto epoch_order = [](data::StatelessDataLoader<
                         data::datasets::MapDataset<Rows, data::transforms::Stack<>>,
                         data::samplers::RandomSampler>& loader) {
    std::vector<std::int64_t> order;
    for (auto& batch : loader) {
      const auto idx = indices_of(batch);
      expect_rows(batch, idx);
      order.insert(order.end(), idx.begin(), idx.end());
    }
    return order;
  };
  sigma::manual_seed(7);
  auto loader = data::make_data_loader(Rows(50).map(data::transforms::Stack<>()),
                                       data::DataLoaderOptions().batch_size(8));
  const auto first = epoch_order(*loader);
  const auto second = epoch_order(*loader);
  for (const auto& order : {first, second}) {
    ASSERT_EQ(order.size(), 50u);
    std::vector<std::int64_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::int64_t> all(50);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(sorted, all);
  }
  EXPECT_NE(first, second);  // a new permutation each epoch (50! orders)
  std::vector<std::int64_t> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_NE(first, identity);

  sigma::manual_seed(7);
  auto again = data::make_data_loader(Rows(50).map(data::transforms::Stack<>()),
                                      data::DataLoaderOptions().batch_size(8));
  EXPECT_EQ(epoch_order(*again), first);
}

TEST(DataLoader, TensorDatasetYieldsSlicesWithoutTargets) {
  const sigma::Tensor t = sigma::arange(12, sigma::kFloat64).reshape({6, 2});
  data::datasets::TensorDataset ds(t);
  ASSERT_EQ(ds.size().value(), 6u);
  const sigma::Tensor row = ds.get(4);  // TensorExample converts to its tensor
  EXPECT_EQ(row.to_vector<double>(), (std::vector<double>{8, 9}));
  auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
      std::move(ds).map(data::transforms::Stack<data::TensorExample>()), 4);
  std::vector<std::int64_t> sizes;
  for (auto& batch : *loader) {
    sizes.push_back(batch.data.size(0));
    EXPECT_EQ(batch.data.size(1), 2);
  }
  EXPECT_EQ(sizes, (std::vector<std::int64_t>{4, 2}));
  EXPECT_THROW(data::datasets::TensorDataset(t).get(6), sigma::Error);
}

TEST(DataLoader, TransformsChainBeforeTheCollation) {
  // Normalize per channel of a [C, H, W] example, then a lambda, then Stack.
  struct Images : data::datasets::Dataset<Images> {
    data::Example<> get(size_t i) override {
      return {sigma::full({2, 2, 2}, static_cast<double>(i)), sigma::scalar_tensor(0)};
    }
    sigma::optional<size_t> size() const override { return 3; }
  };
  auto ds = Images()
                .map(data::transforms::Normalize<>({1.0, 2.0}, {2.0, 4.0}))
                .map(data::transforms::TensorLambda<>([](sigma::Tensor x) { return x.mul(10); }))
                .map(data::transforms::Stack<>());
  const auto batch = ds.get_batch(std::vector<size_t>{2});
  const auto v = batch.data.to_vector<float>();
  ASSERT_EQ(v.size(), 8u);
  for (int k = 0; k < 4; ++k) EXPECT_FLOAT_EQ(v[static_cast<std::size_t>(k)], (2.0f - 1.0f) / 2.0f * 10.0f);
  for (int k = 4; k < 8; ++k) EXPECT_FLOAT_EQ(v[static_cast<std::size_t>(k)], (2.0f - 2.0f) / 4.0f * 10.0f);
}

TEST(DataLoader, BadOptionsAndRaggedExamplesAreErrors) {
  EXPECT_THROW(data::make_data_loader(Rows(4).map(data::transforms::Stack<>()),
                                      data::DataLoaderOptions().batch_size(0)),
               sigma::Error);
  EXPECT_THROW(data::samplers::RandomSampler(-1), sigma::Error);
  struct Ragged : data::datasets::Dataset<Ragged> {
    data::Example<> get(size_t i) override {
      return {sigma::zeros({static_cast<std::int64_t>(i) + 1}), sigma::scalar_tensor(0)};
    }
    sigma::optional<size_t> size() const override { return 2; }
  };
  auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
      Ragged().map(data::transforms::Stack<>()), 2);
  try {
    for (auto& batch : *loader) (void)batch;
    FAIL() << "stacking [1] and [2] succeeded";
  } catch (const sigma::Error& e) {
    EXPECT_NE(std::string(e.what()).find("stack"), std::string::npos) << e.what();
  }
}

}  // namespace
