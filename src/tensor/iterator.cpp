// iterator.cpp: TensorIterator's checks, promotion, broadcasting and output
// handling (see iterator.h).
#include "tensor/iterator.h"

#include <string>

#include "sigma/error.h"
#include "tensor/tensor_impl.h"

namespace sigma::detail {

TensorIterator& TensorIterator::add_output(const Tensor& out) {
  check_defined(op_, out, "output");
  given_out_ = out;
  given_ = true;
  return *this;
}

void TensorIterator::throw_too_many() const {
  throw Error(std::string(op_) + ": an element-wise op takes at most " +
              std::to_string(kMaxOperands) + " operands (internal)");
}

namespace {

// A defined tensor's fields, read without Tensor's out-of-line accessors
// (each a call and a null check; a small op reads a dozen).
const TensorImpl& impl_of(const Tensor& t) noexcept { return *t.unsafeGetTensorImpl(); }
Device device_of(const Tensor& t) noexcept { return impl_of(t).storage->device; }
ScalarType dtype_of(const Tensor& t) noexcept { return impl_of(t).dtype; }
IntArrayRef sizes_of(const Tensor& t) noexcept { return impl_of(t).sizes; }

}  // namespace

TensorIterator& TensorIterator::build() {
  if (inputs_.empty() || !inputs_[0]->defined())
    throw Error(std::string(op_) + ": an element-wise op needs an input");
  // One device for every operand, and a backend for it.
  device_ = device_of(*inputs_[0]);
  for (std::size_t i = 0; i < inputs_.size(); ++i)
    if (inputs_[i]->defined() && !(device_of(*inputs_[i]) == device_))
      throw Error(std::string(op_) + ": expected every tensor on one device, but the " +
                  names_[0] + " is on " + device_.str() + " and the " + names_[i] + " on " +
                  inputs_[i]->device().str());
  if (given_ && !(given_out_.device() == device_))
    throw Error(std::string(op_) + ": the output is on " + given_out_.device().str() +
                " but the inputs are on " + device_.str());
  check_backend(op_, device_);

  // The dtype the loop computes in.
  ScalarType promoted = dtype_of(*inputs_[0]);
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    if (!inputs_[i]->defined()) continue;
    const ScalarType t = dtype_of(*inputs_[i]);
    if (!all_dtypes_ && !is_floating_point(t) && !promote_integral_)
      throw_dtype(op_, t, "a floating-point dtype");
    if (i > 0) promoted = promote_types(promoted, t);
  }
  if (!all_dtypes_ && !is_floating_point(promoted)) promoted = get_default_dtype();
  dtype_ = forced_dtype_ ? *forced_dtype_ : promoted;
  if (!all_dtypes_ && !is_floating_point(dtype_)) throw_dtype(op_, dtype_, "a floating-point dtype");
  out_dtype_ = bool_out_ ? kBool : dtype_;

  // The shape: the inputs' broadcast, which a given output must have.
  shape_ = sizes_of(*inputs_[0]);
  bool broadcast = false;
  for (std::size_t i = 1; i < inputs_.size(); ++i)
    if (inputs_[i]->defined() && !(sizes_of(*inputs_[i]) == shape_)) {
      broadcast_ = broadcast_shapes(op_, shape_, sizes_of(*inputs_[i]));
      shape_ = broadcast_;
      broadcast = true;
    }
  if (given_) {
    if (!all_dtypes_ && !bool_out_ && !is_floating_point(given_out_.dtype()))
      throw_dtype(op_, given_out_.dtype(), "a floating-point output (the result is written there)");
    if (!(given_out_.sizes() == shape_))
      throw Error(std::string(op_) + ": the output has shape " + shape_string(given_out_.sizes()) +
                  " but the inputs' shape is " + shape_string(shape_) + " (it is not resized)");
  }
  // An input's own shape was checked when it was made; only a broadcast
  // shape is new.
  numel_ = broadcast ? checked_numel(op_, shape_) : impl_of(*inputs_[0]).numel();
  built_ = true;
  return *this;
}

void TensorIterator::check_index(std::size_t i) const {
  if (i >= dense_.size())
    throw Error(std::string(op_) + ": no dense input " + std::to_string(i) + " (internal)");
}

void TensorIterator::check_loop(std::size_t n, bool all_dtypes, bool bool_out) {
  if (!built_) throw Error(std::string(op_) + ": TensorIterator used before build()");
  if (ran_) throw Error(std::string(op_) + ": a TensorIterator runs one loop (internal)");
  if (n != inputs_.size())
    throw Error(std::string(op_) + ": the loop takes " + std::to_string(n) + " inputs, " +
                std::to_string(inputs_.size()) + " given");
  if (all_dtypes != all_dtypes_ || bool_out != bool_out_)
    throw Error(std::string(op_) + ": the loop's dtypes differ from the iterator's (internal)");
  ran_ = true;
}

namespace {

// t seen with shape (which its shape broadcasts to): t itself, or a stride-0
// view without autograd.
Tensor expand_to(const char* op, const Tensor& t, IntArrayRef shape) {
  return t.sizes() == shape ? t : broadcast_to(op, t.detach(), shape);
}

}  // namespace

void TensorIterator::prepare_dense() {
  // Dense inputs of dtype_ (no copy when an input already is one).
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    const Tensor& in = *inputs_[i];
    if (in.defined() && dtype_of(in) == dtype_ && sizes_of(in) == shape_ && impl_of(in).is_contiguous()) {
      dense_.push_back(&in);
      continue;
    }
    if (in.defined()) made_[i] = dense(expand_to(op_, in, shape_), dtype_);
    dense_.push_back(&made_[i]);
  }

  // The output: written directly when it is dense, of dtype_ and either
  // disjoint from every input or exactly one of them (kernels allow y == x).
  out_ = Tensor();
  if (given_ && given_out_.dtype() == dtype_ && given_out_.is_contiguous()) {
    bool direct = true;
    for (const Tensor* d : dense_)
      if (d->defined() && d->is_alias_of(given_out_) && data_of<void>(*d) != data_of<void>(given_out_))
        direct = false;
    if (direct) out_ = given_out_;
  }
  if (!out_.defined()) out_ = make_tensor(shape_, dtype_);
}

bool TensorIterator::prepare_strided(ScalarType ct) {
  // The output: written directly when it has the output dtype, whatever its
  // strides (the loop walks them).
  out_ = given_ && given_out_.dtype() == out_dtype_ ? given_out_ : make_tensor(shape_, out_dtype_);
  bool same = true;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    if (!inputs_[i]->defined())
      throw Error(std::string(op_) + ": the " + names_[i] + " is undefined (internal: optional "
                  "operands are for span loops)");
    same = same && dtype_of(*inputs_[i]) == dtype_;
  }
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    const Tensor& in = *inputs_[i];
    // Read as it is where it already has the dtype and shape: the common
    // case takes no reference (made_[i] stays undefined).
    if (same && sizes_of(in) == shape_) strided_[i] = &in;
    else {
      made_[i] = expand_to(op_, same ? in : cast_data(in, ct), shape_);
      strided_[i] = &made_[i];
    }
    // Another view of the memory written would be overwritten while read:
    // read a copy. The output itself, element for element, is fine.
    const Tensor& v = *strided_[i];
    if (given_ && out_.is_same(given_out_) && v.is_alias_of(out_) &&
        !(v.storage_offset() == out_.storage_offset() && v.sizes() == out_.sizes() &&
          v.strides() == out_.strides())) {
      Tensor c = make_tensor(v.sizes(), v.dtype());
      copy_elements(c, v);
      made_[i] = std::move(c);
      strided_[i] = &made_[i];
    }
  }
  return same;
}

void TensorIterator::finish() {
  if (!given_) return;
  if (!out_.is_same(given_out_)) copy_elements(given_out_, out_);
  bump_version(given_out_);
}

}  // namespace sigma::detail
