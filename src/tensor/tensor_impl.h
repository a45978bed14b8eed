// tensor_impl.h: what a Tensor handle points at (internal to the library).
//
// Storage holds the bytes (64-byte aligned) and the version counter that all
// views of it share. TensorImpl is one strided view of a storage plus the
// autograd state of that tensor.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/tensor.h"

namespace sigma {

// The bytes of one or more tensors on a device. The CPU is the only backend:
// a second one would add its allocator here, keyed by the device.
// make_storage() makes them.
struct Storage {
  // nbytes of its own, 64-byte aligned, freed (or cached) by ~Storage.
  explicit Storage(std::size_t nbytes);
  // Bytes that live in the allocation of the Storage's own control block;
  // make_storage() sets data, and ~Storage leaves them alone.
  struct InlineBytes {};
  Storage(std::size_t n, InlineBytes) noexcept : nbytes(n), owns_data(false) {}
  // Someone else's bytes (from_blob): ~Storage calls the deleter, if any,
  // with data, and frees nothing itself.
  struct External {};
  Storage(std::byte* p, std::size_t n, std::function<void(void*)> d, External) noexcept
      : data(p), nbytes(n), owns_data(false), deleter(std::move(d)) {}
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  std::byte* data = nullptr;
  std::size_t nbytes = 0;
  bool owns_data = true;
  std::atomic<std::uint32_t> version{0};
  Device device{kCPU};
  std::function<void(void*)> deleter;
};

// nbytes of uninitialised CPU storage, 64-byte aligned.
std::shared_ptr<Storage> make_storage(std::size_t nbytes);

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  std::int64_t offset = 0;  // in elements
  std::vector<std::int64_t> sizes;
  std::vector<std::int64_t> strides;
  ScalarType dtype = kFloat;

  // Autograd state.
  bool requires_grad = false;  // meaningful for leaves; non-leaves have grad_fn
  Tensor grad;
  std::shared_ptr<autograd::Node> grad_fn;
  std::uint32_t output_nr = 0;
  std::weak_ptr<autograd::Node> grad_accumulator;
  bool retains_grad = false;
  // Set on tensors created as views of another tensor, so in-place ops on a
  // view that is part of a graph can be refused (sigma has no CopySlices).
  bool is_view = false;

  std::int64_t numel() const noexcept;
  bool is_contiguous() const noexcept;
  void* data() const noexcept {
    return storage->data + offset * static_cast<std::int64_t>(element_size(dtype));
  }
};

// sigma::Error naming op unless sigma has a backend for device d (today: the CPU).
void check_backend(const char* op, Device d);

// Contiguous row-major strides for a shape.
std::vector<std::int64_t> contiguous_strides(IntArrayRef shape);
// Product of the sizes; sigma::Error (naming op) on a negative size or overflow.
std::int64_t checked_numel(const char* op, IntArrayRef shape);

// A new contiguous tensor with uninitialised data and no autograd state.
Tensor make_tensor(IntArrayRef shape, ScalarType dtype);
// A view of base's storage with the given geometry; the caller checks bounds.
Tensor make_view(const Tensor& base, std::vector<std::int64_t> sizes,
                 std::vector<std::int64_t> strides, std::int64_t offset);

namespace detail {
// The first element of t as T* (T being t's storage type); nullptr for an
// undefined tensor.
template <class T> T* data_of(const Tensor& t) noexcept {
  return t.defined() ? static_cast<T*>(t.unsafeGetTensorImpl()->data()) : nullptr;
}
}  // namespace detail

// Marks an in-place write: bumps the storage version.
void bump_version(const Tensor& t);

// sigma::Error "op: the <what> tensor is undefined" unless t is defined
// (what: "input", "target", "other", ...). Inline: every op runs it on
// every operand, often twice.
[[noreturn]] void throw_undefined(const char* op, const char* what);
inline void check_defined(const char* op, const Tensor& t, const char* what = "input") {
  if (!t.defined()) throw_undefined(op, what);
}

// Wraps a dimension index (negative counts from the end) for a tensor of
// rank `rank`; sigma::Error naming op otherwise. Rank 0 accepts -1 and 0.
std::int64_t wrap_dim(const char* op, std::int64_t dim, std::int64_t rank);

}  // namespace sigma
