// sigma's own f32 sigmoid through the peer interface, on one thread.
#include <span>

#include "peer.h"
#include "sigma/kernels.h"

namespace sigma::peers {

Peer make_sigma_peer() {
  sigma::set_num_threads(1);
  return {"sigma",
          [](const float* x, float* y, std::size_t n) {
            sigma::sigmoid(std::span<const float>(x, n), std::span<float>(y, n));
          },
          "sigma::sigmoid, target " + sigma::kernels::target()};
}

}  // namespace sigma::peers
