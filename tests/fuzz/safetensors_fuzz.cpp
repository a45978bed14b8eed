// safetensors_fuzz.cpp: libFuzzer target for the safetensors loader's parser
// (src/io/safetensors_format.h), built by `make fuzz` (clang, -DSIGMA_FUZZ=ON).
//
// Any bytes must either throw sigma::Error or parse into records that keep
// the format's promises (sizes match shapes, the tensors cover the data
// section exactly) and that the writer turns back into a header parsing to
// the same records. A crash, a sanitizer report, another exception or a
// broken promise (__builtin_trap) is a bug.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "io/safetensors_format.h"

namespace {

namespace st = sigma::safetensors;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

bool same(const st::Header& a, const st::Header& b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    const st::TensorRecord& x = a.tensors[i];
    const st::TensorRecord& y = b.tensors[i];
    if (x.name != y.name || x.dtype != y.dtype || x.shape != y.shape || x.begin != y.begin ||
        x.end != y.end)
      return false;
  }
  return true;
}

void check_promises(const st::Header& h, std::uint64_t data_size) {
  std::vector<char> covered(data_size, 0);
  for (const st::TensorRecord& t : h.tensors) {
    std::uint64_t numel = 1;
    for (std::int64_t s : t.shape) {
      require(s >= 0);
      numel *= static_cast<std::uint64_t>(s);
    }
    require(t.begin <= t.end && t.end <= data_size);
    require(t.end - t.begin == numel * st::dtype_size(t.dtype));
    for (std::uint64_t i = t.begin; i < t.end; ++i) {
      require(!covered[i]);
      covered[i] = 1;
    }
  }
  for (char c : covered) require(c == 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string where = "fuzz input";
  st::Header header;
  try {
    header = st::parse(std::span<const unsigned char>(data, size), where);
  } catch (const sigma::Error&) {
    return 0;
  }
  const std::uint64_t n = st::load_u64_le(data);
  const std::uint64_t data_size = size - st::kPrefixSize - n;
  check_promises(header, data_size);

  // Whatever was accepted can be written and reads back the same.
  const std::string again = st::encode_header(header.tensors, header.metadata);
  require(again.size() % 8 == 0);
  const std::uint64_t n2 = st::load_u64_le(reinterpret_cast<const unsigned char*>(again.data()));
  require(n2 == again.size() - st::kPrefixSize);
  const st::Header reread =
      st::parse_header(std::string_view(again).substr(st::kPrefixSize), data_size, where);
  require(same(header, reread));
  return 0;
}
