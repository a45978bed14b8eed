// function.cpp: graph recording for ops: gradient edges, AccumulateGrad,
// saved tensors with version checks, history for in-place ops, sum_to.
#include "autograd/function.h"

#include <atomic>
#include <sstream>

#include "sigma/ops.h"

namespace sigma::autograd {

namespace {
std::atomic<std::uint64_t> next_sequence_nr{0};
thread_local bool grad_mode_enabled = true;

// The node that accumulates incoming gradients into a leaf's grad().
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {
    add_output({leaf_->sizes, leaf_->dtype});
  }
  std::string name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    Tensor g = grads[0];
    Tensor& acc = leaf_->grad;
    if (!acc.defined()) {
      // A fresh, contiguous tensor the user may modify freely.
      acc = g.to(leaf_->dtype, /*copy=*/true).contiguous();
      if (acc.is_alias_of(g)) acc = acc.clone();
    } else {
      NoGradGuard no_grad;
      acc.add_(g);
    }
    return {};
  }

 private:
  std::shared_ptr<TensorImpl> leaf_;
};
}  // namespace

Node::Node() : sequence_nr_(next_sequence_nr.fetch_add(1, std::memory_order_relaxed)) {}

// A node owns its inputs' producers through next_edges_, so letting the
// shared pointers go one by one would destroy a chain recursively, one stack
// frame per node (a 200k-step `y = y * c` overflowed 8 MiB). Instead the
// edges move onto a heap stack; a producer that this was the last owner of
// hands its own edges over before it dies, so every destructor called from
// here finds no edges and the depth stays at one (PyTorch's deleteNode does
// the same). The stack is this node's own edge vector, taken over: a new
// vector cost a malloc and a free on every node's death, and a chain pops one
// edge for every one it pushes, so it rarely grows.
Node::~Node() {
  std::vector<Edge> pending = std::move(next_edges_);
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back().function);
    pending.pop_back();
    if (n && n.use_count() == 1) {
      for (Edge& e : n->next_edges_)
        if (e.function) pending.push_back(std::move(e));
      n->next_edges_.clear();
    }
  }
}

void Node::add_retain_grad(std::uint32_t output_nr, const std::shared_ptr<TensorImpl>& t) {
  for (auto& [nr, w] : retain_grad_)
    if (nr == output_nr && w.lock() == t) return;
  retain_grad_.emplace_back(output_nr, t);
}

void Node::run_retain_grad_hooks(const std::vector<Tensor>& grads) {
  for (auto& [nr, w] : retain_grad_) {
    auto impl = w.lock();
    if (!impl || nr >= grads.size()) continue;
    if (!impl->grad.defined()) {
      impl->grad = grads[nr].clone();
    } else {
      NoGradGuard no_grad;
      impl->grad = impl->grad + grads[nr];
    }
  }
}

bool GradMode::is_enabled() noexcept { return grad_mode_enabled; }
void GradMode::set_enabled(bool enabled) noexcept { grad_mode_enabled = enabled; }

bool requires_grad(const Tensor& t) noexcept {
  if (!t.defined()) return false;
  const TensorImpl* i = t.unsafeGetTensorImpl();
  return i->requires_grad || i->grad_fn != nullptr;
}

bool compute_requires_grad(std::initializer_list<const Tensor*> inputs) noexcept {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t && requires_grad(*t)) return true;
  return false;
}

bool compute_requires_grad(const TensorList& inputs) noexcept {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (requires_grad(t)) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined()) return {};
  TensorImpl* i = t.unsafeGetTensorImpl();
  if (i->grad_fn) return {i->grad_fn, i->output_nr};
  if (!i->requires_grad) return {};
  std::shared_ptr<Node> acc = i->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl());
    i->grad_accumulator = acc;
  }
  return {acc, 0};
}

namespace {
// The same data and geometry with no autograd state.
Tensor alias_without_history(const Tensor& t) {
  auto impl = std::make_shared<TensorImpl>();
  const TensorImpl* s = t.unsafeGetTensorImpl();
  impl->storage = s->storage;
  impl->offset = s->offset;
  impl->sizes = s->sizes;
  impl->strides = s->strides;
  impl->dtype = s->dtype;
  return Tensor(std::move(impl));
}
}  // namespace

SavedVariable::SavedVariable(const Tensor& t) {
  if (!t.defined()) return;
  data_ = alias_without_history(t);
  saved_version_ = t._version();
}

Tensor SavedVariable::unpack(const Node* owner) const {
  const std::string who = owner ? owner->name() : std::string("backward");
  if (was_released_)
    throw Error(who +
                ": trying to backward through the graph a second time, or to use its saved "
                "tensors after they were freed; pass retain_graph=true to the first backward() "
                "if you need to backward through the graph again");
  if (data_.defined() && data_._version() != saved_version_) {
    std::ostringstream m;
    m << who << ": a tensor needed for gradient computation was modified by an in-place "
      << "operation: " << to_string(data_.dtype()) << " " << shape_string(data_.sizes())
      << " is at version " << data_._version() << ", expected version " << saved_version_;
    throw Error(m.str());
  }
  return data_;
}

void SavedVariable::reset() {
  if (data_.defined()) was_released_ = true;
  data_ = Tensor();
}

void set_history(Tensor& out, const std::shared_ptr<Node>& node) {
  TensorImpl* i = out.unsafeGetTensorImpl();
  i->output_nr = node->add_output({i->sizes, i->dtype});
  i->grad_fn = node;
  i->requires_grad = true;
}

void check_inplace(const char* op, const Tensor& t) {
  if (!GradMode::is_enabled()) return;
  const TensorImpl* i = t.unsafeGetTensorImpl();
  if (i->requires_grad && !i->grad_fn)
    throw Error(std::string(op) +
                ": a leaf tensor that requires grad cannot be modified in place; use an "
                "out-of-place op, or do it under sigma::NoGradGuard");
  if (i->is_view && i->grad_fn)
    throw Error(std::string(op) +
                ": in-place change of a view that is part of an autograd graph is not "
                "supported; use an out-of-place op");
}

void rebase_history(Tensor& t, const Tensor& result) {
  TensorImpl* i = t.unsafeGetTensorImpl();
  const TensorImpl* r = result.unsafeGetTensorImpl();
  i->grad_fn = r->grad_fn;
  i->output_nr = r->output_nr;
  i->requires_grad = r->requires_grad || r->grad_fn != nullptr;
}

Tensor sum_to(const Tensor& grad, IntArrayRef shape) {
  if (grad.sizes() == shape) return grad;
  const std::int64_t lead = grad.dim() - static_cast<std::int64_t>(shape.size());
  std::vector<std::int64_t> dims;
  for (std::int64_t d = 0; d < lead; ++d) dims.push_back(d);
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (shape[d] == 1 && grad.size(lead + static_cast<std::int64_t>(d)) != 1)
      dims.push_back(lead + static_cast<std::int64_t>(d));
  Tensor r = dims.empty() ? grad : sigma::sum(grad, dims, /*keepdim=*/true);
  return r.reshape(shape);
}

void reset_grad(Tensor& grad, bool set_to_none) {
  if (!grad.defined()) return;
  if (set_to_none) {
    grad = Tensor();
    return;
  }
  NoGradGuard no_grad;
  if (grad.grad_fn())
    grad = grad.detach();
  else
    grad.requires_grad_(false);
  grad.zero_();
}

}  // namespace sigma::autograd
