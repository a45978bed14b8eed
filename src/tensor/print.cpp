// print.cpp: operator<< for tensors, producing Python PyTorch's repr
// (torch/_tensor_str.py) character for character: one formatter for all
// elements (fixed with 4 decimals, "1." for integer-valued floats, or
// scientific when the magnitudes span too much), right-aligned to a common
// width, 80-column lines, summaries with "..." above 1000 elements, and the
// dtype / requires_grad / grad_fn suffixes. Only the dtype prefix differs:
// "sigma.float64" where PyTorch writes "torch.float64".
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "autograd/function.h"
#include "sigma/ops.h"
#include "tensor/convert.h"

namespace sigma {

namespace {

// PyTorch's default print options.
constexpr std::int64_t kThreshold = 1000;
constexpr std::int64_t kEdgeItems = 3;
constexpr std::int64_t kLineWidth = 80;
constexpr int kPrecision = 4;

// Python's format(value, ".{prec}f" / ".{prec}e"): as printf, except NaN is
// always "nan" (printf may write "-nan").
std::string py_format(double v, char conv, int prec) {
  if (std::isnan(v)) return "nan";
  char buf[512];
  const char fmt[] = {'%', '.', '*', conv, '\0'};
  std::snprintf(buf, sizeof buf, fmt, prec, v);
  return buf;
}

// Reads element values of any storage type by element offset.
struct Reader {
  const Tensor& t;
  double as_double(std::int64_t off) const {
    return detail::dispatch_all(t.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* p = static_cast<const T*>(t.unsafeGetTensorImpl()->data());
      if constexpr (std::is_same_v<T, bool>) return p[off] ? 1.0 : 0.0;
      else return detail::to_double_value(p[off]);
    });
  }
  std::string as_integer_text(std::int64_t off) const {
    if (t.dtype() == kBool)
      return static_cast<const bool*>(t.unsafeGetTensorImpl()->data())[off] ? "True" : "False";
    if (t.dtype() == kInt)
      return std::to_string(static_cast<const std::int32_t*>(t.unsafeGetTensorImpl()->data())[off]);
    return std::to_string(static_cast<const std::int64_t*>(t.unsafeGetTensorImpl()->data())[off]);
  }
};

// The indices printed along a dimension of size n: all, or the first and
// last kEdgeItems when summarising.
std::vector<std::int64_t> shown(std::int64_t n, bool summarize) {
  std::vector<std::int64_t> idx;
  if (summarize && n > 2 * kEdgeItems) {
    for (std::int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
    for (std::int64_t i = n - kEdgeItems; i < n; ++i) idx.push_back(i);
  } else {
    for (std::int64_t i = 0; i < n; ++i) idx.push_back(i);
  }
  return idx;
}

// Offsets of every element that is printed, in row-major order.
void collect(const Tensor& t, std::size_t d, std::int64_t off, bool summarize,
             std::vector<std::int64_t>& out) {
  if (d == static_cast<std::size_t>(t.dim())) {
    out.push_back(off);
    return;
  }
  for (std::int64_t i : shown(t.sizes()[d], summarize))
    collect(t, d + 1, off + i * t.strides()[d], summarize, out);
}

// _Formatter of torch/_tensor_str.py.
class Formatter {
 public:
  Formatter(const Reader& r, const std::vector<std::int64_t>& offsets)
      : reader_(r), floating_(r.t.is_floating_point()) {
    if (!floating_) {
      for (auto off : offsets) width_ = std::max(width_, r.as_integer_text(off).size());
      return;
    }
    std::vector<double> vals;
    for (auto off : offsets) {
      const double v = r.as_double(off);
      if (std::isfinite(v) && v != 0) vals.push_back(v);
    }
    if (vals.empty()) return;
    double lo = std::fabs(vals[0]), hi = lo;
    for (double v : vals) {
      lo = std::min(lo, std::fabs(v));
      hi = std::max(hi, std::fabs(v));
      if (v != std::ceil(v)) int_mode_ = false;
    }
    if (int_mode_) {
      if (hi / lo > 1000.0 || hi > 1.0e8) {
        sci_mode_ = true;
        for (double v : vals) width_ = std::max(width_, py_format(v, 'e', kPrecision).size());
      } else {
        for (double v : vals) width_ = std::max(width_, py_format(v, 'f', 0).size() + 1);
      }
    } else if (hi / lo > 1000.0 || hi > 1.0e8 || lo < 1.0e-4) {
      sci_mode_ = true;
      for (double v : vals) width_ = std::max(width_, py_format(v, 'e', kPrecision).size());
    } else {
      for (double v : vals) width_ = std::max(width_, py_format(v, 'f', kPrecision).size());
    }
  }

  std::size_t width() const { return width_; }

  std::string format(std::int64_t off) const {
    std::string s;
    if (!floating_) {
      s = reader_.as_integer_text(off);
    } else {
      const double v = reader_.as_double(off);
      if (sci_mode_) {
        s = py_format(v, 'e', kPrecision);
      } else if (int_mode_) {
        s = py_format(v, 'f', 0);
        if (std::isfinite(v)) s += ".";
      } else {
        s = py_format(v, 'f', kPrecision);
      }
    }
    if (s.size() < width_) s.insert(0, width_ - s.size(), ' ');
    return s;
  }

 private:
  const Reader& reader_;
  bool floating_;
  bool int_mode_ = true;
  bool sci_mode_ = false;
  std::size_t width_ = 1;
};

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string s;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) s += sep;
    s += parts[i];
  }
  return s;
}

std::string bracket(const std::string& inner) {
  std::string s;
  s.reserve(inner.size() + 2);
  s += '[';
  s += inner;
  s += ']';
  return s;
}

// _vector_str: one dimension, wrapped to the line width.
std::string vector_str(const Tensor& t, std::int64_t off, std::int64_t indent, bool summarize,
                       const Formatter& f) {
  const std::size_t d = static_cast<std::size_t>(t.dim()) - 1;
  const std::int64_t n = t.sizes()[d], stride = t.strides()[d];
  const auto element_length = static_cast<std::int64_t>(f.width()) + 2;
  const std::int64_t per_line = std::max<std::int64_t>(1, (kLineWidth - indent) / element_length);
  std::vector<std::string> data;
  const bool cut = summarize && n > 2 * kEdgeItems;
  for (std::int64_t i : shown(n, summarize)) {
    if (cut && i == n - kEdgeItems) data.push_back(" ...");
    data.push_back(f.format(off + i * stride));
  }
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < data.size(); i += static_cast<std::size_t>(per_line)) {
    const auto end = std::min(data.size(), i + static_cast<std::size_t>(per_line));
    lines.push_back(join(std::vector<std::string>(data.begin() + static_cast<std::ptrdiff_t>(i),
                                                  data.begin() + static_cast<std::ptrdiff_t>(end)),
                         ", "));
  }
  std::string sep = ",\n";
  sep.append(static_cast<std::size_t>(indent + 1), ' ');
  return bracket(join(lines, sep));
}

// _tensor_str_with_formatter, for the sub-tensor from dimension d at offset off.
std::string tensor_str(const Tensor& t, std::size_t d, std::int64_t off, std::int64_t indent,
                       bool summarize, const Formatter& f) {
  const std::size_t rank = static_cast<std::size_t>(t.dim());
  if (rank == 0) return f.format(off);
  if (d == rank - 1) return vector_str(t, off, indent, summarize, f);
  const std::int64_t n = t.sizes()[d], stride = t.strides()[d];
  const bool cut = summarize && n > 2 * kEdgeItems;
  std::vector<std::string> slices;
  for (std::int64_t i : shown(n, summarize)) {
    if (cut && i == n - kEdgeItems) slices.push_back("...");
    slices.push_back(tensor_str(t, d + 1, off + i * stride, indent + 1, summarize, f));
  }
  const std::size_t remaining = rank - d;  // the sub-tensor's dim
  std::string sep = ",";
  sep.append(remaining - 1, '\n');
  sep.append(static_cast<std::size_t>(indent + 1), ' ');
  return bracket(join(slices, sep));
}

std::string tuple_string(IntArrayRef shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "[ Tensor (undefined) ]";
  const std::string prefix = "tensor(";
  const auto indent = static_cast<std::int64_t>(prefix.size());
  std::vector<std::string> suffixes;
  std::string body;
  const ScalarType dt = t.dtype();
  const std::string dtype_suffix = std::string("dtype=sigma.") + to_string(dt);
  if (t.numel() == 0) {
    if (t.dim() != 1) suffixes.push_back("size=" + tuple_string(t.sizes()));
    if (dt != get_default_dtype()) suffixes.push_back(dtype_suffix);
    body = "[]";
  } else {
    if (dt != get_default_dtype() && dt != kLong && dt != kBool) suffixes.push_back(dtype_suffix);
    const bool summarize = t.numel() > kThreshold;
    const Reader reader{t};
    std::vector<std::int64_t> offsets;
    collect(t, 0, 0, summarize, offsets);
    const Formatter f(reader, offsets);
    body = tensor_str(t, 0, 0, indent, summarize, f);
  }
  if (auto fn = t.grad_fn()) suffixes.push_back("grad_fn=<" + fn->name() + ">");
  else if (t.requires_grad()) suffixes.push_back("requires_grad=True");

  // _add_suffixes: a suffix that would pass the line width starts a new line.
  std::string out = prefix + body;
  const auto nl = out.rfind('\n');
  std::int64_t last_line_len = static_cast<std::int64_t>(out.size()) -
                               (nl == std::string::npos ? -1 : static_cast<std::int64_t>(nl)) + 1;
  for (const std::string& s : suffixes) {
    const auto len = static_cast<std::int64_t>(s.size());
    if (last_line_len + len + 2 > kLineWidth) {
      out += ",\n" + std::string(static_cast<std::size_t>(indent), ' ') + s;
      last_line_len = indent + len;
    } else {
      out += ", " + s;
      last_line_len += len + 2;
    }
  }
  out += ")";
  return os << out;
}

}  // namespace sigma
