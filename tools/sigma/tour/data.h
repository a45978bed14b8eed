// Data for the tour's training sections: the vendored data sets, a user's own
// CSV (`sigma train --csv`), stratified splits and standardisation. Loading
// errors name the file, line and column.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
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

// The directory holding the vendored data sets: $SIGMA_DATA_DIR if set, else
// the source tree's data/, else the installed share/sigma/data. Throws naming
// every place tried when the file is in none of them.
std::filesystem::path find_data_file(const std::string& name);

// data/breast_cancer.csv (scikit-learn's layout: a first line
// "rows,features,class0,class1", then rows of 30 features and the target).
Dataset breast_cancer();
// data/digits.csv.gz: 1797 rows of 64 pixels (0..16) and the digit.
Dataset digits();

// A CSV with a header row of column names and numeric cells; `target` names
// the target column (values 0/1 for the binary classifier). Throws
// std::runtime_error "FILE:LINE: column N (NAME): ..." for ragged rows,
// non-numeric, empty or out-of-float-range cells, an empty file, a missing
// target column, or a target that is not 0/1 when `binary_target`.
Dataset read_csv(const std::filesystem::path& path, const std::string& target,
                 bool binary_target = true);

// Row indices split into train and test with each class (value of y) kept in
// the same proportion in both; shuffled with `seed`.
struct Split {
  std::vector<std::int64_t> train, test;
};
Split stratified_split(const sigma::Tensor& y, double test_fraction, std::uint64_t seed);

// Rows of `t` [n, ...] at `rows`.
sigma::Tensor take_rows(const sigma::Tensor& t, const std::vector<std::int64_t>& rows);

// Standardisation fitted on training rows: (x - mean) / std per column, with
// std = 1 for a constant column.
struct Standardizer {
  sigma::Tensor mean, std;  // [d]
  static Standardizer fit(const sigma::Tensor& x);
  sigma::Tensor apply(const sigma::Tensor& x) const;
};

}  // namespace sigma::tour::data
