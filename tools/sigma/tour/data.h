// Data for the tour's training sections: the vendored data sets, a user's own
// CSV (`sigma train --csv`, `sigma predict --csv`), stratified splits, k-fold
// partitions and standardisation. Loading errors name the file, line and
// column, and quote at most a short, escaped excerpt of the offending cell.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sigma/tensor.h"

namespace sigma::tour::data {

// A numeric table: features [rows, columns] (f32) and a target per row.
struct Dataset {
  std::vector<std::string> feature_names;
  std::string target_name;
  sigma::Tensor x;  // [n, d] float32
  sigma::Tensor y;  // [n] float32 (0/1 for binary; class index for digits)
};

// A vendored data set's path. Looked up in $SIGMA_DATA_DIR alone when it is
// set (an explicit choice is never second-guessed); otherwise in
// <dir of the executable>/../share/sigma/data (an installed or relocated
// prefix), then, for a binary inside the build tree, the source tree's data/.
// Throws naming every place tried when the file is in none of them.
std::filesystem::path find_data_file(const std::string& name);

// data/breast_cancer.csv (scikit-learn's layout: a first line
// "rows,features,class0,class1", then rows of 30 features and the target).
Dataset breast_cancer();
// data/digits.csv.gz: 1797 rows of 64 pixels (0..16) and the digit.
Dataset digits();

// Called while a file is read: bytes consumed of `total` (0 when unknown) and
// data rows so far. At most a few hundred calls per file.
using ReadProgress = std::function<void(std::uint64_t done, std::uint64_t total, std::int64_t rows)>;

// A CSV (RFC 4180: a header row of distinct column names, comma-separated
// cells, optionally "quoted" with "" for a quote, LF or CRLF line ends,
// blank lines skipped) of numeric cells; `target` names the target column
// (0/1 for the binary classifier). Streams the file: memory is the tensors
// plus one record. Throws std::runtime_error "FILE:LINE: column N (NAME): ..."
// for ragged rows, non-numeric, empty or out-of-float-range cells, unbalanced
// quotes, an empty file or a directory, a repeated or empty column name, a
// missing target column, or (when `binary_target`) a target that is not 0/1
// or has a single value.
Dataset read_csv(const std::filesystem::path& path, const std::string& target,
                 bool binary_target = true, const ReadProgress& progress = {});

// The columns `features` of a CSV, in that order, as [n, features.size()]
// float32 (what `sigma predict` feeds a saved model). The file may also hold
// `ignored` (the model's target column); any other column, or a missing
// one, is an error naming it and the expected columns.
sigma::Tensor read_csv_features(const std::filesystem::path& path,
                                const std::vector<std::string>& features,
                                const std::string& ignored = {}, const ReadProgress& progress = {});

// `cell` quoted for an error message: at most 40 characters, control and
// non-ASCII bytes as \xNN, and the full length when cut.
std::string excerpt(std::string_view cell);

// Row indices split into train and test with each class (value of y) kept in
// the same proportion in both; shuffled with `seed`.
struct Split {
  std::vector<std::int64_t> train, test;
};
Split stratified_split(const sigma::Tensor& y, double test_fraction, std::uint64_t seed);

// Stratified k-fold partition: fold f's test rows hold about 1/k of each
// class; shuffled with `seed`. Each fold's train rows are all other rows.
std::vector<Split> stratified_kfold(const sigma::Tensor& y, int k, std::uint64_t seed);

// Rows of `t` [n, ...] at `rows`.
sigma::Tensor take_rows(const sigma::Tensor& t, const std::vector<std::int64_t>& rows);

// Reorders the rows of x [n, ...] and y [n] in place so that the rows of
// `first` come first (in that order) and all others after them (in their
// original order): a split without a copy of the data. Returns the number of
// rows of `first`.
std::int64_t move_rows_first(sigma::Tensor& x, sigma::Tensor& y,
                             const std::vector<std::int64_t>& first);

// Standardisation fitted on training rows: (x - mean) / std per column, with
// std = 1 for a constant column.
struct Standardizer {
  sigma::Tensor mean, std;  // [d]
  static Standardizer fit(const sigma::Tensor& x);
  sigma::Tensor apply(const sigma::Tensor& x) const;
  // apply() into x's own memory (x float32 [n, d], contiguous).
  void apply_(sigma::Tensor& x) const;
};

}  // namespace sigma::tour::data
