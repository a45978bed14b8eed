// engine.cpp: the backward pass. Counts, for every node reachable from the
// roots, how many gradients it will receive; runs a node once all have
// arrived (latest-created first among ready nodes); sums gradients arriving
// at the same node output; frees saved tensors unless retain_graph.
#include <queue>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "autograd/function.h"
#include "sigma/ops.h"

namespace sigma::autograd {

namespace {

struct Capture {
  Node* fn;
  std::uint32_t input_nr;
  std::size_t slot;
};

struct ReadyOrder {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr() < b->sequence_nr(); }
};

// Runs the pass from root edges with their gradients. With captures, records
// the complete gradient at each captured edge instead of accumulating into
// leaves (AccumulateGrad nodes are not run).
void execute(const std::vector<Edge>& roots, const std::vector<Tensor>& root_grads,
             bool keep_graph, const std::vector<Capture>* captures,
             std::vector<Tensor>* captured) {
  NoGradGuard no_grad;
  // Dependency counts over the reachable graph.
  std::unordered_map<Node*, int> deps;
  std::unordered_set<Node*> seen;
  std::vector<Node*> stack;
  for (const Edge& e : roots)
    if (e.is_valid() && seen.insert(e.function.get()).second) stack.push_back(e.function.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges()) {
      if (!e.is_valid()) continue;
      ++deps[e.function.get()];
      if (seen.insert(e.function.get()).second) stack.push_back(e.function.get());
    }
  }

  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep_alive;
  auto accumulate = [&](const Edge& e, Tensor g) {
    auto& buf = buffers[e.function.get()];
    if (buf.empty()) buf.resize(e.function->num_outputs());
    if (e.input_nr >= buf.size())
      throw Error("backward: internal error: gradient for output " + std::to_string(e.input_nr) +
                  " of " + e.function->name() + ", which has " + std::to_string(buf.size()));
    Tensor& slot = buf[e.input_nr];
    slot = slot.defined() ? slot + g : std::move(g);
    keep_alive.emplace(e.function.get(), e.function);
  };

  std::priority_queue<Node*, std::vector<Node*>, ReadyOrder> ready;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (!roots[i].is_valid()) continue;
    accumulate(roots[i], root_grads[i]);
  }
  for (const Edge& e : roots)
    if (e.is_valid() && deps[e.function.get()] == 0) {
      deps[e.function.get()] = -1;  // queued
      ready.push(e.function.get());
    }

  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    std::shared_ptr<Node> hold = keep_alive[node];
    std::vector<Tensor> grads = std::move(buffers[node]);
    buffers.erase(node);
    grads.resize(node->num_outputs());
    for (std::uint32_t i = 0; i < grads.size(); ++i) {
      const OutputMeta& m = node->output_meta(i);
      if (!grads[i].defined()) {
        grads[i] = zeros(m.shape, dtype(m.dtype));
        continue;
      }
      if (!(grads[i].sizes() == IntArrayRef(m.shape))) {
        std::ostringstream msg;
        msg << "backward: " << node->name() << " got a gradient of shape "
            << shape_string(grads[i].sizes()) << " for an output of shape "
            << shape_string(m.shape);
        throw Error(msg.str());
      }
      if (grads[i].dtype() != m.dtype) grads[i] = grads[i].to(m.dtype);
    }
    node->run_retain_grad_hooks(grads);

    bool run = true;
    if (captures) {
      for (const Capture& c : *captures)
        if (c.fn == node) (*captured)[c.slot] = grads.at(c.input_nr);
      if (node->name() == "AccumulateGrad") run = false;
    }
    std::vector<Tensor> out;
    if (run) {
      out = node->apply(std::move(grads));
      if (!keep_graph) node->release_variables();
    }
    const auto& edges = node->next_edges();
    if (run && out.size() != edges.size())
      throw Error("backward: internal error: " + node->name() + " returned " +
                  std::to_string(out.size()) + " gradients for " +
                  std::to_string(edges.size()) + " inputs");
    for (std::size_t i = 0; i < edges.size(); ++i) {
      const Edge& e = edges[i];
      if (!e.is_valid()) continue;
      if (run && out[i].defined()) accumulate(e, std::move(out[i]));
      else keep_alive.emplace(e.function.get(), e.function);
      if (--deps[e.function.get()] == 0) {
        deps[e.function.get()] = -1;
        ready.push(e.function.get());
      }
    }
  }
}

std::vector<Tensor> make_root_grads(const char* op, const TensorList& tensors,
                                    const TensorList& grad_tensors, std::vector<Edge>& roots) {
  if (!grad_tensors.empty() && grad_tensors.size() != tensors.size())
    throw Error(std::string(op) + ": got " + std::to_string(grad_tensors.size()) +
                " gradients for " + std::to_string(tensors.size()) + " tensors");
  std::vector<Tensor> grads;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (!t.defined()) throw Error(std::string(op) + ": tensor " + std::to_string(i) + " is undefined");
    if (!requires_grad(t))
      throw Error(std::string(op) + ": element " + std::to_string(i) +
                  " of tensors does not require grad and does not have a grad_fn");
    Tensor g = grad_tensors.empty() ? Tensor() : grad_tensors[i];
    if (!g.defined()) {
      if (t.numel() != 1)
        throw Error(std::string(op) +
                    ": a gradient can be created implicitly only for a one-element output; "
                    "got a tensor of shape " + shape_string(t.sizes()) +
                    ", so pass gradient= with that shape");
      g = ones_like(t);
    } else if (!(g.sizes() == t.sizes())) {
      throw Error(std::string(op) + ": gradient of shape " + shape_string(g.sizes()) +
                  " does not match the output's shape " + shape_string(t.sizes()));
    } else {
      g = g.detach();
    }
    roots.push_back(gradient_edge(t));
    grads.push_back(std::move(g));
  }
  return grads;
}

void check_create_graph(const char* op, bool create_graph) {
  if (create_graph)
    throw Error(std::string(op) +
                ": create_graph=true (higher-order gradients) is not supported by sigma");
}

}  // namespace

void backward(const TensorList& tensors, const TensorList& grad_tensors,
              std::optional<bool> retain_graph, bool create_graph) {
  check_create_graph("backward", create_graph);
  std::vector<Edge> roots;
  std::vector<Tensor> grads = make_root_grads("backward", tensors, grad_tensors, roots);
  execute(roots, grads, retain_graph.value_or(create_graph), nullptr, nullptr);
}

TensorList grad(const TensorList& outputs, const TensorList& inputs,
                const TensorList& grad_outputs, std::optional<bool> retain_graph,
                bool create_graph, bool allow_unused) {
  check_create_graph("grad", create_graph);
  std::vector<Edge> roots;
  std::vector<Tensor> grads = make_root_grads("grad", outputs, grad_outputs, roots);
  std::vector<Capture> captures;
  std::vector<Edge> input_edges;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!requires_grad(inputs[i]))
      throw Error("grad: input " + std::to_string(i) + " does not require grad");
    Edge e = gradient_edge(inputs[i]);
    captures.push_back({e.function.get(), e.input_nr, i});
    input_edges.push_back(std::move(e));
  }
  std::vector<Tensor> captured(inputs.size());
  execute(roots, grads, retain_graph.value_or(create_graph), &captures, &captured);
  for (std::size_t i = 0; i < captured.size(); ++i)
    if (!captured[i].defined() && !allow_unused)
      throw Error("grad: input " + std::to_string(i) +
                  " was not used to compute the outputs; pass allow_unused=true if that is "
                  "intended");
  return captured;
}

}  // namespace sigma::autograd
