// LibTorch's f32 sigmoid: torch::sigmoid_out(out, in) on torch::from_blob
// tensors over the caller's buffers (no copies), under InferenceMode.
//
// The two tensors are cached for the last (x, y, n) seen, so repeated calls on
// the same buffers (the bench loop, the accuracy scan's chunk buffers) time
// dispatch + kernel, what a caller that already holds tensors pays; a new
// buffer pays from_blob again (about a microsecond for the pair).
//
// Threads: at::set_num_threads(1) limits intra-op parallelism (it also sets
// OpenMP's thread count on this thread); at::set_num_interop_threads(1) may be
// called only once per process and only before the inter-op pool starts, and
// throws otherwise, so it is attempted once and a failure is ignored (sigmoid
// uses no inter-op threads either way).
#include <torch/torch.h>

#include <ATen/Version.h>

#include <memory>
#include <string>

#include "peer.h"

namespace sigma::peers {
namespace {

struct TorchSigmoid {
  const float* x = nullptr;
  float* y = nullptr;
  std::size_t n = 0;
  torch::Tensor in, out;

  void operator()(const float* xp, float* yp, std::size_t np) {
    if (np == 0) return;
    c10::InferenceMode guard;
    if (xp != x || yp != y || np != n || !in.defined()) {
      const auto opts = torch::TensorOptions().dtype(torch::kFloat32);
      const std::int64_t len = static_cast<std::int64_t>(np);
      in = torch::from_blob(const_cast<float*>(xp), {len}, opts);
      out = torch::from_blob(yp, {len}, opts);
      x = xp;
      y = yp;
      n = np;
    }
    torch::sigmoid_out(out, in);
  }
};

// "AVX512", "AVX2" or "DEFAULT": the kernel set ATen dispatches to, from the
// "CPU capability usage:" line of at::show_config().
std::string cpu_capability() {
  const std::string cfg = at::show_config();
  const std::string key = "CPU capability usage: ";
  const auto pos = cfg.find(key);
  if (pos == std::string::npos) return "unknown";
  const auto end = cfg.find('\n', pos);
  return cfg.substr(pos + key.size(), end == std::string::npos ? end : end - pos - key.size());
}

}  // namespace

Peer make_libtorch_peer() {
  at::set_num_threads(1);
  try {
    at::set_num_interop_threads(1);
  } catch (const std::exception&) {
    // Already set, or the inter-op pool has started: keep what is there.
  }
  auto op = std::make_shared<TorchSigmoid>();
  return {"LibTorch", [op](const float* x, float* y, std::size_t n) { (*op)(x, y, n); },
          std::string("LibTorch ") + TORCH_VERSION + " torch::sigmoid_out on from_blob tensors, " +
              std::to_string(at::get_num_threads()) + " intra-op thread(s), CPU capability " +
              cpu_capability()};
}

}  // namespace sigma::peers
