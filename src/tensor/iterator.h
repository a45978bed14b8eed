// iterator.h: the element-wise pipeline's front end (internal), after
// LibTorch's TensorIterator.
//
// It turns tensors into what kernels take (pointers and counts): it checks
// the operands (defined, one device), decides the dtype the kernel runs in
// (the inputs' promoted type; integral inputs become the default dtype where
// the op allows it), broadcasts the inputs to one shape, makes each a dense
// span of that dtype (no copy when it already is one), and provides the
// output: a new tensor, or a given one (in-place ops, out=) written directly
// when the loop can and through a temporary otherwise. After the loop ran,
// a temporary is copied back and the given output's version bumped.
//
// Two loops, one front end:
//  - for_each_span<N>(f): the inputs made dense spans of the compute dtype,
//    for the SIMD kernels of the kernel table (src/kernels/table.h);
//  - for_each_element<N, types, out>(maker): a scalar lambda per element over
//    the broadcast (stride-0) views, no copies, for the arithmetic,
//    comparison and math ops; maker(TypeTag<C>{}) returns the lambda on the
//    compute type C (float for bf16/f16), each result rounded once.
//
//   TensorIterator it("sigmoid");
//   it.add_input(x).promote_integer_inputs_to_float().build();
//   it.for_each_span<1>([](auto tag, auto y, auto x) { ... });
//   return it.output();
#pragma once

#include <array>
#include <cstddef>
#include <new>
#include <optional>
#include <tuple>
#include <type_traits>
#include <span>
#include <utility>
#include <vector>

#include "sigma/device.h"
#include "sigma/tensor.h"
#include "tensor/convert.h"
#include "tensor/dense.h"
#include "tensor/loops.h"

namespace sigma::detail {

template <class T, class> using first_t = T;

// Which compute dtypes an element loop accepts, and whether it writes that
// dtype or bool.
enum class Types { Floating, All };
enum class Out { Same, Bool };

// The storage type's C++ type, for the compute dtypes a loop accepts.
template <Types types, class F> decltype(auto) dispatch_common(const char* op, ScalarType t, F&& f) {
  return dispatch_dtype<types == Types::Floating ? Dtypes::Floating : Dtypes::Storage>(
      op, t, std::forward<F>(f));
}

// map_elements, with two fast paths: small contiguous operands in a plain
// loop (too small to split across threads), and broadcast operands whose
// innermost dimension is dense (a bias row added to every row) in a
// vectorisable inner loop.
template <class O, class... I, std::size_t... Js, class F, class... Ts>
void map_fast_impl(std::index_sequence<Js...>, const Tensor& out, const F& f, const Ts&... in) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  const bool contiguous = out.is_contiguous() && (in.is_contiguous() && ...);
  if (contiguous && n >= kParallelGrain) {
    map_elements<O, I...>(out, f, in...);
    return;
  }
  O* o = data_of<O>(out);
  const std::tuple<const I*...> p{data_of<const I>(in)...};
  if (contiguous) {
    for (std::int64_t i = 0; i < n; ++i) o[i] = f(std::get<Js>(p)[i]...);
    return;
  }
  constexpr std::size_t K = sizeof...(I) + 1;
  const std::array<const std::int64_t*, K> strides{out.strides().data(), in.strides().data()...};
  strided_loop<K>(out.sizes(), strides,
                  [&](const std::array<std::int64_t, K>& off, const std::array<std::int64_t, K>& st,
                      std::int64_t len) {
                    O* po = o + off[0];
                    if (st[0] == 1 && ((st[Js + 1] == 1) && ...)) {
                      const std::tuple<const I*...> q{std::get<Js>(p) + off[Js + 1]...};
                      for (std::int64_t i = 0; i < len; ++i) po[i] = f(std::get<Js>(q)[i]...);
                    } else {
                      for (std::int64_t i = 0; i < len; ++i)
                        po[i * st[0]] = f(std::get<Js>(p)[off[Js + 1] + i * st[Js + 1]]...);
                    }
                  });
}
template <class O, class... I, class F, class... Ts>
void map_fast(const Tensor& out, const F& f, const Ts&... in) {
  map_fast_impl<O, I...>(std::index_sequence_for<I...>{}, out, f, in...);
}

// A fixed-capacity list of an op's operands, so that building an iterator
// allocates nothing but its output (per-op overhead, docs/PERFORMANCE.md).
// A list of pointers leaves its unused slots uninitialised: zeroing them
// took a `rep stos` per list, 5% of a 64-element add.
inline constexpr std::size_t kMaxOperands = 6;
template <class T> class OperandList {
  static_assert(std::is_trivially_copyable_v<T>, "a list of pointers");

 public:
  void push_back(T v) { items_[n_++] = v; }
  std::size_t size() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }
  bool full() const noexcept { return n_ == kMaxOperands; }
  T& operator[](std::size_t i) noexcept { return items_[i]; }
  const T& operator[](std::size_t i) const noexcept { return items_[i]; }
  const T* begin() const noexcept { return items_.data(); }
  const T* end() const noexcept { return items_.data() + n_; }

 private:
  std::array<T, kMaxOperands> items_;
  std::size_t n_ = 0;
};

// Tensors an iterator owns, constructed as they come: six default Tensors up
// front were zeroed by a `rep stos` on every op (1.5% of a 64-element add's
// profile).
class OperandTensors {
 public:
  OperandTensors() noexcept {}  // NOLINT: the slots stay unconstructed
  ~OperandTensors() {
    for (std::size_t i = 0; i < n_; ++i) items_[i].~Tensor();
  }
  OperandTensors(const OperandTensors&) = delete;
  OperandTensors& operator=(const OperandTensors&) = delete;
  // The caller checks the capacity (at most one per operand).
  Tensor& push_back(Tensor t = Tensor()) noexcept {
    return *::new (static_cast<void*>(&items_[n_++])) Tensor(std::move(t));
  }
  Tensor& operator[](std::size_t i) noexcept { return items_[i]; }
  const Tensor& operator[](std::size_t i) const noexcept { return items_[i]; }

 private:
  union {
    Tensor items_[kMaxOperands];
  };
  std::size_t n_ = 0;
};

class TensorIterator {
 public:
  explicit TensorIterator(const char* op) : op_(op) {}
  // shape() may refer into the iterator itself.
  TensorIterator(const TensorIterator&) = delete;
  TensorIterator& operator=(const TensorIterator&) = delete;

  // Write the result into out (shape fixed: the inputs must broadcast to it;
  // its dtype must be floating) instead of a new tensor.
  TensorIterator& add_output(const Tensor& out);
  // what names the operand in errors ("input", "target", "grad_output").
  // A named tensor is referred to, not copied (a copy is two atomic
  // reference-count operations, and a small op has few to spare), so it must
  // outlive the iterator; a temporary is moved in and kept.
  TensorIterator& add_input(const Tensor& in, const char* what = "input") {
    check_defined(op_, in, what);
    add(&in, what);
    return *this;
  }
  TensorIterator& add_input(Tensor&& in, const char* what = "input") {
    check_defined(op_, in, what);
    add(nullptr, what);
    keep_last(std::move(in));
    return *this;
  }
  // An operand the kernel may go without (a loss's weight): when undefined
  // it takes no part in the checks and its span is empty. Span loop only.
  // Kept as a copy, so a temporary is fine.
  TensorIterator& add_optional_input(const Tensor& in, const char* what) {
    add(nullptr, what);
    keep_last(in);
    return *this;
  }
  // int64 and bool inputs compute in the default dtype (PyTorch's sigmoid,
  // tanh); without this they are an error.
  TensorIterator& promote_integer_inputs_to_float(bool on = true) {
    promote_integral_ = on;
    return *this;
  }
  // The dtype to compute in, instead of the inputs' promoted type (a
  // backward computes in its saved tensor's dtype; binary ops pass PyTorch's
  // result_type, which weighs zero-dimensional and scalar operands).
  TensorIterator& compute_dtype(ScalarType t) {
    forced_dtype_ = t;
    return *this;
  }
  // int64 and bool compute as themselves (arithmetic, comparisons); only
  // for_each_element<N, Types::All> runs such an iterator.
  TensorIterator& all_dtypes(bool on = true) {
    all_dtypes_ = on;
    return *this;
  }
  // The output is bool (comparisons); only for_each_element<N, t, Out::Bool>.
  TensorIterator& bool_output(bool on = true) {
    bool_out_ = on;
    return *this;
  }
  // Checks, promotes, broadcasts, densifies and provides the output.
  TensorIterator& build();

  ScalarType dtype() const noexcept { return dtype_; }
  Device device() const noexcept { return device_; }
  IntArrayRef shape() const noexcept { return shape_; }
  std::int64_t numel() const noexcept { return numel_; }
  const char* op() const noexcept { return op_; }

  // Calls f(TypeTag<T>{}, span<T> out, span<const T> in_0, ..., in_{N-1})
  // once over the dense operands, T being the storage type of dtype(), then
  // finish()es. N must be the number of inputs.
  template <std::size_t N, class F> void for_each_span(F&& f) { span_loop<N, true>(f); }
  // for_each_span for kernels that exist in float and double only (the
  // losses): compute_dtype() must be one of them.
  template <std::size_t N, class F> void for_each_compute_span(F&& f) { span_loop<N, false>(f); }

  // out[i] = maker(TypeTag<C>{})(in_0[i], ..., in_{N-1}[i]) over the
  // broadcast shape, then finish()es. types and out_kind must match
  // all_dtypes() and bool_output().
  template <std::size_t N, Types types = Types::Floating, Out out_kind = Out::Same, class Maker>
  void for_each_element(Maker&& maker) {
    check_loop(N, types == Types::All, out_kind == Out::Bool);
    dispatch_common<types>(op_, dtype_, [&](auto tag) {
      using S = typename decltype(tag)::type;
      using C = compute_t<S>;
      using O = std::conditional_t<out_kind == Out::Bool, bool, S>;
      run_elements<S, C, O>(maker(TypeTag<C>{}), std::make_index_sequence<N>{});
    });
    finish();
  }

  // After for_each_span: input i as the kernel read it (dense, of dtype(),
  // broadcast), for a backward to save.
  const Tensor& dense_input(std::size_t i) const {
    check_index(i);
    return *dense_[i];
  }

  // The result: the given output, or the new tensor.
  const Tensor& output() const noexcept { return given_ ? given_out_ : out_; }
  // The same, moved out of the iterator (saves a reference count); the last
  // thing done with it.
  Tensor take_output() noexcept { return given_ ? given_out_ : std::move(out_); }

 private:
  template <std::size_t N, bool with_16bit, class F> void span_loop(F& f) {
    check_loop(N, false, false);
    prepare_dense();
    const auto run = [&](auto tag) {
      run_spans<typename decltype(tag)::type>(f, std::make_index_sequence<N>{});
    };
    dispatch_dtype<with_16bit ? Dtypes::Floating : Dtypes::Compute>(op_, dtype_, run);
    finish();
  }
  template <class T, class F, std::size_t... I> void run_spans(F& f, std::index_sequence<I...>) {
    f(TypeTag<T>{}, out_span<T>(out_), in_span<T>(*dense_[I])...);
  }
  // Inputs of one dtype are read as stored and converted to C per element;
  // mixed ones are cast to C first.
  template <class S, class C, class O, class F, std::size_t... I>
  void run_elements(const F& f, std::index_sequence<I...>) {
    constexpr ScalarType ct = CppTypeToScalarType<C>::value;
    if (prepare_strided(ct)) {
      map_fast<O, first_t<S, decltype(I)>...>(
          out_, [f](first_t<S, decltype(I)>... x) { return convert_value<O>(f(convert_value<C>(x)...)); },
          *strided_[I]...);
    } else {
      map_fast<O, first_t<C, decltype(I)>...>(
          out_, [f](first_t<C, decltype(I)>... x) { return convert_value<O>(f(x...)); },
          *strided_[I]...);
    }
  }
  void check_loop(std::size_t n, bool all_dtypes, bool bool_out);
  void check_index(std::size_t i) const;
  void add(const Tensor* in, const char* what) {
    if (inputs_.full()) throw_too_many();
    inputs_.push_back(in);
    names_.push_back(what);
    made_.push_back();
  }
  [[noreturn]] void throw_too_many() const;
  // The operand just added is t, owned by the iterator (in kept_, not
  // made_: the loops replace made_[i], and shape_ may refer to t's sizes).
  void keep_last(Tensor t) noexcept {
    inputs_[inputs_.size() - 1] = &kept_.push_back(std::move(t));
  }
  void prepare_dense();
  // Fills strided_ and out_; whether every input is read in dtype_ (else
  // they were cast to compute type ct).
  bool prepare_strided(ScalarType ct);
  void finish();

  const char* op_;
  // The operands as added: the caller's tensors, or temporaries and optional
  // operands kept in kept_. Pointers, for the reason add_input gives.
  OperandList<const Tensor*> inputs_;
  OperandTensors kept_;
  OperandList<const char*> names_;
  Tensor given_out_;
  bool given_ = false;
  bool promote_integral_ = false;
  std::optional<ScalarType> forced_dtype_;
  bool all_dtypes_ = false;
  bool bool_out_ = false;
  bool built_ = false;

  ScalarType dtype_ = kFloat;
  Device device_{kCPU};
  IntArrayRef shape_;                       // the first input's sizes, or broadcast_
  std::vector<std::int64_t> broadcast_;     // the broadcast shape, when it differs
  std::int64_t numel_ = 0;
  ScalarType out_dtype_ = kFloat;  // dtype_, or bool
  // What the one loop reads (dense_ for the span loop: the inputs as dense
  // tensors of dtype_; strided_ for the element loop: the inputs viewed with
  // shape_): the inputs themselves where they already are that, else made_[i].
  OperandList<const Tensor*> dense_;
  std::array<const Tensor*, kMaxOperands> strided_;  // the first inputs_.size()
  OperandTensors made_;  // tensors the iterator owns for operand i
  bool ran_ = false;               // a loop ran (only one may: made_ is shared)
  Tensor out_;                     // what the loop writes: given_out_ or a new tensor
};

}  // namespace sigma::detail
