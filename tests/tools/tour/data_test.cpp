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

TEST_F(CsvTest, DirectoryIsNotAnEmptyFile) {
  try {
    data::read_csv(dir_, "y");
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("is a directory, expected a CSV file"));
  }
}

// RFC 4180: quoted cells (numbers included), "" for a quote, commas and line
// breaks inside quotes, CRLF.
TEST_F(CsvTest, QuotedCells) {
  const auto path = write("\"a, \"\"first\"\"\",\"y\",b\r\n\"2.338\", \"1\" ,\"-4e1\"\r\n3,0,\"5\"\n");
  const data::Dataset ds = data::read_csv(path, "y");
  EXPECT_EQ(ds.feature_names, (std::vector<std::string>{"a, \"first\"", "b"}));
  EXPECT_EQ(ds.x.to_vector<float>(), (std::vector<float>{2.338f, -40.0f, 3.0f, 5.0f}));
  EXPECT_EQ(ds.y.to_vector<float>(), (std::vector<float>{1.0f, 0.0f}));
  // A line break inside quotes belongs to the cell; the next record's line
  // number counts it.
  EXPECT_THAT(error_of("\"two\nlines\",y\n1,0\n2,1\nx,0\n"), HasSubstr(":5: column 1 (two\\x0alines): 'x' is not a number"));
}

TEST_F(CsvTest, MalformedQuotes) {
  EXPECT_THAT(error_of("a,y\n1,0\n\"2,1\n3,0\n"), HasSubstr(":3: column 1: a quote opened here is never closed"));
  EXPECT_THAT(error_of("a,y\n\"1\"x,0\n"), HasSubstr(":2: column 1: 'x' after a closing quote"));
}

TEST_F(CsvTest, HeaderNamesDistinctAndNonEmpty) {
  EXPECT_THAT(error_of("a,y,a\n1,0,2\n"), HasSubstr(":1: column 3 (a) repeats the name of column 1"));
  EXPECT_THAT(error_of("a,,y\n1,2,0\n"), HasSubstr(":1: column 2 has no name"));
}

TEST_F(CsvTest, SingleValueTargetSaysSo) {
  EXPECT_THAT(error_of("a,y\n1,1\n2,1\n3,1\n"),
              HasSubstr("the target column 'y' holds a single value (1) in all 3 rows"));
  EXPECT_THAT(error_of("a,y\n1,0\n"), HasSubstr("holds a single value (0) in all 1 rows"));
}

// A huge junk cell is quoted short and escaped: no control bytes reach the
// terminal, and the message says how long the cell was.
TEST_F(CsvTest, JunkIsQuotedShortAndEscaped) {
  std::string junk(1 << 20, 'z');
  junk[3] = '\x1b';
  junk[5] = '\x07';
  const std::string msg = error_of("a,y\n" + junk + ",0\n");
  EXPECT_THAT(msg, HasSubstr(":2: column 1 (a): 'zzz\\x1bz\\x07"));
  EXPECT_THAT(msg, HasSubstr("... (1048576 bytes)' is not a number"));
  EXPECT_LT(msg.size(), 300u);
  for (char c : msg) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "raw byte " << int(c) << " in the message";
}

TEST(Excerpt, EscapesAndCaps) {
  EXPECT_EQ(data::excerpt("plain"), "plain");
  EXPECT_EQ(data::excerpt(std::string("a\0b\\c\xff", 6)), "a\\x00b\\x5cc\\xff");
  const std::string cut = data::excerpt(std::string(41, 'q'));
  EXPECT_EQ(cut, std::string(40, 'q') + "... (41 bytes)");
}

TEST_F(CsvTest, FeaturesByNameForPrediction) {
  const auto path = write("c,y,a\n3,1,1\n6,0,4\n");
  const sigma::Tensor x = data::read_csv_features(path, {"a", "c"}, "y");
  EXPECT_EQ(x.sizes(), (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1, 3, 4, 6}));
  // Without the target column, and with it unknown to the call.
  EXPECT_EQ(data::read_csv_features(write("a,c\n1,2\n"), {"a", "c"}).to_vector<float>(),
            (std::vector<float>{1, 2}));
  auto message = [&](const std::string& text, const std::vector<std::string>& f) {
    try {
      data::read_csv_features(write(text), f, "y");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(message("a,y\n1,0\n", {"a", "c"}), HasSubstr("feature column(s) c are missing"));
  EXPECT_THAT(message("a,c,id\n1,2,3\n", {"a", "c"}), HasSubstr("column 3 (id) is not one of the model's features: a, c"));
}

// The reader streams: a file of many rows comes back exactly, whatever the
// buffer boundaries, and the progress callback sees the whole file.
TEST_F(CsvTest, ManyRowsAcrossBufferBoundaries) {
  std::string text = "f0,f1,\"label\"\n";
  std::vector<float> want;
  const int rows = 120000;
  for (int i = 0; i < rows; ++i) {
    const float a = static_cast<float>(i) * 0.25f, b = -static_cast<float>(i % 97);
    want.push_back(a);
    want.push_back(b);
    const char* quote = i % 3 == 0 ? "\"" : "";
    text.append(quote).append(std::to_string(a)).append(quote).append(",");
    text.append(std::to_string(b)).append(i % 2 ? ",1\r\n" : ",0\n");
  }
  const auto path = write(text);
  std::uint64_t last_done = 0, last_total = 0;
  std::int64_t last_rows = 0;
  const data::Dataset ds = data::read_csv(path, "label", true, [&](std::uint64_t d, std::uint64_t t, std::int64_t r) {
    EXPECT_GE(d, last_done);
    last_done = d, last_total = t, last_rows = r;
  });
  EXPECT_EQ(ds.x.to_vector<float>(), want);
  EXPECT_EQ(ds.y.sum().item<double>(), rows / 2);
  EXPECT_EQ(last_done, text.size());
  EXPECT_EQ(last_total, text.size());
  EXPECT_EQ(last_rows, rows);
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
    EXPECT_THAT(e.what(), HasSubstr("only that directory is searched"));
  }
  ::unsetenv("SIGMA_DATA_DIR");
  // Unset, a binary in the build tree finds the source tree's copy.
  EXPECT_TRUE(std::filesystem::is_regular_file(data::find_data_file("breast_cancer.csv")));
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

TEST(Split, KFoldPartitionsStratified) {
  std::vector<float> y;
  for (int i = 0; i < 103; ++i) y.push_back(i % 3 == 0 ? 0.0f : 1.0f);  // 35 zeros, 68 ones
  const sigma::Tensor t = sigma::from_data(y.data(), sigma::kFloat, {static_cast<std::int64_t>(y.size())});
  for (int k : {2, 5, 10}) {
    const auto folds = data::stratified_kfold(t, k, 11);
    ASSERT_EQ(folds.size(), static_cast<std::size_t>(k));
    std::vector<int> seen(y.size());
    for (const auto& f : folds) {
      expect_valid_split(y, f, 1.0 / k);
      for (std::int64_t i : f.test) ++seen[static_cast<std::size_t>(i)];
    }
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 1) << "row " << i << ", k " << k;
    EXPECT_NE(data::stratified_kfold(t, k, 12)[0].test, folds[0].test);
  }
  EXPECT_THROW(data::stratified_kfold(t, 1, 0), std::invalid_argument);
}

TEST(MoveRowsFirst, SplitsInPlace) {
  sigma::Tensor x = sigma::tensor({{0.0f, 0.5f}, {1.0f, 1.5f}, {2.0f, 2.5f}, {3.0f, 3.5f}, {4.0f, 4.5f}});
  sigma::Tensor y = sigma::tensor({0.0f, 10.0f, 20.0f, 30.0f, 40.0f});
  const void* before = x.data_ptr();
  EXPECT_EQ(data::move_rows_first(x, y, {4, 1, 2}), 3);
  EXPECT_EQ(x.data_ptr(), before);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{4, 4.5f, 1, 1.5f, 2, 2.5f, 0, 0.5f, 3, 3.5f}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{40, 10, 20, 0, 30}));
  EXPECT_THROW(data::move_rows_first(x, y, {1, 1}), std::invalid_argument);
  EXPECT_THROW(data::move_rows_first(x, y, {5}), std::invalid_argument);
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
  sigma::Tensor in_place = x.clone();
  s.apply_(in_place);
  EXPECT_EQ(in_place.to_vector<float>(), z.to_vector<float>());
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
