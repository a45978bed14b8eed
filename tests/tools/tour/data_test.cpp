// Tests of tools/sigma/tour/data.cpp: the CSV reader's error messages (file,
// line, column), the vendored data sets' shapes and classes, stratified splits
// and the standardizer.
#include "tour/data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <unistd.h>

#include "sigma/ops.h"

namespace data = sigma::tour::data;
using ::testing::HasSubstr;

namespace {

class CsvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sigma_data_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& text) {
    const auto path = dir_ / ("f" + std::to_string(count_++) + ".csv");
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // The message of the error read_csv throws for `text`, prefixed check.
  std::string error_of(const std::string& text, const std::string& target = "y") {
    const auto path = write(text);
    try {
      data::read_csv(path, target);
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(path.string() + ":", 0), 0u) << msg;
      return msg.substr(path.string().size());
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return {};
  }

  std::filesystem::path dir_;
  int count_ = 0;
};

TEST_F(CsvTest, ReadsAGoodFile) {
  const auto path = write("a, y ,\"c\"\r\n1.5,0,-2\r\n\r\n  +3 ,1,4e2\r\n");
  const data::Dataset ds = data::read_csv(path, "y");
  EXPECT_EQ(ds.feature_names, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(ds.target_name, "y");
  ASSERT_EQ(ds.x.sizes(), (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(ds.x.to_vector<float>(), (std::vector<float>{1.5f, -2.0f, 3.0f, 400.0f}));
  EXPECT_EQ(ds.y.to_vector<float>(), (std::vector<float>{0.0f, 1.0f}));
}

TEST_F(CsvTest, RoundTripsWrittenValues) {
  std::string text = "p,q,label\n";
  std::vector<float> want;
  for (int i = 0; i < 20; ++i) {
    const float p = 0.1f * static_cast<float>(i) - 1.0f, q = std::ldexp(1.0f, i - 10);
    want.push_back(p);
    want.push_back(q);
    char line[128];
    std::snprintf(line, sizeof line, "%.9g,%.9g,%d\n", p, q, i % 2);
    text += line;
  }
  const data::Dataset ds = data::read_csv(write(text), "label");
  EXPECT_EQ(ds.x.to_vector<float>(), want);
  EXPECT_EQ(ds.y.sum().item<double>(), 10.0);
}

TEST_F(CsvTest, NonBinaryTargetAllowedWhenAsked) {
  const data::Dataset ds = data::read_csv(write("x,k\n1,7\n2,3\n"), "k", false);
  EXPECT_EQ(ds.y.to_vector<float>(), (std::vector<float>{7.0f, 3.0f}));
}

TEST_F(CsvTest, RaggedRowNamesLineAndColumn) {
  EXPECT_THAT(error_of("a,b,y\n1,2,0\n1,2\n"), HasSubstr(":3: column 3 (y): missing"));
  EXPECT_THAT(error_of("a,b,y\n1,2,0,9\n"), HasSubstr(":2: column 4: extra cell"));
}

TEST_F(CsvTest, NonNumericCell) {
  const std::string msg = error_of("a,b,y\n1,2,0\n1,abc,1\n");
  EXPECT_THAT(msg, HasSubstr(":3: column 2 (b): 'abc' is not a number"));
  EXPECT_THAT(error_of("a,y\n1.5x,0\n"), HasSubstr(":2: column 1 (a): '1.5x' is not a number"));
  EXPECT_THAT(error_of("a,y\nnan,0\n"), HasSubstr(":2: column 1 (a): 'nan' is not a finite number"));
}

TEST_F(CsvTest, CellBeyondFloatRange) {
  EXPECT_THAT(error_of("a,b,y\n1,2,0\n1,1e39,1\n"),
              HasSubstr(":3: column 2 (b): '1e39' is out of float range"));
  EXPECT_THAT(error_of("a,y\n-4e38,0\n"), HasSubstr(":2: column 1 (a): '-4e38' is out of float range"));
  EXPECT_THAT(error_of("a,y\n1,1e300\n"), HasSubstr(":2: column 2 (y): '1e300' is out of float range"));
  const data::Dataset ds = data::read_csv(write("a,y\n3.4e38,1\n-1e-50,0\n"), "y");
  EXPECT_EQ(ds.x.to_vector<float>(), (std::vector<float>{3.4e38f, 0.0f}));
}

TEST_F(CsvTest, EmptyCell) {
  EXPECT_THAT(error_of("a,b,y\n1,,0\n"), HasSubstr(":2: column 2 (b): empty cell"));
}

TEST_F(CsvTest, EmptyFile) {
  EXPECT_THAT(error_of(""), HasSubstr(":1: empty file"));
  EXPECT_THAT(error_of("\n  \n"), HasSubstr(":1: empty file"));
}

TEST_F(CsvTest, HeaderOnly) {
  EXPECT_THAT(error_of("a,y\n"), HasSubstr(":2: no data rows"));
}

TEST_F(CsvTest, MissingTargetListsColumns) {
  EXPECT_THAT(error_of("a,b,c\n1,2,3\n", "label"),
              HasSubstr(":1: no target column 'label'; the columns are: a, b, c"));
}

TEST_F(CsvTest, TargetNotBinary) {
  EXPECT_THAT(error_of("a,y\n1,0\n2,2\n"), HasSubstr(":3: column 2 (y): the target must be 0 or 1, found '2'"));
  EXPECT_THAT(error_of("y,a\n0.5,1\n"), HasSubstr(":2: column 1 (y): the target must be 0 or 1"));
}

TEST_F(CsvTest, MissingFile) {
  EXPECT_THROW(data::read_csv(dir_ / "nope.csv", "y"), std::runtime_error);
}

TEST(VendoredData, BreastCancerShapeAndClasses) {
  const data::Dataset ds = data::breast_cancer();
  EXPECT_EQ(ds.x.sizes(), (std::vector<std::int64_t>{569, 30}));
  EXPECT_EQ(ds.feature_names.size(), 30u);
  EXPECT_EQ(ds.feature_names[0], "mean radius");
  EXPECT_EQ(ds.target_name, "benign");
  EXPECT_EQ(ds.y.sum().item<double>(), 357.0);  // benign = 1, malignant = 0: 212
  EXPECT_FLOAT_EQ(ds.x[0][0].item<float>(), 17.99f);
}

TEST(VendoredData, DigitsShapeAndClasses) {
  const data::Dataset ds = data::digits();
  EXPECT_EQ(ds.x.sizes(), (std::vector<std::int64_t>{1797, 64}));
  std::map<int, int> counts;
  for (float v : ds.y.to_vector<float>()) ++counts[static_cast<int>(v)];
  EXPECT_EQ(counts.size(), 10u);
  EXPECT_EQ(counts[0], 178);
  EXPECT_EQ(ds.x.max().item<float>(), 16.0f);
  EXPECT_EQ(ds.x.min().item<float>(), 0.0f);
}

TEST(VendoredData, DataDirFromEnvironment) {
  const auto dir = std::filesystem::temp_directory_path() / ("sigma_data_env_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "only_here.csv") << "x\n";
  ::setenv("SIGMA_DATA_DIR", dir.c_str(), 1);
  EXPECT_EQ(data::find_data_file("only_here.csv"), dir / "only_here.csv");
  try {
    data::find_data_file("missing.csv");
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr((dir / "missing.csv").string()));
  }
  ::unsetenv("SIGMA_DATA_DIR");
  std::filesystem::remove_all(dir);
}

TEST(Split, StratifiedAndDeterministic) {
  const data::Dataset ds = data::breast_cancer();
  const data::Split a = data::stratified_split(ds.y, 0.2, 42);
  const data::Split b = data::stratified_split(ds.y, 0.2, 42);
  const data::Split c = data::stratified_split(ds.y, 0.2, 43);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.test, b.test);
  EXPECT_NE(a.test, c.test);
  // round(0.2 * 212) = 42 malignant and round(0.2 * 357) = 71 benign.
  ASSERT_EQ(a.test.size(), 113u);
  EXPECT_EQ(a.train.size(), 456u);
  const std::vector<float> y = ds.y.to_vector<float>();
  int benign_test = 0;
  for (auto i : a.test) benign_test += y[static_cast<std::size_t>(i)] == 1.0f;
  EXPECT_EQ(benign_test, 71);
  std::set<std::int64_t> all(a.train.begin(), a.train.end());
  all.insert(a.test.begin(), a.test.end());
  EXPECT_EQ(all.size(), 569u);
  EXPECT_EQ(*all.begin(), 0);
  EXPECT_EQ(*all.rbegin(), 568);
}

// Properties of a split of labels `y` that any correct implementation has,
// checked without looking at which rows a given seed picks.
void expect_valid_split(const std::vector<float>& y, const data::Split& s, double fraction) {
  std::set<std::int64_t> train(s.train.begin(), s.train.end()), test(s.test.begin(), s.test.end());
  EXPECT_EQ(train.size(), s.train.size()) << "repeated training row";
  EXPECT_EQ(test.size(), s.test.size()) << "repeated test row";
  for (std::int64_t i : s.test) EXPECT_EQ(train.count(i), 0u) << "row " << i << " in both parts";
  EXPECT_EQ(train.size() + test.size(), y.size());
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(y.size()); ++i)
    EXPECT_TRUE(train.count(i) + test.count(i) == 1) << "row " << i << " in neither part";
  std::map<float, double> rows, in_test;
  for (float v : y) rows[v] += 1;
  for (std::int64_t i : s.test) in_test[y[static_cast<std::size_t>(i)]] += 1;
  for (const auto& [label, n] : rows)
    EXPECT_LE(std::abs(in_test[label] - fraction * n), 1.0) << "class " << label;
}

TEST(Split, SeededPropertiesWithoutPinnedRows) {
  std::vector<float> y;
  for (int i = 0; i < 40; ++i) y.push_back(i % 5 == 0 ? 0.0f : i % 5 == 1 ? 2.0f : 1.0f);
  const sigma::Tensor t =
      sigma::from_data(y.data(), sigma::kFloat, {static_cast<std::int64_t>(y.size())});
  for (double fraction : {0.1, 0.25, 0.5, 0.8}) {
    const data::Split a = data::stratified_split(t, fraction, 7);
    const data::Split b = data::stratified_split(t, fraction, 7);
    EXPECT_EQ(a.train, b.train);
    EXPECT_EQ(a.test, b.test);
    expect_valid_split(y, a, fraction);
    const data::Split c = data::stratified_split(t, fraction, 8);
    EXPECT_NE(c.test, a.test) << "fraction " << fraction;
    expect_valid_split(y, c, fraction);
  }
  EXPECT_THROW(data::stratified_split(t, 0.0, 7), std::invalid_argument);
  EXPECT_THROW(data::stratified_split(t, 1.0, 7), std::invalid_argument);
}

TEST(TakeRows, CopiesRowsInOrder) {
  const sigma::Tensor t = sigma::tensor({{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}});
  const sigma::Tensor r = data::take_rows(t, {2, 0, 2});
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{5, 6, 1, 2, 5, 6}));
  EXPECT_EQ(data::take_rows(sigma::tensor({7.0f, 8.0f, 9.0f}), {1}).to_vector<float>(),
            (std::vector<float>{8.0f}));
  EXPECT_THROW(data::take_rows(t, {3}), std::out_of_range);
}

TEST(Standardizer, ZeroMeanUnitVarianceAndConstantColumn) {
  const sigma::Tensor x = sigma::tensor({{1.0f, 5.0f, 10.0f}, {2.0f, 5.0f, 30.0f}, {3.0f, 5.0f, 20.0f},
                                        {4.0f, 5.0f, 40.0f}});
  const data::Standardizer s = data::Standardizer::fit(x);
  EXPECT_EQ(s.mean.to_vector<float>(), (std::vector<float>{2.5f, 5.0f, 25.0f}));
  const std::vector<float> sd = s.std.to_vector<float>();
  EXPECT_FLOAT_EQ(sd[0], std::sqrt(1.25f));  // population std, as scikit-learn
  EXPECT_EQ(sd[1], 1.0f);                    // constant column: std 1, not 0
  const sigma::Tensor z = s.apply(x);
  const std::vector<float> v = z.to_vector<float>();
  for (int j = 0; j < 3; ++j) {
    double m = 0, q = 0;
    for (int i = 0; i < 4; ++i) m += v[static_cast<std::size_t>(i * 3 + j)];
    for (int i = 0; i < 4; ++i) q += std::pow(v[static_cast<std::size_t>(i * 3 + j)], 2);
    EXPECT_NEAR(m / 4, 0.0, 1e-6);
    EXPECT_NEAR(q / 4, j == 1 ? 0.0 : 1.0, 1e-6);
  }
  EXPECT_THROW(s.apply(sigma::zeros({2, 4})), std::invalid_argument);
}

}  // namespace
