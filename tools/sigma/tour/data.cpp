// Data for the tour: the vendored breast-cancer and digits sets, users' CSV
// files (every error names file, line and column), stratified splits that are
// the same on every platform, and standardisation fitted on training rows.
#include "data.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "sigma/ops.h"

namespace sigma::tour::data {

namespace {

// Cells of one CSV line with the line's number, for error messages.
struct Row {
  std::int64_t line = 0;
  std::vector<std::string_view> cells;
};

std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = line.find(',', start);
    cells.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) return cells;
    start = comma + 1;
  }
}

// Non-blank lines of `text`, split into cells (views into `text`).
std::vector<Row> split_rows(std::string_view text) {
  std::vector<Row> rows;
  std::int64_t line = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    ++line;
    const std::string_view s = text.substr(start, end - start);
    if (!trim(s).empty()) rows.push_back({line, split_cells(s)});
    start = end + 1;
  }
  return rows;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open: " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string read_gzip(const std::filesystem::path& path) {
  gzFile f = gzopen(path.string().c_str(), "rb");
  if (f == nullptr) throw std::runtime_error(path.string() + ": cannot open: " + std::strerror(errno));
  std::string text;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  int err = Z_OK;
  const std::string msg = n < 0 ? gzerror(f, &err) : "";
  gzclose(f);
  if (n < 0) throw std::runtime_error(path.string() + ": cannot decompress: " + msg);
  return text;
}

// Where a cell is, for "FILE:LINE: column N (NAME): ..." messages.
struct CellAt {
  const std::string& file;
  std::int64_t line;
  std::size_t column;  // 0-based
  std::string_view name;
  std::string prefix() const {
    std::string s = file + ":" + std::to_string(line) + ": column " + std::to_string(column + 1);
    if (!name.empty()) s += " (" + std::string(name) + ")";
    return s + ": ";
  }
};

double parse_cell(std::string_view cell, const CellAt& at) {
  if (cell.empty()) throw std::runtime_error(at.prefix() + "empty cell, expected a number");
  std::string_view s = cell;
  if (s.size() > 1 && s.front() == '+' && s[1] != '-') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range)
    throw std::runtime_error(at.prefix() + "'" + std::string(cell) + "' is out of range of a double");
  if (ec != std::errc() || end != s.data() + s.size())
    throw std::runtime_error(at.prefix() + "'" + std::string(cell) + "' is not a number");
  if (!std::isfinite(v))
    throw std::runtime_error(at.prefix() + "'" + std::string(cell) + "' is not a finite number");
  return v;
}

// The tensors are float32: a finite double beyond FLT_MAX would become inf.
float to_float(double v, std::string_view cell, const CellAt& at) {
  if (std::abs(v) > static_cast<double>(std::numeric_limits<float>::max()))
    throw std::runtime_error(at.prefix() + "'" + std::string(cell) +
                             "' is out of float range (float32 holds magnitudes up to 3.4e38)");
  return static_cast<float>(v);
}

void check_width(const Row& row, std::size_t width, const std::string& file,
                 const std::vector<std::string>& names) {
  const std::size_t n = row.cells.size();
  if (n == width) return;
  const std::size_t column = std::min(n, width);
  const std::string_view name = column < names.size() ? std::string_view(names[column]) : "";
  const CellAt at{file, row.line, column, name};
  throw std::runtime_error(at.prefix() + (n < width ? "missing: the row has " : "extra cell: the row has ") +
                           std::to_string(n) + " cells, expected " + std::to_string(width));
}

// Rows of numbers; row.cells[target] becomes y, the other cells x.
Dataset build(const std::vector<Row>& rows, std::size_t first, std::size_t width,
              std::size_t target, std::vector<std::string> names, const std::string& file) {
  const auto n = static_cast<std::int64_t>(rows.size() - first);
  const auto d = static_cast<std::int64_t>(width - 1);
  std::vector<float> x;
  std::vector<float> y;
  x.reserve(static_cast<std::size_t>(n * d));
  y.reserve(static_cast<std::size_t>(n));
  for (std::size_t r = first; r < rows.size(); ++r) {
    check_width(rows[r], width, file, names);
    for (std::size_t c = 0; c < width; ++c) {
      const CellAt at{file, rows[r].line, c, names[c]};
      const std::string_view cell = rows[r].cells[c];
      (c == target ? y : x).push_back(to_float(parse_cell(cell, at), cell, at));
    }
  }
  Dataset ds;
  ds.target_name = names[target];
  names.erase(names.begin() + static_cast<std::ptrdiff_t>(target));
  ds.feature_names = std::move(names);
  ds.x = sigma::from_data(x.data(), sigma::kFloat, {n, d});
  ds.y = sigma::from_data(y.data(), sigma::kFloat, {n});
  return ds;
}

void check_binary(const Dataset& ds, const std::vector<Row>& rows, std::size_t first,
                  std::size_t target, const std::string& file) {
  const float* y = ds.y.data_ptr<float>();
  for (std::int64_t i = 0; i < ds.y.numel(); ++i) {
    if (y[i] == 0.0f || y[i] == 1.0f) continue;
    const Row& row = rows[first + static_cast<std::size_t>(i)];
    const CellAt at{file, row.line, target, ds.target_name};
    throw std::runtime_error(at.prefix() + "the target must be 0 or 1, found '" +
                             std::string(row.cells[target]) + "'");
  }
}

std::string unquote(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

std::int64_t header_count(const Row& header, std::size_t column, const std::string& file,
                          const char* what) {
  const CellAt at{file, header.line, column, what};
  const double v = parse_cell(header.cells[column], at);
  if (v < 0 || v != std::floor(v))
    throw std::runtime_error(at.prefix() + "expected a count, found '" +
                             std::string(header.cells[column]) + "'");
  return static_cast<std::int64_t>(v);
}

std::vector<std::string> breast_cancer_names() {
  const char* base[] = {"radius",      "texture",   "perimeter",      "area",     "smoothness",
                        "compactness", "concavity", "concave points", "symmetry", "fractal dimension"};
  std::vector<std::string> names;
  for (const char* b : base) names.push_back(std::string("mean ") + b);
  for (const char* b : base) names.push_back(std::string(b) + " error");
  for (const char* b : base) names.push_back(std::string("worst ") + b);
  return names;
}

// Draws uniformly from [0, n) by rejection, so the result depends only on
// the engine's (standardised) output, not on the standard library.
std::uint64_t bounded(std::mt19937_64& g, std::uint64_t n) {
  const std::uint64_t reject_below = (0 - n) % n;  // 2^64 mod n
  for (;;) {
    const std::uint64_t r = g();
    if (r >= reject_below) return r % n;
  }
}

void fisher_yates(std::vector<std::int64_t>& v, std::mt19937_64& g) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(bounded(g, i));
    std::swap(v[i - 1], v[j]);
  }
}

std::vector<double> as_doubles(const sigma::Tensor& t) {
  return t.detach().to(sigma::kDouble).contiguous().to_vector<double>();
}

}  // namespace

std::filesystem::path find_data_file(const std::string& name) {
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("SIGMA_DATA_DIR"); env != nullptr && *env != '\0')
    dirs.emplace_back(env);
#ifdef SIGMA_SOURCE_DATA_DIR
  dirs.emplace_back(SIGMA_SOURCE_DATA_DIR);
#endif
#ifdef SIGMA_INSTALL_DATA_DIR
  dirs.emplace_back(SIGMA_INSTALL_DATA_DIR);
#endif
  std::string tried;
  for (const auto& dir : dirs) {
    const auto path = dir / name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) return path;
    tried += (tried.empty() ? "" : ", ") + path.string();
  }
  throw std::runtime_error("data set " + name + " not found; tried " +
                           (tried.empty() ? std::string("nothing (no data directory configured)")
                                          : tried) +
                           " (set SIGMA_DATA_DIR to the directory holding it)");
}

Dataset breast_cancer() {
  const auto path = find_data_file("breast_cancer.csv");
  const std::string file = path.string();
  const std::string text = read_text(path);
  const std::vector<Row> rows = split_rows(text);
  if (rows.empty()) throw std::runtime_error(file + ":1: empty file, expected \"rows,features,class0,class1\"");
  const Row& header = rows[0];
  check_width(header, 4, file, {"rows", "features", "class0", "class1"});
  const std::int64_t n = header_count(header, 0, file, "rows");
  const std::int64_t d = header_count(header, 1, file, "features");
  if (d != 30) {
    throw std::runtime_error(file + ":" + std::to_string(header.line) +
                             ": column 2 (features): expected 30 features, the header says " +
                             std::to_string(d));
  }
  if (static_cast<std::int64_t>(rows.size()) - 1 != n) {
    throw std::runtime_error(file + ": the header announces " + std::to_string(n) +
                             " rows, the file has " + std::to_string(rows.size() - 1));
  }
  std::vector<std::string> names = breast_cancer_names();
  names.push_back(std::string(header.cells[3]));  // target 1 = the second class
  Dataset ds = build(rows, 1, 31, 30, std::move(names), file);
  check_binary(ds, rows, 1, 30, file);
  return ds;
}

Dataset digits() {
  const auto path = find_data_file("digits.csv.gz");
  const std::string file = path.string();
  const std::string text = read_gzip(path);
  const std::vector<Row> rows = split_rows(text);
  if (rows.empty()) throw std::runtime_error(file + ":1: empty file, expected rows of 64 pixels and a digit");
  std::vector<std::string> names;
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c) names.push_back("pixel_" + std::to_string(r) + "_" + std::to_string(c));
  names.emplace_back("digit");
  Dataset ds = build(rows, 0, 65, 64, std::move(names), file);
  const float* y = ds.y.data_ptr<float>();
  for (std::int64_t i = 0; i < ds.y.numel(); ++i) {
    if (y[i] >= 0 && y[i] <= 9 && y[i] == std::floor(y[i])) continue;
    const CellAt at{file, rows[static_cast<std::size_t>(i)].line, 64, "digit"};
    throw std::runtime_error(at.prefix() + "expected a digit 0..9");
  }
  return ds;
}

Dataset read_csv(const std::filesystem::path& path, const std::string& target, bool binary_target) {
  const std::string file = path.string();
  const std::string text = read_text(path);
  const std::vector<Row> rows = split_rows(text);
  if (rows.empty()) throw std::runtime_error(file + ":1: empty file, expected a header row of column names");
  const Row& header = rows[0];
  std::vector<std::string> names;
  for (auto cell : header.cells) names.push_back(unquote(cell));
  const auto it = std::find(names.begin(), names.end(), target);
  if (it == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw std::runtime_error(file + ":" + std::to_string(header.line) + ": no target column '" +
                             target + "'; the columns are: " + list);
  }
  if (names.size() < 2) {
    throw std::runtime_error(file + ":" + std::to_string(header.line) +
                             ": only the target column; expected at least one feature column too");
  }
  if (rows.size() < 2) {
    throw std::runtime_error(file + ":" + std::to_string(header.line + 1) +
                             ": no data rows after the header");
  }
  const auto t = static_cast<std::size_t>(it - names.begin());
  const std::size_t width = names.size();
  Dataset ds = build(rows, 1, width, t, std::move(names), file);
  if (binary_target) check_binary(ds, rows, 1, t, file);
  return ds;
}

Split stratified_split(const sigma::Tensor& y, double test_fraction, std::uint64_t seed) {
  if (!(test_fraction > 0 && test_fraction < 1)) {
    throw std::invalid_argument("stratified_split: test_fraction must be in (0, 1), got " +
                                std::to_string(test_fraction));
  }
  const std::vector<double> labels = as_doubles(y.reshape({-1}));
  std::map<double, std::vector<std::int64_t>> by_class;
  for (std::size_t i = 0; i < labels.size(); ++i)
    by_class[labels[i]].push_back(static_cast<std::int64_t>(i));
  std::mt19937_64 g(seed);
  Split s;
  for (auto& [label, rows] : by_class) {
    fisher_yates(rows, g);
    const auto n_test = static_cast<std::size_t>(
        std::llround(test_fraction * static_cast<double>(rows.size())));
    s.test.insert(s.test.end(), rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(n_test));
    s.train.insert(s.train.end(), rows.begin() + static_cast<std::ptrdiff_t>(n_test), rows.end());
  }
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.test.begin(), s.test.end());
  return s;
}

sigma::Tensor take_rows(const sigma::Tensor& t, const std::vector<std::int64_t>& rows) {
  if (t.dim() < 1) throw std::invalid_argument("take_rows: expected a tensor with rows, got a scalar");
  const sigma::Tensor c = t.detach().contiguous();
  const std::int64_t n = c.size(0);
  const std::size_t row_bytes = c.element_size() * static_cast<std::size_t>(n == 0 ? 0 : c.numel() / n);
  std::vector<unsigned char> buf(row_bytes * rows.size());
  const auto* src = static_cast<const unsigned char*>(c.data_ptr());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= n) {
      throw std::out_of_range("take_rows: row " + std::to_string(rows[i]) + " out of range for " +
                              std::to_string(n) + " rows");
    }
    std::memcpy(buf.data() + i * row_bytes, src + static_cast<std::size_t>(rows[i]) * row_bytes,
                row_bytes);
  }
  std::vector<std::int64_t> shape(c.sizes().begin(), c.sizes().end());
  shape[0] = static_cast<std::int64_t>(rows.size());
  return sigma::from_data(buf.data(), c.dtype(), shape);
}

Standardizer Standardizer::fit(const sigma::Tensor& x) {
  if (x.dim() != 2 || x.size(0) < 1) {
    throw std::invalid_argument("Standardizer::fit: expected [n, d] with n >= 1, got " +
                                std::to_string(x.dim()) + " dimensions");
  }
  const std::int64_t n = x.size(0), d = x.size(1);
  const std::vector<double> v = as_doubles(x);
  std::vector<double> mean(static_cast<std::size_t>(d), 0.0), sd(static_cast<std::size_t>(d), 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < d; ++j) mean[static_cast<std::size_t>(j)] += v[static_cast<std::size_t>(i * d + j)];
  for (auto& m : mean) m /= static_cast<double>(n);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) {
      const double e = v[static_cast<std::size_t>(i * d + j)] - mean[static_cast<std::size_t>(j)];
      sd[static_cast<std::size_t>(j)] += e * e;
    }
  }
  for (std::size_t j = 0; j < sd.size(); ++j) {
    sd[j] = std::sqrt(sd[j] / static_cast<double>(n));
    if (sd[j] <= 1e-12 * std::max(1.0, std::abs(mean[j]))) sd[j] = 1.0;
  }
  return {sigma::from_data(mean.data(), sigma::kDouble, {d}, sigma::kFloat),
          sigma::from_data(sd.data(), sigma::kDouble, {d}, sigma::kFloat)};
}

sigma::Tensor Standardizer::apply(const sigma::Tensor& x) const {
  if (x.dim() != 2 || x.size(1) != mean.numel()) {
    throw std::invalid_argument("Standardizer::apply: expected [n, " + std::to_string(mean.numel()) +
                                "] (the columns it was fitted on), got " + std::to_string(x.dim()) +
                                " dimensions with " + std::to_string(x.dim() == 2 ? x.size(1) : 0) +
                                " columns");
  }
  return (x.to(sigma::kFloat) - mean) / std;
}

}  // namespace sigma::tour::data
