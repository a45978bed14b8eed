// sigma/autograd.h: dynamic reverse-mode automatic differentiation.
//
// Each op that sees an input requiring grad (with gradients enabled) records a
// Node holding what its backward needs; backward() walks the nodes in reverse
// topological order and accumulates into the leaves' grad(). Saved tensors
// are checked against the storage's version counter, so an in-place change to
// a tensor needed for backward raises sigma::Error instead of a wrong
// gradient. Names follow torch::autograd.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sigma/tensor.h"

namespace sigma {

struct TensorImpl;

namespace autograd {

class Node;

// One input of a Node's backward: the producer of that gradient and which of
// its outputs it is. An edge without fn carries no gradient.
struct Edge {
  std::shared_ptr<Node> function;
  std::uint32_t input_nr = 0;
  bool is_valid() const noexcept { return function != nullptr; }
};

// The shape and dtype of one forward output, so missing gradients can be
// materialised as zeros and incoming ones checked.
struct OutputMeta {
  std::vector<std::int64_t> shape;
  ScalarType dtype = kFloat;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node();
  // Releases the graph below this node iteratively, so freeing a chain of a
  // million nodes cannot overflow the stack.
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // "SigmoidBackward", "AddBackward", "AccumulateGrad", ...
  virtual std::string name() const = 0;
  // grads[i] is the gradient of forward output i (never undefined when
  // called by the engine); returns one gradient per next edge (undefined
  // where that input needs none).
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grads) = 0;
  // Frees saved tensors once the backward pass no longer needs them.
  virtual void release_variables() {}

  const std::vector<Edge>& next_edges() const noexcept { return next_edges_; }
  std::vector<Edge>& mutable_next_edges() noexcept { return next_edges_; }
  std::uint32_t num_outputs() const noexcept { return static_cast<std::uint32_t>(outputs_.size()); }
  const OutputMeta& output_meta(std::uint32_t i) const { return outputs_.at(i); }
  std::uint32_t add_output(OutputMeta meta) {
    outputs_.push_back(std::move(meta));
    return num_outputs() - 1;
  }
  // Order of creation: the engine runs later nodes first among ready ones.
  std::uint64_t sequence_nr() const noexcept { return sequence_nr_; }
  // retain_grad() on a non-leaf registers the tensor here: its gradient is
  // stored when this node's output gradients are complete.
  void add_retain_grad(std::uint32_t output_nr, const std::shared_ptr<TensorImpl>& t);
  void run_retain_grad_hooks(const std::vector<Tensor>& grads);

 private:
  std::vector<Edge> next_edges_;
  std::vector<OutputMeta> outputs_;
  std::vector<std::pair<std::uint32_t, std::weak_ptr<TensorImpl>>> retain_grad_;
  std::uint64_t sequence_nr_;
};

// Whether ops record gradients on this thread (true by default).
class GradMode {
 public:
  static bool is_enabled() noexcept;
  static void set_enabled(bool enabled) noexcept;
};

// Switches gradient recording on or off for the guard's scope.
class AutoGradMode {
 public:
  explicit AutoGradMode(bool enabled) : prev_(GradMode::is_enabled()) {
    GradMode::set_enabled(enabled);
  }
  ~AutoGradMode() { GradMode::set_enabled(prev_); }
  AutoGradMode(const AutoGradMode&) = delete;
  AutoGradMode& operator=(const AutoGradMode&) = delete;

 private:
  bool prev_;
};

// Computes gradients of tensors w.r.t. the leaves and accumulates them into
// the leaves' grad(). grad_tensors may be empty for one-element outputs.
void backward(const TensorList& tensors, const TensorList& grad_tensors = {},
              std::optional<bool> retain_graph = std::nullopt, bool create_graph = false);

// Returns d(outputs)/d(inputs) without touching any grad(). An input the
// outputs do not depend on raises sigma::Error unless allow_unused, in which
// case its gradient is undefined.
TensorList grad(const TensorList& outputs, const TensorList& inputs,
                const TensorList& grad_outputs = {}, std::optional<bool> retain_graph = std::nullopt,
                bool create_graph = false, bool allow_unused = false);

}  // namespace autograd

// As torch::NoGradGuard: no graph is recorded while it lives.
class NoGradGuard {
 public:
  NoGradGuard() : guard_(false) {}

 private:
  autograd::AutoGradMode guard_;
};
using AutoGradMode = autograd::AutoGradMode;
using GradMode = autograd::GradMode;

// The central difference (f(x + eps) - f(x - eps)) / (2 eps) in float64 is
// off from f'(x) by the truncation eps^2 |f'''| / 6 and by the rounding of the
// two evaluations, about c u |f| / eps (u = 2^-53; c the evaluation's error
// in units of u: a few for a handful of ops, tens for a deep graph). At eps =
// 1e-6 that is 1.7e-13 |f'''| + 1.1e-10 c |f|: below 1e-8 for c |f| up to
// ~90 and |f'''| up to ~10^4. atol = 1e-8 covers it where f' is near 0, and
// rtol = 1e-7 where the rounding grows with f' (c |f| up to ~1000 |f'|); the
// test suite's largest |analytic - numeric| is 3e-9. An analytic gradient off
// by 1e-6 relative is then caught wherever |f'| > 0.012 (1e-6 |f'| > atol +
// rtol |f'|), and one off by 1e-6 absolute wherever |f'| < 9.9.
// (PyTorch's gradcheck, atol 1e-5 and rtol 1e-3, passes errors up to 0.1%.)
struct GradcheckOptions {
  double eps = 1e-6;   // central-difference step
  double atol = 1e-8;  // |analytic - numeric| <= atol + rtol |numeric|
  double rtol = 1e-7;
};

struct GradcheckResult {
  bool ok = true;
  // Where the first mismatch is: input, element, analytic and numeric values.
  std::string message;
  explicit operator bool() const noexcept { return ok; }
};

// Compares fn's full Jacobian from autograd with central differences, for
// every input that requires grad (at least one must). All inputs and fn's
// output must be float64 (sigma::Error naming the input index and dtype
// otherwise). fn returns one tensor of any shape. The analytic Jacobian takes
// one autograd::grad call per output element with a one-hot grad_output
// (retain_graph=true); the numeric one perturbs each input element by +-eps in
// place, under NoGradGuard and through the input's strides, then restores it
// exactly, so inputs may be non-contiguous views (but not ones whose elements
// share memory, such as expand()ed tensors: sigma::Error). An entry passes
// when |analytic - numeric| <= atol + rtol |numeric|; a failed result's
// message names the input index, the element's multi-index, the output
// element, and the analytic and numeric values of the first mismatch.
GradcheckResult gradcheck(const std::function<Tensor(const TensorList&)>& fn,
                          const TensorList& inputs, const GradcheckOptions& options = {});

}  // namespace sigma
