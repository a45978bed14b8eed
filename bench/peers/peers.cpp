// The peer registry: sigma plus every adapter compiled in (SIGMA_HAVE_<PEER>).
#include "peer.h"

namespace sigma::peers {

std::vector<Peer> available_peers() {
  static const std::vector<Peer> peers = [] {
    std::vector<Peer> v;
    v.push_back(make_sigma_peer());
#if defined(SIGMA_HAVE_XNNPACK)
    v.push_back(make_xnnpack_peer());
#endif
#if defined(SIGMA_HAVE_ONEDNN)
    v.push_back(make_onednn_peer());
#endif
#if defined(SIGMA_HAVE_EIGEN)
    v.push_back(make_eigen_peer());
#endif
#if defined(SIGMA_HAVE_LIBTORCH)
    v.push_back(make_libtorch_peer());
#endif
    return v;
  }();
  return peers;
}

}  // namespace sigma::peers
