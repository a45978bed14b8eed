// safetensors.cpp: sigma::save / sigma::load / sigma::load_tensors, the
// tensors side of safetensors checkpoints. The layout and every check on it
// live in safetensors_format.h; this file moves bytes between files and
// tensors.
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "io/safetensors.h"

#include "io/atomic_write.h"
#include "io/safetensors_format.h"
#include "sigma/autograd.h"
#include "sigma/serialize.h"
#include "tensor/tensor_impl.h"

namespace sigma {
namespace {

namespace st = safetensors;

std::string where(const char* op, const std::filesystem::path& path) {
  return std::string(op) + ": '" + path.string() + "'";
}

// An open checkpoint whose header has been read and validated.
struct Checkpoint {
  std::ifstream in;
  std::uint64_t data_start = 0;
  st::Header header;
};

Checkpoint open_checkpoint(const char* op, const std::filesystem::path& path) {
  const std::string w = where(op, path);
  std::error_code ec;
  const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(w + ": cannot read the file: " + ec.message());
  Checkpoint c;
  c.in.open(path, std::ios::binary);
  if (!c.in) throw Error(w + ": cannot open the file");
  auto read = [&](char* dst, std::uint64_t n, const char* what) {
    c.in.read(dst, static_cast<std::streamsize>(n));
    if (static_cast<std::uint64_t>(c.in.gcount()) != n)
      throw Error(w + ": the file ended while reading the " + what +
                  " (was it changed while being read?)");
  };
  unsigned char prefix[st::kPrefixSize] = {};
  if (file_size >= st::kPrefixSize)
    read(reinterpret_cast<char*>(prefix), st::kPrefixSize, "header length");
  const std::uint64_t n = st::read_header_size(prefix, file_size, w);
  std::string json(n, '\0');
  read(json.data(), n, "header");
  c.data_start = st::kPrefixSize + n;
  c.header = st::parse_header(json, file_size - c.data_start, w);
  return c;
}

// Reads one tensor's bytes (already validated against the file) into a new
// tensor.
Tensor read_tensor(Checkpoint& c, const st::TensorRecord& r, const std::string& w) {
  Tensor t = make_tensor(r.shape, r.dtype);
  const std::uint64_t nbytes = r.end - r.begin;
  if (nbytes == 0) return t;
  auto* data = static_cast<char*>(t.data_ptr());
  c.in.seekg(static_cast<std::streamoff>(c.data_start + r.begin));
  c.in.read(data, static_cast<std::streamsize>(nbytes));
  if (!c.in || static_cast<std::uint64_t>(c.in.gcount()) != nbytes)
    throw Error(w + ": the file ended while reading tensor " + st::detail::quote_name(r.name) +
                " (was it changed while being read?)");
  const std::uint64_t elem = st::dtype_size(r.dtype);
  st::host_to_little_endian(data, nbytes / elem, elem);
  if (r.dtype == kBool) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(data);
    for (std::uint64_t i = 0; i < nbytes; ++i)
      if (bytes[i] > 1)
        throw Error(w + ": tensor " + st::detail::quote_name(r.name) + ": BOOL element " +
                    std::to_string(i) + " is byte " + std::to_string(bytes[i]) +
                    ", not 0 or 1");
  }
  return t;
}

}  // namespace

namespace io {

TensorFile read_tensors(const char* op, const std::filesystem::path& path) {
  Checkpoint c = open_checkpoint(op, path);
  const std::string w = where(op, path);
  TensorFile out{OrderedDict<std::string, Tensor>("Key"),
                 Metadata(c.header.metadata.begin(), c.header.metadata.end())};
  out.tensors.reserve(c.header.tensors.size());
  for (const st::TensorRecord& r : c.header.tensors)
    out.tensors.insert(r.name, read_tensor(c, r, w));
  return out;
}

void write_tensors(const char* op, const OrderedDict<std::string, Tensor>& tensors,
                   const std::filesystem::path& path, const Metadata& metadata) {
  const std::string w = where(op, path);
  std::vector<st::TensorRecord> records;
  records.reserve(tensors.size());
  for (const auto& item : tensors) {
    if (item.key() == st::kMetadataKey)
      throw Error(w + ": the name '__metadata__' is reserved by the format");
    if (!item->defined()) throw Error(w + ": tensor " + st::detail::quote_name(item.key()) + " is undefined");
    records.push_back({item.key(), item->dtype(), item->sizes().vec(), 0, 0});
  }
  const std::uint64_t data_size = st::lay_out(records);

  std::string bytes;
  try {
    bytes = st::encode_header(records, {metadata.begin(), metadata.end()});
  } catch (const nlohmann::json::exception&) {
    throw Error(w + ": tensor names and metadata must be valid UTF-8");
  }
  const std::size_t data_start = bytes.size();
  bytes.resize(data_start + data_size);
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const st::TensorRecord& r = records[i];
    const Tensor t = tensors[i].value().contiguous();  // no copy when already contiguous
    const std::uint64_t nbytes = r.end - r.begin;
    if (nbytes == 0) continue;
    char* dst = bytes.data() + data_start + r.begin;
    std::memcpy(dst, t.data_ptr(), nbytes);
    const std::uint64_t elem = st::dtype_size(r.dtype);
    st::host_to_little_endian(dst, nbytes / elem, elem);
  }
  detail::write_file_atomic(op, path, bytes);
}

}  // namespace io

void save(const OrderedDict<std::string, Tensor>& tensors, const std::filesystem::path& path,
          const Metadata& metadata) {
  io::write_tensors("save", tensors, path, metadata);
}

void save(const nn::Module& module, const std::filesystem::path& path, const Metadata& metadata) {
  save(module.state_dict(), path, metadata);
}

OrderedDict<std::string, Tensor> load_tensors(const std::filesystem::path& path) {
  return io::read_tensors("load_tensors", path).tensors;
}

Metadata load_metadata(const std::filesystem::path& path) {
  Checkpoint c = open_checkpoint("load_metadata", path);
  return {c.header.metadata.begin(), c.header.metadata.end()};
}

void load(nn::Module& module, const std::filesystem::path& path) {
  const OrderedDict<std::string, Tensor> tensors = io::read_tensors("load", path).tensors;
  try {
    module.load_state_dict(tensors, /*strict=*/true);
  } catch (const Error& e) {
    throw Error(where("load", path) + ": " + e.what());
  }
}

}  // namespace sigma
