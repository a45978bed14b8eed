// tensor_impl.cpp: storage allocation, tensor geometry and the scalar-type table.
#include "tensor/tensor_impl.h"

#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <limits>
#include <new>
#include <ostream>
#include <sstream>

namespace sigma {

namespace {
constexpr std::size_t kAlignment = 64;

// Large blocks are kept for reuse instead of going back to the C library:
// glibc returns big freed blocks to the OS, and a training loop that
// allocates the same activations every step then pays page faults on every
// step (28% of an LSTM step's time, docs/PERFORMANCE.md). Blocks of at least
// kCacheMin bytes are rounded up to whole pages and cached by size, up to
// kCacheCap bytes in all. Off under AddressSanitizer, so it still sees every
// use after free.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheEnabled = false;
#else
constexpr bool kCacheEnabled = true;
#endif
constexpr std::size_t kCacheMin = std::size_t{1} << 16;
constexpr std::size_t kCacheCap = std::size_t{256} << 20;
constexpr std::size_t kPage = 4096;

class BlockCache {
 public:
  std::byte* take(std::size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(size);
    if (it == free_.end()) return nullptr;
    std::byte* p = it->second;
    free_.erase(it);
    cached_ -= size;
    return p;
  }
  // Keeps p (of the given size) if there is room; false if the caller must free it.
  bool give(std::byte* p, std::size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_ + size > kCacheCap) return false;
    free_.emplace(size, p);
    cached_ += size;
    return true;
  }
 private:
  std::mutex mutex_;
  std::multimap<std::size_t, std::byte*> free_;
  std::size_t cached_ = 0;
};

BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache();  // never destroyed: storages may outlive statics
  return *cache;
}

std::size_t allocation_size(std::size_t n) {
  const std::size_t a = ((n == 0 ? 1 : n) + kAlignment - 1) / kAlignment * kAlignment;
  return a >= kCacheMin ? (a + kPage - 1) / kPage * kPage : a;
}
}  // namespace

namespace {

// A small storage's bytes follow its shared_ptr control block in one malloc:
// a 64-element op otherwise spends about half its time in the allocator, and
// a second block (through the slower aligned_alloc) per tensor was a quarter
// of that. Off under AddressSanitizer, which then sees each buffer as its own
// block, redzones on both sides.
constexpr bool kInlineEnabled = kCacheEnabled;  // both off under AddressSanitizer

// allocate_shared's allocator: the control block, then `extra` bytes from the
// next 64-byte boundary, whose start it writes to *data.
template <class T> struct TrailingBytes {
  using value_type = T;
  TrailingBytes(std::size_t e, std::byte** d) noexcept : extra(e), data(d) {}
  template <class U>
  TrailingBytes(const TrailingBytes<U>& o) noexcept : extra(o.extra), data(o.data) {}  // NOLINT
  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= alignof(std::max_align_t), "malloc must align the control block");
    const std::size_t head = n * sizeof(T);
    auto* p = static_cast<std::byte*>(std::malloc(head + kAlignment - 1 + extra));
    if (p == nullptr) throw std::bad_alloc();
    std::byte* d = p + head;
    *data = d + ((kAlignment - reinterpret_cast<std::uintptr_t>(d) % kAlignment) % kAlignment);
    return reinterpret_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept { std::free(p); }
  template <class U> bool operator==(const TrailingBytes<U>& o) const noexcept {
    return extra == o.extra && data == o.data;
  }

  std::size_t extra;
  std::byte** data;
};

}  // namespace

std::shared_ptr<Storage> make_storage(std::size_t nbytes) {
  const std::size_t size = allocation_size(nbytes);
  if (!kInlineEnabled || size >= kCacheMin) return std::make_shared<Storage>(nbytes);
  std::byte* data = nullptr;
  auto s = std::allocate_shared<Storage>(TrailingBytes<Storage>(size, &data), nbytes,
                                         Storage::InlineBytes{});
  s->data = data;
  return s;
}

Storage::Storage(std::size_t n) : nbytes(n) {
  const std::size_t size = allocation_size(n);
  if (kCacheEnabled && size >= kCacheMin) data = block_cache().take(size);
  if (data == nullptr) data = static_cast<std::byte*>(std::aligned_alloc(kAlignment, size));
  if (data == nullptr) throw std::bad_alloc();
}

Storage::~Storage() {
  if (!owns_data) {
    if (deleter) deleter(data);
    return;
  }
  const std::size_t size = allocation_size(nbytes);
  if (kCacheEnabled && size >= kCacheMin && block_cache().give(data, size)) return;
  std::free(data);
}

const char* to_string(ScalarType t) noexcept {
  switch (t) {
    case kFloat: return "float32";
    case kDouble: return "float64";
    case kBFloat16: return "bfloat16";
    case kHalf: return "float16";
    case kLong: return "int64";
    case kBool: return "bool";
    case kInt: return "int32";
  }
  return "unknown";
}

std::size_t element_size(ScalarType t) noexcept {
  switch (t) {
    case kFloat: return 4;
    case kDouble: return 8;
    case kBFloat16:
    case kHalf: return 2;
    case kLong: return 8;
    case kBool: return 1;
    case kInt: return 4;
  }
  return 1;
}

ScalarType promote_types(ScalarType a, ScalarType b) noexcept {
  if (a == b) return a;
  const bool fa = is_floating_point(a), fb = is_floating_point(b);
  if (fa && fb) {
    if (a == kDouble || b == kDouble) return kDouble;
    return kFloat;  // f32 with a 16-bit type, or bf16 with f16
  }
  if (fa) return a;
  if (fb) return b;
  if (a == kLong || b == kLong) return kLong;
  return kInt;  // int32 with bool
}

std::string shape_string(IntArrayRef shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  s += "]";
  return s;
}

std::ostream& operator<<(std::ostream& os, IntArrayRef shape) { return os << shape_string(shape); }

std::ostream& operator<<(std::ostream& os, ScalarType t) {
  switch (t) {
    case kFloat: return os << "Float";
    case kDouble: return os << "Double";
    case kBFloat16: return os << "BFloat16";
    case kHalf: return os << "Half";
    case kLong: return os << "Long";
    case kBool: return os << "Bool";
    case kInt: return os << "Int";
  }
  return os << "Unknown";
}

std::int64_t TensorImpl::numel() const noexcept {
  std::int64_t n = 1;
  for (std::int64_t s : sizes) n *= s;
  return n;
}

bool TensorImpl::is_contiguous() const noexcept {
  std::int64_t expected = 1;
  for (std::size_t i = sizes.size(); i-- > 0;) {
    if (sizes[i] == 1) continue;
    if (sizes[i] == 0) return true;
    if (strides[i] != expected) return false;
    expected *= sizes[i];
  }
  return true;
}

std::vector<std::int64_t> contiguous_strides(IntArrayRef shape) {
  std::vector<std::int64_t> st(shape.size());
  std::int64_t s = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    st[i] = s;
    s *= shape[i] > 0 ? shape[i] : 1;
  }
  return st;
}

std::int64_t checked_numel(const char* op, IntArrayRef shape) {
  std::int64_t n = 1;
  for (std::int64_t s : shape) {
    if (s < 0)
      throw Error(std::string(op) + ": negative size in shape " + shape_string(shape));
    if (s != 0 && n > std::numeric_limits<std::int64_t>::max() / 16 / s)
      throw Error(std::string(op) + ": shape " + shape_string(shape) + " has too many elements");
    n *= s;
  }
  return n;
}

Tensor make_tensor(IntArrayRef shape, ScalarType dtype) {
  const std::int64_t n = checked_numel("empty", shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = make_storage(static_cast<std::size_t>(n) * element_size(dtype));
  impl->sizes = shape.vec();
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor make_view(const Tensor& base, std::vector<std::int64_t> sizes,
                 std::vector<std::int64_t> strides, std::int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  const TensorImpl* b = base.unsafeGetTensorImpl();
  impl->storage = b->storage;
  impl->offset = offset;
  impl->sizes = std::move(sizes);
  impl->strides = std::move(strides);
  impl->dtype = b->dtype;
  impl->is_view = true;
  return Tensor(std::move(impl));
}

void bump_version(const Tensor& t) {
  t.unsafeGetTensorImpl()->storage->version.fetch_add(1, std::memory_order_relaxed);
}

std::int64_t wrap_dim(const char* op, std::int64_t dim, std::int64_t rank) {
  const std::int64_t r = rank == 0 ? 1 : rank;
  if (dim < -r || dim >= r) {
    std::ostringstream m;
    m << op << ": dimension " << dim << " out of range for a tensor of " << rank
      << (rank == 1 ? " dimension" : " dimensions") << " (expected in [" << -r << ", " << r - 1
      << "])";
    throw Error(m.str());
  }
  return dim < 0 ? dim + r : dim;
}

void throw_undefined(const char* op, const char* what) {
  throw Error(std::string(op) + ": the " + what + " tensor is undefined");
}

}  // namespace sigma
