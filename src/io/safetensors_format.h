// safetensors_format.h: the safetensors layout, parsed, validated and written
// as plain records, without tensors (internal). Header-only, so the loader's
// fuzzer (tests/fuzz/) builds it with nlohmann-json alone.
//
// A file is an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON
//   {"__metadata__": {"format": "pt"},
//    "fc.weight": {"dtype": "F32", "shape": [32, 30], "data_offsets": [0, 3840]}, ...}
// padded with spaces, then the data section: each tensor's elements, row-major
// and little-endian, at [begin, end) counted from the start of the section.
// The tensors cover the section exactly: no gaps, no overlaps, no trailing
// bytes (as the reference implementation, huggingface/safetensors, demands).
//
// Parsing trusts nothing: every length, offset and size is checked before it
// is used, integer arithmetic cannot overflow, and every problem is a
// sigma::Error naming where it came from ("load_tensors: 'model.safetensors'")
// and what is wrong. The JSON goes through nlohmann's SAX interface, so no
// document tree is built and duplicate names are seen.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sigma/error.h"
#include "sigma/scalar_type.h"

namespace sigma::safetensors {

inline constexpr std::uint64_t kPrefixSize = 8;
// The reference implementation's limit on N.
inline constexpr std::uint64_t kMaxHeaderSize = 100'000'000;
// sigma's limit on the elements of a tensor (as checked_numel): the product
// of the non-zero sizes stays below 2^63 / 16, so byte counts and strides fit.
inline constexpr std::uint64_t kMaxElements =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / 16;
inline constexpr std::string_view kMetadataKey = "__metadata__";

struct TensorRecord {
  std::string name;
  ScalarType dtype = kFloat;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // byte offsets in the data section, [begin, end)
  std::uint64_t end = 0;
};

struct Header {
  std::vector<TensorRecord> tensors;  // in the order of the JSON header
  std::vector<std::pair<std::string, std::string>> metadata;
};

// ---- dtypes: the safetensors names of sigma's six element types.

inline const char* dtype_name(ScalarType t) noexcept {
  switch (t) {
    case kFloat:
      return "F32";
    case kDouble:
      return "F64";
    case kBFloat16:
      return "BF16";
    case kHalf:
      return "F16";
    case kLong:
      return "I64";
    case kBool:
      return "BOOL";
    case kInt:
      return "I32";
  }
  return "?";
}

inline std::optional<ScalarType> dtype_from_name(std::string_view name) noexcept {
  for (ScalarType t : {kFloat, kDouble, kBFloat16, kHalf, kLong, kBool, kInt})
    if (name == dtype_name(t)) return t;
  return std::nullopt;
}

inline std::uint64_t dtype_size(ScalarType t) noexcept {
  switch (t) {
    case kFloat:
    case kInt:
      return 4;
    case kDouble:
    case kLong:
      return 8;
    case kBFloat16:
    case kHalf:
      return 2;
    case kBool:
      return 1;
  }
  return 1;
}

// ---- Little-endian integers.

inline std::uint64_t load_u64_le(const unsigned char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline void append_u64_le(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Swaps each element of a buffer between the host's byte order and little
// endian (nothing to do on little-endian hosts).
inline void host_to_little_endian(void* data, std::uint64_t count, std::uint64_t element_size) {
  if constexpr (std::endian::native == std::endian::little) {
    (void)data, (void)count, (void)element_size;
  } else {
    auto* p = static_cast<unsigned char*>(data);
    for (std::uint64_t i = 0; i < count; ++i, p += element_size)
      std::reverse(p, p + element_size);
  }
}

namespace detail {

inline std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// "[begin, end]" (built by appending: g++ 12 misreports -Wrestrict on
// "[" + std::to_string(...)).
inline std::string offsets_text(std::uint64_t begin, std::uint64_t end, char close = ']') {
  std::string s(1, '[');
  s += std::to_string(begin);
  s += ", ";
  s += std::to_string(end);
  s += close;
  return s;
}

// A name from the file, quoted and cut short so a hostile name cannot bloat
// the message.
inline std::string quote_name(std::string_view name) {
  constexpr std::size_t kMax = 80;
  if (name.size() <= kMax) return "'" + std::string(name) + "'";
  return "'" + std::string(name.substr(0, kMax)) + "...'";
}

// nlohmann SAX handler for the header object. Every event either advances
// the expected structure or throws; values of unknown tensor fields are
// skipped (the reference implementation ignores them too).
class HeaderHandler {
 public:
  using number_integer_t = nlohmann::json::number_integer_t;
  using number_unsigned_t = nlohmann::json::number_unsigned_t;
  using number_float_t = nlohmann::json::number_float_t;
  using string_t = nlohmann::json::string_t;
  using binary_t = nlohmann::json::binary_t;

  explicit HeaderHandler(const std::string& where) : where_(where) {}
  Header take() { return std::move(header_); }

  bool null() { return unexpected("null"); }
  bool boolean(bool) { return unexpected("a boolean"); }
  bool number_integer(number_integer_t v) {
    // Only values written with a '-' get here; "-0" is zero.
    if (in_number_list() && v == 0) return number_unsigned(0);
    if (in_number_list()) fail_field("must hold non-negative integers, got " + std::to_string(v));
    return unexpected("a number");
  }
  bool number_unsigned(number_unsigned_t v) {
    if (state() == State::Shape) {
      if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        fail_field("size " + std::to_string(v) + " is too large");
      current().shape.push_back(static_cast<std::int64_t>(v));
      return true;
    }
    if (state() == State::Offsets) {
      if (offsets_seen_ == 0) current().begin = v;
      if (offsets_seen_ == 1) current().end = v;
      if (++offsets_seen_ > 2) fail_field("must be [begin, end], got more than two numbers");
      return true;
    }
    return unexpected("a number");
  }
  bool number_float(number_float_t, const string_t& text) {
    if (in_number_list()) fail_field("must hold non-negative integers, got " + text);
    return unexpected("a number");
  }
  bool string(string_t& s) {
    if (state() == State::Metadata) {
      header_.metadata.emplace_back(std::move(key_), std::move(s));
      return true;
    }
    if (state() == State::Tensor && field_ == Field::Dtype) {
      const std::optional<ScalarType> t = dtype_from_name(s);
      if (!t)
        fail_tensor("dtype " + quote_name(s) +
                    " is not supported (sigma reads F32, F64, BF16, F16, I64 and BOOL)");
      current().dtype = *t;
      return true;
    }
    return unexpected("a string");
  }
  bool binary(binary_t&) { return unexpected("binary data"); }

  bool start_object(std::size_t) {
    switch (state()) {
      case State::Top:
        push(State::Root);
        return true;
      case State::Root:
        if (key_ == kMetadataKey) {
          push(State::Metadata);
        } else {
          header_.tensors.push_back({});
          current().name = std::move(key_);
          seen_fields_ = 0;
          push(State::Tensor);
        }
        return true;
      case State::Tensor:
        if (field_ == Field::Unknown) return skip();
        return unexpected("an object");
      case State::Skip:
        return skip();
      default:
        return unexpected("an object");
    }
  }
  bool start_array(std::size_t) {
    if (state() == State::Tensor && field_ == Field::Shape) {
      current().shape.clear();
      push(State::Shape);
      return true;
    }
    if (state() == State::Tensor && field_ == Field::Offsets) {
      offsets_seen_ = 0;
      push(State::Offsets);
      return true;
    }
    if ((state() == State::Tensor && field_ == Field::Unknown) || state() == State::Skip)
      return skip();
    return unexpected("an array");
  }
  bool end_object() {
    if (state() == State::Skip) return unskip();
    if (state() == State::Tensor) {
      for (auto [bit, field] : {std::pair{kDtype, "dtype"}, std::pair{kShape, "shape"},
                                std::pair{kOffsets, "data_offsets"}})
        if (!(seen_fields_ & bit)) fail_tensor(std::string("field '") + field + "' is missing");
    }
    stack_.pop_back();
    return true;
  }
  bool end_array() {
    if (state() == State::Skip) return unskip();
    if (state() == State::Offsets && offsets_seen_ != 2)
      fail_field("must be [begin, end], got " + std::to_string(offsets_seen_) + " number(s)");
    stack_.pop_back();
    return true;
  }
  bool key(string_t& k) {
    switch (state()) {
      case State::Root:
        if (!names_.insert(k).second) fail("the name " + quote_name(k) + " appears twice");
        key_ = std::move(k);
        return true;
      case State::Metadata:
        if (!metadata_keys_.insert(k).second)
          fail("__metadata__ key " + quote_name(k) + " appears twice");
        key_ = std::move(k);
        return true;
      case State::Tensor: {
        field_ = k == "dtype" ? Field::Dtype
                 : k == "shape" ? Field::Shape
                 : k == "data_offsets" ? Field::Offsets
                                       : Field::Unknown;
        const unsigned bit = field_ == Field::Dtype    ? kDtype
                             : field_ == Field::Shape  ? kShape
                             : field_ == Field::Offsets ? kOffsets
                                                        : 0u;
        if (seen_fields_ & bit) fail_tensor("field '" + k + "' appears twice");
        seen_fields_ |= bit;
        return true;
      }
      default:  // keys inside skipped values
        return true;
    }
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::json::exception& e) {
    std::string what = e.what();
    if (what.size() > 200) what = what.substr(0, 200) + "...";
    fail("the header is not valid JSON (at byte " + std::to_string(position) + "): " + what);
  }

 private:
  enum class State { Top, Root, Tensor, Metadata, Shape, Offsets, Skip };
  enum class Field { Dtype, Shape, Offsets, Unknown };
  static constexpr unsigned kDtype = 1, kShape = 2, kOffsets = 4;

  State state() const noexcept { return stack_.empty() ? State::Top : stack_.back(); }
  void push(State s) { stack_.push_back(s); }
  TensorRecord& current() { return header_.tensors.back(); }
  bool in_number_list() const noexcept {
    return state() == State::Shape || state() == State::Offsets;
  }
  bool skip() {
    if (state() != State::Skip) push(State::Skip);
    ++skip_depth_;
    return true;
  }
  bool unskip() {
    if (--skip_depth_ == 0) stack_.pop_back();
    return true;
  }
  const char* field_name() const noexcept {
    return field_ == Field::Dtype ? "dtype" : field_ == Field::Shape ? "shape" : "data_offsets";
  }

  // A value (`what`: "a string", "an array", ...) the state does not expect:
  // ignored inside skipped values and unknown tensor fields, an error
  // anywhere else.
  bool unexpected(const char* what) {
    switch (state()) {
      case State::Top:
        fail(std::string("the header must be a JSON object, got ") + what);
      case State::Root:
        if (key_ == kMetadataKey) fail(std::string("__metadata__ must be an object, got ") + what);
        fail("entry " + quote_name(key_) + " must be an object, got " + what);
      case State::Metadata:
        fail("__metadata__ value " + quote_name(key_) + " must be a string, got " + what);
      case State::Tensor:
        if (field_ == Field::Unknown) return true;  // an ignored scalar field
        if (field_ == Field::Dtype) fail_field(std::string("must be a string, got ") + what);
        fail_field(std::string("must be an array of integers, got ") + what);
      case State::Shape:
      case State::Offsets:
        fail_field(std::string("must hold non-negative integers, got ") + what);
      case State::Skip:
        return true;
    }
    return true;
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(where_ + ": " + problem);
  }
  [[noreturn]] void fail_tensor(const std::string& problem) const {
    fail("tensor " + quote_name(header_.tensors.back().name) + ": " + problem);
  }
  [[noreturn]] void fail_field(const std::string& problem) const {
    fail_tensor(std::string("'") + field_name() + "' " + problem);
  }

  const std::string& where_;
  Header header_;
  std::vector<State> stack_;
  std::unordered_set<std::string> names_;
  std::unordered_set<std::string> metadata_keys_;
  std::string key_;
  Field field_ = Field::Unknown;
  unsigned seen_fields_ = 0;
  int offsets_seen_ = 0;
  std::uint64_t skip_depth_ = 0;
};

}  // namespace detail

// ---- Reading.

// N from the first 8 bytes of a file of file_size bytes, checked against the
// file size and the 100 MB limit.
inline std::uint64_t read_header_size(const unsigned char* prefix, std::uint64_t file_size,
                                      const std::string& where) {
  if (file_size < kPrefixSize)
    throw Error(where + ": the file has " + std::to_string(file_size) +
                " bytes, too few for the 8-byte header length");
  const std::uint64_t n = load_u64_le(prefix);
  if (n > kMaxHeaderSize)
    throw Error(where + ": header length " + std::to_string(n) + " exceeds the limit of " +
                std::to_string(kMaxHeaderSize) + " bytes");
  if (n > file_size - kPrefixSize)
    throw Error(where + ": header length " + std::to_string(n) + " runs past the end of the " +
                std::to_string(file_size) + "-byte file");
  return n;
}

// Parses the JSON header and checks every tensor against a data section of
// data_size bytes: sizes, dtypes, offsets in bounds, byte counts matching the
// shapes, and an exact cover of the section.
inline Header parse_header(std::string_view json, std::uint64_t data_size,
                           const std::string& where) {
  detail::HeaderHandler handler(where);
  nlohmann::json::sax_parse(json.begin(), json.end(), &handler,
                            nlohmann::json::input_format_t::json, /*strict=*/true);
  Header header = handler.take();

  for (const TensorRecord& t : header.tensors) {
    auto fail = [&](const std::string& problem) {
      throw Error(where + ": tensor " + detail::quote_name(t.name) + ": " + problem);
    };
    std::uint64_t numel = 1, nonzero = 1;
    for (std::int64_t s : t.shape) {
      const auto size = static_cast<std::uint64_t>(s);
      if (size == 0) {
        numel = 0;
        continue;
      }
      if (nonzero > kMaxElements / size)
        fail("shape " + detail::shape_text(t.shape) + " has too many elements");
      nonzero *= size;
    }
    if (numel != 0) numel = nonzero;
    auto offsets = [&] { return "data_offsets " + detail::offsets_text(t.begin, t.end); };
    if (t.begin > t.end) fail(offsets() + " end before they begin");
    if (t.end > data_size)
      fail(offsets() + " run past the " + std::to_string(data_size) + "-byte data section");
    const std::uint64_t nbytes = numel * dtype_size(t.dtype);  // < 2^63: see kMaxElements
    if (t.end - t.begin != nbytes)
      fail(offsets() + " hold " + std::to_string(t.end - t.begin) +
           " bytes, but shape " + detail::shape_text(t.shape) + " of " + dtype_name(t.dtype) +
           " needs " + std::to_string(nbytes));
  }

  // The exact cover: in offset order each tensor starts where the previous
  // one ended, and the last ends with the section.
  std::vector<const TensorRecord*> order;
  order.reserve(header.tensors.size());
  for (const TensorRecord& t : header.tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorRecord* a, const TensorRecord* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t covered = 0;
  const TensorRecord* previous = nullptr;
  for (const TensorRecord* t : order) {
    if (t->begin < covered)
      throw Error(where + ": tensors " + detail::quote_name(previous->name) + " " +
                  detail::offsets_text(previous->begin, previous->end, ')') + " and " +
                  detail::quote_name(t->name) + " " +
                  detail::offsets_text(t->begin, t->end, ')') + " overlap in the data section");
    if (t->begin > covered)
      throw Error(where + ": the data section has a gap: bytes " +
                  detail::offsets_text(covered, t->begin, ')') + " belong to no tensor (" +
                  (previous ? "after " + detail::quote_name(previous->name) + ", " : std::string()) +
                  "before " + detail::quote_name(t->name) + ")");
    covered = t->end;
    previous = t;
  }
  if (covered != data_size)
    throw Error(where + ": the tensors cover " + std::to_string(covered) +
                " bytes but the data section has " + std::to_string(data_size) +
                " (trailing bytes after the last tensor)");
  return header;
}

// A whole file in memory: the length prefix, the header, the data section.
inline Header parse(std::span<const unsigned char> file, const std::string& where) {
  const std::uint64_t n = read_header_size(file.data(), file.size(), where);
  const auto* json = reinterpret_cast<const char*>(file.data() + kPrefixSize);
  return parse_header(std::string_view(json, n), file.size() - kPrefixSize - n, where);
}

// ---- Writing.

// Gives the records consecutive offsets from 0, in order; returns the size of
// the data section.
inline std::uint64_t lay_out(std::vector<TensorRecord>& tensors) {
  std::uint64_t offset = 0;
  for (TensorRecord& t : tensors) {
    std::uint64_t numel = 1;
    for (std::int64_t s : t.shape) numel *= static_cast<std::uint64_t>(s);
    t.begin = offset;
    t.end = offset += numel * dtype_size(t.dtype);
  }
  return offset;
}

// The 8-byte length and the JSON header, padded with spaces so the data
// section starts at a multiple of 8. nlohmann::json::exception (type_error)
// if a name or metadata string is not valid UTF-8.
inline std::string encode_header(const std::vector<TensorRecord>& tensors,
                                 const std::vector<std::pair<std::string, std::string>>& metadata) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) m[key] = value;
    j[std::string(kMetadataKey)] = std::move(m);
  }
  for (const TensorRecord& t : tensors) {
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = dtype_name(t.dtype);
    entry["shape"] = t.shape;
    entry["data_offsets"] = std::vector<std::uint64_t>{t.begin, t.end};
    j[t.name] = std::move(entry);
  }
  std::string json = j.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(kPrefixSize + json.size());
  append_u64_le(out, json.size());
  out += json;
  return out;
}

}  // namespace sigma::safetensors
