// Data for the tour: the vendored breast-cancer and digits sets, users' CSV
// files (every error names file, line and column), stratified splits that are
// the same on every platform, and standardisation fitted on training rows.
#include "data.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "sigma/autograd.h"
#include "sigma/ops.h"

namespace sigma::tour::data {

namespace {

// Bytes of a CSV: a file read through stdio, or text already in memory (the
// decompressed digits). rewind() starts over, for the counting pass.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::size_t read(char* buf, std::size_t n) = 0;
  virtual void rewind() = 0;
  virtual std::uint64_t size() const = 0;  // 0 when unknown
};

class FileSource final : public Source {
 public:
  explicit FileSource(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      throw std::runtime_error(path.string() + ": is a directory, expected a CSV file");
    f_ = std::fopen(path.c_str(), "rb");
    if (f_ == nullptr) throw std::runtime_error(path.string() + ": cannot open: " + std::strerror(errno));
    const auto sz = std::filesystem::file_size(path, ec);
    size_ = ec ? 0 : static_cast<std::uint64_t>(sz);
  }
  ~FileSource() override { std::fclose(f_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  std::size_t read(char* buf, std::size_t n) override { return std::fread(buf, 1, n, f_); }
  void rewind() override { std::rewind(f_); }
  std::uint64_t size() const override { return size_; }

 private:
  std::FILE* f_ = nullptr;
  std::uint64_t size_ = 0;
};

class TextSource final : public Source {
 public:
  explicit TextSource(std::string text) : text_(std::move(text)) {}
  std::size_t read(char* buf, std::size_t n) override {
    n = std::min(n, text_.size() - pos_);
    std::memcpy(buf, text_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  void rewind() override { pos_ = 0; }
  std::uint64_t size() const override { return text_.size(); }

 private:
  std::string text_;
  std::size_t pos_ = 0;
};

// An upper bound on the records of `src` (line breaks + 1), from one fast
// pass; the source is rewound.
std::int64_t count_lines(Source& src) {
  std::vector<char> buf(1 << 20);
  std::int64_t lines = 1;
  while (const std::size_t n = src.read(buf.data(), buf.size()))
    lines += std::count(buf.data(), buf.data() + n, '\n');
  src.rewind();
  return lines;
}

// RFC 4180 records, one at a time: fields split at commas outside quotes,
// "" inside quotes for a quote, line breaks inside quotes kept, spaces and
// tabs around a field (and the CR of CRLF) dropped, blank lines skipped.
class CsvReader {
 public:
  CsvReader(std::string file, Source& src) : file_(std::move(file)), src_(src), buf_(1 << 20) {}

  // Reads the next non-blank record; false at the end of the input.
  bool next() {
    for (;;) {
      n_ = 0;
      line_ = next_line_;
      bool content = false;
      begin_field();
      enum { Start, Plain, Quoted, QuoteSeen, AfterQuote } st = Start;
      std::int64_t quote_line = 0;
      int c = 0;
      while ((c = get()) != EOF) {
        if (c == '\n') ++next_line_;
        if (st == Quoted) {
          if (c == '"') st = QuoteSeen;
          else cur().push_back(static_cast<char>(c));
          continue;
        }
        if (st == QuoteSeen && c == '"') {
          cur().push_back('"');
          st = Quoted;
          continue;
        }
        if (c == '\n') break;
        if (c == ',') {
          end_field(st == Plain);
          begin_field();
          content = true;
          st = Start;
          continue;
        }
        const bool blank = c == ' ' || c == '\t' || c == '\r';
        switch (st) {
          case Start:
            if (blank) break;
            content = true;
            if (c == '"') {
              st = Quoted;
              quote_line = next_line_;
            } else {
              cur().push_back(static_cast<char>(c));
              st = Plain;
            }
            break;
          case Plain: cur().push_back(static_cast<char>(c)); break;
          case QuoteSeen:
          case AfterQuote:
            if (!blank)
              throw std::runtime_error(file_ + ":" + std::to_string(next_line_) + ": column " +
                                       std::to_string(n_ + 1) + ": '" + excerpt(std::string(1, char(c))) +
                                       "' after a closing quote, expected a comma or the end of the line");
            st = AfterQuote;
            break;
          case Quoted: break;
        }
      }
      if (st == Quoted)
        throw std::runtime_error(file_ + ":" + std::to_string(quote_line) + ": column " +
                                 std::to_string(n_ + 1) + ": a quote opened here is never closed");
      end_field(st == Plain);
      if (content) return true;
      if (c == EOF) return false;
    }
  }

  std::size_t size() const { return n_; }
  const std::string& operator[](std::size_t i) const { return fields_[i]; }
  std::int64_t line() const { return line_; }
  std::uint64_t bytes_read() const { return consumed_ - (end_ - pos_); }
  const std::string& file() const { return file_; }

 private:
  int get() {
    if (pos_ == end_) {
      end_ = src_.read(buf_.data(), buf_.size());
      pos_ = 0;
      consumed_ += end_;
      if (end_ == 0) return EOF;
    }
    return static_cast<unsigned char>(buf_[pos_++]);
  }
  void begin_field() {
    if (fields_.size() <= n_) fields_.emplace_back();
    fields_[n_].clear();
  }
  std::string& cur() { return fields_[n_]; }
  void end_field(bool plain) {
    if (plain) {
      std::string& f = cur();
      while (!f.empty() && (f.back() == ' ' || f.back() == '\t' || f.back() == '\r')) f.pop_back();
    }
    ++n_;
  }

  std::string file_;
  Source& src_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0;
  std::uint64_t consumed_ = 0;
  std::vector<std::string> fields_;
  std::size_t n_ = 0;
  std::int64_t line_ = 1, next_line_ = 1;
};

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
    if (!name.empty()) s += " (" + excerpt(name) + ")";
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
    throw std::runtime_error(at.prefix() + "'" + excerpt(cell) + "' is out of range of a double");
  if (ec != std::errc() || end != s.data() + s.size())
    throw std::runtime_error(at.prefix() + "'" + excerpt(cell) + "' is not a number");
  if (!std::isfinite(v))
    throw std::runtime_error(at.prefix() + "'" + excerpt(cell) + "' is not a finite number");
  return v;
}

// The tensors are float32: a finite double beyond FLT_MAX would become inf.
float to_float(double v, std::string_view cell, const CellAt& at) {
  if (std::abs(v) > static_cast<double>(std::numeric_limits<float>::max()))
    throw std::runtime_error(at.prefix() + "'" + excerpt(cell) +
                             "' is out of float range (float32 holds magnitudes up to 3.4e38)");
  return static_cast<float>(v);
}

void check_width(const CsvReader& r, const std::vector<std::string>& names) {
  const std::size_t n = r.size(), width = names.size();
  if (n == width) return;
  const std::size_t column = std::min(n, width);
  const std::string_view name = column < names.size() ? std::string_view(names[column]) : "";
  const CellAt at{r.file(), r.line(), column, name};
  throw std::runtime_error(at.prefix() + (n < width ? "missing: the row has " : "extra cell: the row has ") +
                           std::to_string(n) + " cells, expected " + std::to_string(width));
}

// What each column of a file becomes.
constexpr int kTarget = -1, kSkip = -2;
struct Columns {
  std::vector<std::string> names;  // every column of the file, for messages
  std::vector<int> dest;           // per column: its feature index, kTarget or kSkip
  std::int64_t features = 0;
  bool binary_target = false;
};

// Reads the data records left in `r` into x [rows, features] and y [rows]
// (when a column is kTarget), allocated once for at most `max_rows` rows.
void read_records(CsvReader& r, const Columns& cols, std::int64_t max_rows, std::uint64_t total_bytes,
                  const ReadProgress& progress, sigma::Tensor& x, sigma::Tensor& y) {
  const bool has_y = std::find(cols.dest.begin(), cols.dest.end(), kTarget) != cols.dest.end();
  x = sigma::empty({max_rows, cols.features}, sigma::kFloat);
  y = sigma::empty({has_y ? max_rows : 0}, sigma::kFloat);
  float* xp = x.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  std::int64_t rows = 0;
  while (r.next()) {
    check_width(r, cols.names);
    if (rows == max_rows)  // cannot happen: max_rows counts every line
      throw std::runtime_error(r.file() + ": more records than lines");
    for (std::size_t c = 0; c < cols.dest.size(); ++c) {
      if (cols.dest[c] == kSkip) continue;
      const CellAt at{r.file(), r.line(), c, cols.names[c]};
      const float v = to_float(parse_cell(r[c], at), r[c], at);
      if (cols.dest[c] >= 0) {
        xp[rows * cols.features + cols.dest[c]] = v;
      } else {
        if (cols.binary_target && v != 0.0f && v != 1.0f)
          throw std::runtime_error(at.prefix() + "the target must be 0 or 1, found '" +
                                   excerpt(r[c]) + "'");
        yp[rows] = v;
      }
    }
    ++rows;
    if (progress && rows % 65536 == 0) progress(r.bytes_read(), total_bytes, rows);
  }
  if (progress) progress(r.bytes_read(), total_bytes, rows);
  if (rows < max_rows) {
    x = x.narrow(0, 0, rows);
    if (has_y) y = y.narrow(0, 0, rows);
  }
}

// The header row of a user's CSV: distinct, non-empty names.
std::vector<std::string> read_header(CsvReader& r) {
  if (!r.next())
    throw std::runtime_error(r.file() + ":1: empty file, expected a header row of column names");
  std::vector<std::string> names;
  std::map<std::string, std::size_t> seen;
  for (std::size_t c = 0; c < r.size(); ++c) {
    const std::string& name = r[c];
    const std::string at = r.file() + ":" + std::to_string(r.line()) + ": column " + std::to_string(c + 1);
    if (name.empty()) throw std::runtime_error(at + " has no name; every column needs one");
    const auto [it, fresh] = seen.emplace(name, c);
    if (!fresh)
      throw std::runtime_error(at + " (" + excerpt(name) + ") repeats the name of column " +
                               std::to_string(it->second + 1) + "; column names must be distinct");
    names.push_back(name);
  }
  return names;
}

// A user's CSV, opened, counted and its header read: how read_csv and
// read_csv_features begin.
struct UserCsv {
  explicit UserCsv(const std::filesystem::path& path)
      : src(path), lines(count_lines(src)), reader(path.string(), src) {
    cols.names = read_header(reader);
    header_line = reader.line();
  }
  FileSource src;
  std::int64_t lines;
  CsvReader reader;
  Columns cols;
  std::int64_t header_line = 0;
};

std::string list_names(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + excerpt(n);
  return list;
}

void check_has_rows(const sigma::Tensor& x, const CsvReader& r, std::int64_t header_line) {
  if (x.size(0) == 0)
    throw std::runtime_error(r.file() + ":" + std::to_string(header_line + 1) + ": no data rows after the header");
}

std::int64_t header_count(const CsvReader& header, std::size_t column, const char* what) {
  const CellAt at{header.file(), header.line(), column, what};
  const double v = parse_cell(header[column], at);
  if (v < 0 || v != std::floor(v))
    throw std::runtime_error(at.prefix() + "expected a count, found '" + excerpt(header[column]) + "'");
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

// Row indices of each label of y (any shape, read as float32 without a
// copy when it is one), in row order.
std::map<double, std::vector<std::int64_t>> rows_by_class(const sigma::Tensor& y) {
  const sigma::Tensor c = y.detach().reshape({-1}).to(sigma::kFloat).contiguous();
  const float* v = c.data_ptr<float>();
  std::map<double, std::vector<std::int64_t>> by_class;
  for (std::int64_t i = 0; i < c.numel(); ++i) by_class[v[i]].push_back(i);
  return by_class;
}

}  // namespace

std::string excerpt(std::string_view cell) {
  constexpr std::size_t kMax = 40;
  std::string out;
  for (std::size_t i = 0; i < cell.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(cell[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (cell.size() > kMax) out += "... (" + std::to_string(cell.size()) + " bytes)";
  return out;
}

std::filesystem::path find_data_file(const std::string& name) {
  namespace fs = std::filesystem;
  std::vector<fs::path> dirs;
  std::string hint = " (set SIGMA_DATA_DIR to the directory holding it)";
  if (const char* env = std::getenv("SIGMA_DATA_DIR"); env != nullptr && *env != '\0') {
    dirs.emplace_back(env);
    hint = " (SIGMA_DATA_DIR is set, so only that directory is searched)";
  } else {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
      dirs.push_back((exe.parent_path() / ".." / "share" / "sigma" / "data").lexically_normal());
#if defined(SIGMA_BUILD_TREE) && defined(SIGMA_SOURCE_DATA_DIR)
      // A binary in the build tree (not installed) reads the source tree's copy.
      const fs::path rel = exe.lexically_relative(SIGMA_BUILD_TREE);
      if (!rel.empty() && *rel.begin() != "..") dirs.emplace_back(SIGMA_SOURCE_DATA_DIR);
#endif
    }
  }
  std::string tried;
  for (const auto& dir : dirs) {
    const auto path = dir / name;
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) return path;
    tried += (tried.empty() ? "" : ", ") + path.string();
  }
  throw std::runtime_error("data set " + name + " not found; tried " +
                           (tried.empty() ? std::string("nothing") : tried) + hint);
}

Dataset breast_cancer() {
  const auto path = find_data_file("breast_cancer.csv");
  FileSource src(path);
  const std::int64_t lines = count_lines(src);
  CsvReader r(path.string(), src);
  if (!r.next()) throw std::runtime_error(r.file() + ":1: empty file, expected \"rows,features,class0,class1\"");
  check_width(r, {"rows", "features", "class0", "class1"});
  const std::int64_t n = header_count(r, 0, "rows");
  const std::int64_t d = header_count(r, 1, "features");
  if (d != 30) {
    throw std::runtime_error(r.file() + ":" + std::to_string(r.line()) +
                             ": column 2 (features): expected 30 features, the header says " +
                             std::to_string(d));
  }
  Columns cols{breast_cancer_names(), std::vector<int>(31), 30, true};
  cols.names.push_back(r[3]);  // target 1 = the second class
  for (int c = 0; c < 30; ++c) cols.dest[static_cast<std::size_t>(c)] = c;
  cols.dest[30] = kTarget;
  Dataset ds;
  read_records(r, cols, lines, 0, {}, ds.x, ds.y);
  if (ds.x.size(0) != n) {
    throw std::runtime_error(r.file() + ": the header announces " + std::to_string(n) +
                             " rows, the file has " + std::to_string(ds.x.size(0)));
  }
  ds.target_name = cols.names.back();
  cols.names.pop_back();
  ds.feature_names = std::move(cols.names);
  return ds;
}

Dataset digits() {
  const auto path = find_data_file("digits.csv.gz");
  TextSource src(read_gzip(path));
  CsvReader r(path.string(), src);
  Columns cols{{}, std::vector<int>(65), 64, false};
  for (int row = 0; row < 8; ++row)
    for (int c = 0; c < 8; ++c) cols.names.push_back("pixel_" + std::to_string(row) + "_" + std::to_string(c));
  cols.names.emplace_back("digit");
  for (int c = 0; c < 64; ++c) cols.dest[static_cast<std::size_t>(c)] = c;
  cols.dest[64] = kTarget;
  Dataset ds;
  read_records(r, cols, count_lines(src), 0, {}, ds.x, ds.y);
  if (ds.x.size(0) == 0)
    throw std::runtime_error(r.file() + ":1: empty file, expected rows of 64 pixels and a digit");
  const float* y = ds.y.data_ptr<float>();
  for (std::int64_t i = 0; i < ds.y.numel(); ++i) {
    if (y[i] >= 0 && y[i] <= 9 && y[i] == std::floor(y[i])) continue;
    throw std::runtime_error(r.file() + ": data row " + std::to_string(i + 1) +
                             ": column 65 (digit): expected a digit 0..9");
  }
  ds.target_name = cols.names.back();
  cols.names.pop_back();
  ds.feature_names = std::move(cols.names);
  return ds;
}

Dataset read_csv(const std::filesystem::path& path, const std::string& target, bool binary_target,
                 const ReadProgress& progress) {
  UserCsv csv(path);
  CsvReader& r = csv.reader;
  Columns& cols = csv.cols;
  const std::int64_t header_line = csv.header_line;
  const auto it = std::find(cols.names.begin(), cols.names.end(), target);
  if (it == cols.names.end()) {
    throw std::runtime_error(r.file() + ":" + std::to_string(header_line) + ": no target column '" +
                             excerpt(target) + "'; the columns are: " + list_names(cols.names));
  }
  if (cols.names.size() < 2) {
    throw std::runtime_error(r.file() + ":" + std::to_string(header_line) +
                             ": only the target column; expected at least one feature column too");
  }
  Dataset ds;
  for (const auto& name : cols.names) {
    if (name == target) {
      cols.dest.push_back(kTarget);
    } else {
      cols.dest.push_back(static_cast<int>(cols.features++));
      ds.feature_names.push_back(name);
    }
  }
  cols.binary_target = binary_target;
  ds.target_name = target;
  read_records(r, cols, csv.lines, csv.src.size(), progress, ds.x, ds.y);
  check_has_rows(ds.x, r, header_line);
  if (binary_target) {
    const double positives = ds.y.sum().item<double>();
    const auto n = ds.y.numel();
    if (positives == 0 || positives == static_cast<double>(n))
      throw std::runtime_error(r.file() + ": the target column '" + excerpt(target) +
                               "' holds a single value (" + (positives == 0 ? "0" : "1") +
                               ") in all " + std::to_string(n) +
                               " rows; a binary classifier needs rows of both classes");
  }
  return ds;
}

sigma::Tensor read_csv_features(const std::filesystem::path& path,
                                const std::vector<std::string>& features, const std::string& ignored,
                                const ReadProgress& progress) {
  UserCsv csv(path);
  CsvReader& r = csv.reader;
  Columns& cols = csv.cols;
  const std::int64_t header_line = csv.header_line;
  std::vector<std::string> missing(features);
  for (std::size_t c = 0; c < cols.names.size(); ++c) {
    const auto it = std::find(features.begin(), features.end(), cols.names[c]);
    if (it != features.end()) {
      cols.dest.push_back(static_cast<int>(it - features.begin()));
      std::erase(missing, cols.names[c]);
    } else if (!ignored.empty() && cols.names[c] == ignored) {
      cols.dest.push_back(kSkip);
    } else {
      throw std::runtime_error(r.file() + ":" + std::to_string(header_line) + ": column " +
                               std::to_string(c + 1) + " (" + excerpt(cols.names[c]) +
                               ") is not one of the model's features: " + list_names(features));
    }
  }
  if (!missing.empty())
    throw std::runtime_error(r.file() + ":" + std::to_string(header_line) +
                             ": the model's feature column(s) " + list_names(missing) +
                             " are missing; the file has: " + list_names(cols.names));
  cols.features = static_cast<std::int64_t>(features.size());
  sigma::Tensor x, y;
  read_records(r, cols, csv.lines, csv.src.size(), progress, x, y);
  check_has_rows(x, r, header_line);
  return x;
}

Split stratified_split(const sigma::Tensor& y, double test_fraction, std::uint64_t seed) {
  if (!(test_fraction > 0 && test_fraction < 1)) {
    throw std::invalid_argument("stratified_split: test_fraction must be in (0, 1), got " +
                                std::to_string(test_fraction));
  }
  std::map<double, std::vector<std::int64_t>> by_class = rows_by_class(y);
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

std::vector<Split> stratified_kfold(const sigma::Tensor& y, int k, std::uint64_t seed) {
  if (k < 2) throw std::invalid_argument("stratified_kfold: k must be >= 2, got " + std::to_string(k));
  std::map<double, std::vector<std::int64_t>> by_class = rows_by_class(y);
  const std::size_t n = static_cast<std::size_t>(y.numel());
  // Each class is shuffled and dealt round-robin into the folds, continuing
  // where the previous class stopped, so fold sizes differ by at most one.
  std::mt19937_64 g(seed);
  std::vector<int> fold_of(n);
  std::size_t next = 0;
  for (auto& [label, rows] : by_class) {
    fisher_yates(rows, g);
    for (const std::int64_t r : rows) fold_of[static_cast<std::size_t>(r)] = static_cast<int>(next++ % k);
  }
  std::vector<Split> folds(static_cast<std::size_t>(k));
  for (std::size_t i = 0; i < fold_of.size(); ++i)
    for (int f = 0; f < k; ++f)
      (fold_of[i] == f ? folds[f].test : folds[f].train).push_back(static_cast<std::int64_t>(i));
  return folds;
}

std::int64_t move_rows_first(sigma::Tensor& x, sigma::Tensor& y, const std::vector<std::int64_t>& first) {
  const std::int64_t n = x.size(0);
  if (y.dim() != 1 || y.size(0) != n || !x.is_contiguous() || !y.is_contiguous())
    throw std::invalid_argument("move_rows_first: expected contiguous x [n, ...] and y [n]");
  // perm[i] = the row that ends up at position i.
  std::vector<std::int64_t> perm(first);
  perm.reserve(static_cast<std::size_t>(n));
  {
    std::vector<bool> chosen(static_cast<std::size_t>(n));
    for (const std::int64_t r : first) {
      if (r < 0 || r >= n || chosen[static_cast<std::size_t>(r)])
        throw std::invalid_argument("move_rows_first: row " + std::to_string(r) +
                                    " is out of range or repeated");
      chosen[static_cast<std::size_t>(r)] = true;
    }
    for (std::int64_t r = 0; r < n; ++r)
      if (!chosen[static_cast<std::size_t>(r)]) perm.push_back(r);
  }
  // Follows each cycle of the permutation with one row in a buffer.
  const auto row_bytes = static_cast<std::size_t>(n == 0 ? 0 : x.numel() / n) * x.element_size();
  auto* xb = static_cast<unsigned char*>(x.data_ptr());
  auto* yb = static_cast<unsigned char*>(y.data_ptr());
  const std::size_t yb_size = y.element_size();
  std::vector<unsigned char> xtmp(row_bytes), ytmp(yb_size);
  std::vector<bool> done(static_cast<std::size_t>(n));
  for (std::int64_t start = 0; start < n; ++start) {
    if (done[static_cast<std::size_t>(start)] || perm[static_cast<std::size_t>(start)] == start) continue;
    std::memcpy(xtmp.data(), xb + static_cast<std::size_t>(start) * row_bytes, row_bytes);
    std::memcpy(ytmp.data(), yb + static_cast<std::size_t>(start) * yb_size, yb_size);
    std::int64_t i = start;
    for (;;) {
      done[static_cast<std::size_t>(i)] = true;
      const std::int64_t src = perm[static_cast<std::size_t>(i)];
      if (src == start) {
        std::memcpy(xb + static_cast<std::size_t>(i) * row_bytes, xtmp.data(), row_bytes);
        std::memcpy(yb + static_cast<std::size_t>(i) * yb_size, ytmp.data(), yb_size);
        break;
      }
      std::memcpy(xb + static_cast<std::size_t>(i) * row_bytes, xb + static_cast<std::size_t>(src) * row_bytes, row_bytes);
      std::memcpy(yb + static_cast<std::size_t>(i) * yb_size, yb + static_cast<std::size_t>(src) * yb_size, yb_size);
      i = src;
    }
  }
  return static_cast<std::int64_t>(first.size());
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
  // Two passes in double straight over the float rows: no copy of the data.
  const sigma::Tensor c = x.detach().to(sigma::kFloat).contiguous();
  const float* v = c.data_ptr<float>();
  const std::int64_t n = c.size(0), d = c.size(1);
  const auto du = static_cast<std::size_t>(d);
  std::vector<double> mean(du, 0.0), sd(du, 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < du; ++j) mean[j] += v[static_cast<std::size_t>(i) * du + j];
  for (auto& m : mean) m /= static_cast<double>(n);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < du; ++j) {
      const double e = v[static_cast<std::size_t>(i) * du + j] - mean[j];
      sd[j] += e * e;
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

void Standardizer::apply_(sigma::Tensor& x) const {
  if (x.dim() != 2 || x.size(1) != mean.numel() || x.dtype() != sigma::kFloat || !x.is_contiguous())
    throw std::invalid_argument("Standardizer::apply_: expected contiguous float32 [n, " +
                                std::to_string(mean.numel()) + "]");
  sigma::NoGradGuard no_grad;
  x.sub_(mean).div_(std);
}

}  // namespace sigma::tour::data
