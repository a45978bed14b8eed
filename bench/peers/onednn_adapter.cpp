// oneDNN's f32 sigmoid: eltwise_forward with algorithm::eltwise_logistic on a
// 1-D f32 memory (format tag a), forward_inference.
//
// The primitive is created once per size and cached, together with two memory
// objects whose data handles are re-pointed at each call's buffers, so a call
// is set_data_handle x2 + execute + stream wait: what a caller that reuses a
// primitive pays. Debian's oneDNN uses the OpenMP CPU runtime; it is limited to
// one thread with omp_set_num_threads(1) on the constructing (= calling)
// thread, before any primitive is created.
#include <omp.h>

#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>

#include "peer.h"

namespace sigma::peers {
namespace {

struct OneDnnSigmoid {
  struct Prim {
    dnnl::eltwise_forward prim;
    dnnl::memory src, dst;
  };
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  std::map<std::size_t, Prim> cache;

  Prim& get(std::size_t n) {
    auto it = cache.find(n);
    if (it != cache.end()) return it->second;
    const dnnl::memory::desc md({static_cast<dnnl::memory::dim>(n)},
                                dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
    const dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference,
                                        dnnl::algorithm::eltwise_logistic, md, 0.f, 0.f);
    const dnnl::eltwise_forward::primitive_desc pd(d, eng);
    Prim p{dnnl::eltwise_forward(pd), dnnl::memory(md, eng, DNNL_MEMORY_NONE),
           dnnl::memory(md, eng, DNNL_MEMORY_NONE)};
    return cache.emplace(n, std::move(p)).first->second;
  }

  void operator()(const float* x, float* y, std::size_t n) {
    if (n == 0) return;
    Prim& p = get(n);
    p.src.set_data_handle(const_cast<float*>(x));
    p.dst.set_data_handle(y);
    p.prim.execute(strm, {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_DST, p.dst}});
    strm.wait();
  }

  // The implementation oneDNN picks for this size, e.g. "jit:avx512_core".
  std::string impl(std::size_t n) {
    const dnnl::memory::desc md({static_cast<dnnl::memory::dim>(n)},
                                dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
    const dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference,
                                        dnnl::algorithm::eltwise_logistic, md, 0.f, 0.f);
    return dnnl::eltwise_forward::primitive_desc(d, eng).impl_info_str();
  }
};

}  // namespace

Peer make_onednn_peer() {
  omp_set_num_threads(1);
  auto op = std::make_shared<OneDnnSigmoid>();
  const dnnl_version_t* v = dnnl_version();
  return {"oneDNN", [op](const float* x, float* y, std::size_t n) { (*op)(x, y, n); },
          "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
              std::to_string(v->patch) + " eltwise_logistic forward_inference, impl " +
              op->impl(65536) + ", 1 OpenMP thread"};
}

}  // namespace sigma::peers
