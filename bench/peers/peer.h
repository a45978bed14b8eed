// bench/peers/peer.h: one interface for every f32 sigmoid the peer programs
// compare. Each adapter wraps a library's array sigmoid as
// sigmoid(x, y, n): y[i] = 1 / (1 + e^-x[i]) for i < n.
//
// Every peer runs on ONE thread: available_peers() sets sigma, oneDNN (OpenMP)
// and LibTorch (intra- and inter-op) to one thread; XNNPACK gets no threadpool
// and Eigen is single-threaded. Setting OpenMP to one thread is done with
// omp_set_num_threads(1) on the calling thread, so call available_peers() from
// the thread that will call the peers, and give your own OpenMP regions an
// explicit num_threads clause.
//
// The adapters keep per-size state (operators, primitives, tensors) and are
// NOT thread-safe: call each peer from one thread at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace sigma::peers {

struct Peer {
  const char* name;  // "sigma", "XNNPACK", "oneDNN", "Eigen", "LibTorch"
  std::function<void(const float* x, float* y, std::size_t n)> sigmoid;
  std::string note;  // how it is built or called, for report headers ("" if nothing to say)
};

// sigma first, then each peer found at configure time, in the order above.
// Built once; later calls return copies sharing the same adapter state.
std::vector<Peer> available_peers();

// One adapter factory per peer; each is compiled only when its peer was found
// (SIGMA_HAVE_<PEER>=1). available_peers() is the only caller.
Peer make_sigma_peer();
Peer make_xnnpack_peer();
Peer make_onednn_peer();
Peer make_eigen_peer();
Peer make_libtorch_peer();

}  // namespace sigma::peers
