// XNNPACK's f32 sigmoid (xnn_create/setup_sigmoid_nc_f32 + xnn_run_operator).
//
// One operator with channels = stride = 1 serves every size: the NC unary
// operators treat a contiguous batch (channels == both strides) as one flat
// array of batch * channels elements. Each call runs xnn_setup (it records the
// pointers and the size and picks the tiling) and then xnn_run_operator, so the
// bench times setup + run, which is what a caller pays for each new buffer;
// setup is a few dozen ns, against ~1 us for even the smallest size measured.
// The threadpool argument is null: XNNPACK then runs on the calling thread.
#include <xnnpack.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "peer.h"

namespace sigma::peers {
namespace {

void check(xnn_status s, const char* what) {
  if (s != xnn_status_success)
    throw std::runtime_error(std::string("XNNPACK: ") + what + " failed, status " +
                             std::to_string(int(s)));
}

struct XnnSigmoid {
  xnn_operator_t op = nullptr;
  XnnSigmoid() {
    // xnn_initialize may be called more than once; it fails on CPUs XNNPACK
    // does not support (status xnn_status_unsupported_hardware).
    check(xnn_initialize(/*allocator=*/nullptr), "xnn_initialize");
    check(xnn_create_sigmoid_nc_f32(/*channels=*/1, /*input_stride=*/1, /*output_stride=*/1,
                                    /*flags=*/0, &op),
          "xnn_create_sigmoid_nc_f32");
  }
  ~XnnSigmoid() {
    if (op) xnn_delete_operator(op);
  }
  XnnSigmoid(const XnnSigmoid&) = delete;
  XnnSigmoid& operator=(const XnnSigmoid&) = delete;

  void operator()(const float* x, float* y, std::size_t n) {
    if (n == 0) return;
    check(xnn_setup_sigmoid_nc_f32(op, /*batch_size=*/n, x, y, /*threadpool=*/nullptr),
          "xnn_setup_sigmoid_nc_f32");
    check(xnn_run_operator(op, /*threadpool=*/nullptr), "xnn_run_operator");
  }
};

}  // namespace

Peer make_xnnpack_peer() {
  auto op = std::make_shared<XnnSigmoid>();
  return {"XNNPACK", [op](const float* x, float* y, std::size_t n) { (*op)(x, y, n); },
          "xnn_setup_sigmoid_nc_f32 + xnn_run_operator, no threadpool (setup + run timed)"};
}

}  // namespace sigma::peers
