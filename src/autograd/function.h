// function.h: what an op needs to record its backward (internal).
//
// The pattern, with forward and backward side by side in the op's file:
//
//   struct SigmoidBackward final : autograd::Node {
//     SavedVariable y;
//     std::string name() const override { return "SigmoidBackward"; }
//     TensorList apply(TensorList&& g) override { return {sigmoid_grad(g[0], y.unpack(this))}; }
//     void release_variables() override { y.reset(); }
//   };
//   Tensor sigmoid(const Tensor& x) {
//     Tensor y = ...forward...;
//     if (auto node = make_node<SigmoidBackward>({&x})) {
//       node->y = SavedVariable(y);
//       set_history(y, node);
//     }
//     return y;
//   }
#pragma once

#include <initializer_list>
#include <memory>
#include <string>

#include "sigma/autograd.h"
#include "tensor/tensor_impl.h"

namespace sigma::autograd {

// Whether t takes part in gradient computation (requires grad, leaf or not).
bool requires_grad(const Tensor& t) noexcept;
// Whether an op on these inputs must record a node.
bool compute_requires_grad(std::initializer_list<const Tensor*> inputs) noexcept;
bool compute_requires_grad(const TensorList& inputs) noexcept;

// The edge a gradient for t flows into: its grad_fn, or the leaf's
// AccumulateGrad (created once and shared), or an invalid edge.
Edge gradient_edge(const Tensor& t);

// A tensor saved for backward: keeps the data (not the graph, so no cycles)
// and the storage version at save time. unpack() raises sigma::Error if the
// data changed in place since, or if the graph was freed by a backward pass.
class SavedVariable {
 public:
  SavedVariable() = default;
  explicit SavedVariable(const Tensor& t);
  Tensor unpack(const Node* owner) const;
  void reset();
  bool defined() const noexcept { return data_.defined() || was_released_; }

 private:
  Tensor data_;
  std::uint32_t saved_version_ = 0;
  bool was_released_ = false;
};

// Creates a node of type N whose next edges are the inputs' gradient edges,
// or returns nullptr when no input requires grad or grad mode is off.
template <class N, class... Args>
std::shared_ptr<N> make_node(std::initializer_list<const Tensor*> inputs, Args&&... args) {
  if (!compute_requires_grad(inputs)) return nullptr;
  auto node = std::make_shared<N>(std::forward<Args>(args)...);
  node->mutable_next_edges().reserve(inputs.size());
  for (const Tensor* t : inputs) node->mutable_next_edges().push_back(gradient_edge(*t));
  return node;
}
template <class N, class... Args>
std::shared_ptr<N> make_node(const TensorList& inputs, Args&&... args) {
  if (!compute_requires_grad(inputs)) return nullptr;
  auto node = std::make_shared<N>(std::forward<Args>(args)...);
  node->mutable_next_edges().reserve(inputs.size());
  for (const Tensor& t : inputs) node->mutable_next_edges().push_back(gradient_edge(t));
  return node;
}

// Makes out a non-leaf output of node (the next output index).
void set_history(Tensor& out, const std::shared_ptr<Node>& node);

// For in-place ops: t must not be a leaf requiring grad (unless grad mode is
// off) nor a view in a graph; raises sigma::Error naming op otherwise.
void check_inplace(const char* op, const Tensor& t);
// After an in-place op: t (whose data now holds result's values) takes
// result's history. The in-place op computed result out of place from a
// clone of t, so the values its backward saved are never overwritten.
void rebase_history(Tensor& t, const Tensor& result);

// Reduces a broadcast gradient back to shape: sums over the leading and the
// size-1 dimensions that broadcasting expanded.
Tensor sum_to(const Tensor& grad, IntArrayRef shape);

// What zero_grad does to one parameter's accumulated gradient: drops it
// (set_to_none) or zeroes it in place, detached from any graph first. The
// one rule for Module::zero_grad and Optimizer::zero_grad.
void reset_grad(Tensor& grad, bool set_to_none);

}  // namespace sigma::autograd
