// update.h: the element loop the optimizers update parameters with (internal).
//
// update_elements runs f(p, g, s...) on every element in double, where p is
// the parameter's value, g its gradient's and s... the values of state tensors
// of the parameter's shape and dtype; f updates p and s... in place, and each
// is rounded once back to the storage type. One pass over memory, no
// temporaries, no graph: the update is in place on the parameter (its version
// is bumped, so a graph that saved it sees the change).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "sigma/autograd.h"
#include "sigma/ops.h"
#include "tensor/convert.h"
#include "tensor/loops.h"
#include "tensor/tensor_impl.h"

namespace sigma::optim::detail {

// A contiguous tensor of param's shape and dtype, zero-filled: a state buffer.
inline Tensor zero_state(const Tensor& param) {
  Tensor t = make_tensor(param.sizes(), param.dtype());
  std::memset(t.unsafeGetTensorImpl()->data(), 0, t.nbytes());
  return t;
}

// A contiguous tensor of param's shape and dtype, not initialised.
inline Tensor empty_state(const Tensor& param) { return make_tensor(param.sizes(), param.dtype()); }

// Makes a state buffer usable by update_elements for param: of its dtype
// (after a Module::to, say) and contiguous; sigma::Error if the shapes differ.
inline void match_state(const char* op, Tensor& state, const Tensor& param) {
  if (!(state.sizes() == param.sizes()))
    throw Error(std::string(op) + ": a state buffer of shape " + shape_string(state.sizes()) +
                " does not match its parameter of shape " + shape_string(param.sizes()));
  if (state.dtype() != param.dtype() || !state.is_contiguous()) {
    Tensor t = make_tensor(param.sizes(), param.dtype());
    sigma::detail::copy_elements(t, state);
    state = t;
  }
}

template <class T, class F, std::size_t... K>
inline void update_one(T* pp, const T* gp, const std::array<T*, sizeof...(K)>& sp, std::int64_t i,
                       F& f, std::index_sequence<K...>) {
  double pv = sigma::detail::to_double_value(pp[i]);
  const double gv = sigma::detail::to_double_value(gp[i]);
  double sv[sizeof...(K) + 1] = {sigma::detail::to_double_value(sp[K][i])..., 0.0};
  f(pv, gv, sv[K]...);
  pp[i] = sigma::detail::convert_value<T>(pv);
  ((sp[K][i] = sigma::detail::convert_value<T>(sv[K])), ...);
}

// The update loop's grain (docs/PERFORMANCE.md, "Threads"): a range of
// elements one thread updates is at least this long.
inline constexpr std::int64_t kUpdateGrain = std::int64_t{1} << 11;

template <class F, class... S>
void update_elements(const char* op, const Tensor& param, const Tensor& grad, F&& f,
                     const S&... states) {
  if (!(grad.sizes() == param.sizes()))
    throw Error(std::string(op) + ": the gradient of shape " + shape_string(grad.sizes()) +
                " does not match its parameter of shape " + shape_string(param.sizes()));
  const std::int64_t n = param.numel();
  if (n == 0) return;
  NoGradGuard no_grad;
  const bool dense_param = param.is_contiguous();
  Tensor p = dense_param ? param : param.contiguous();
  Tensor g = grad;
  if (g.dtype() != param.dtype() || !g.is_contiguous()) {
    g = make_tensor(param.sizes(), param.dtype());
    sigma::detail::copy_elements(g, grad);
  }
  sigma::detail::dispatch_storage(param.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, bool>) {
      throw Error(std::string(op) + ": parameters must be floating point, got " +
                  to_string(param.dtype()));
    } else {
      T* pp = sigma::detail::data_of<T>(p);
      const T* gp = sigma::detail::data_of<const T>(g);
      const std::array<T*, sizeof...(S)> sp{
          sigma::detail::data_of<T>(states)...};
      auto body = [&](std::int64_t i) {
        update_one(pp, gp, sp, i, f, std::index_sequence_for<S...>{});
      };
      sigma::detail::parallel_for(n, kUpdateGrain, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) body(i);
      });
    }
  });
  if (dense_param) {
    bump_version(param);
  } else {
    Tensor target = param;
    target.copy_(p);
  }
}

}  // namespace sigma::optim::detail
