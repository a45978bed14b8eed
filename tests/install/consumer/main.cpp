// Uses the installed headers and library; exits 0 only if the results are right.
#include <sigma/reference.h>
#include <sigma/sigma.h>
#include <sigma/version.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

int main() {
  std::vector<float> x = {-1.0f, 0.0f, 1.0f}, y(3);
  sigma::reference::sigmoid(x, y);
  bool ok = y[1] == 0.5f && y[0] + y[2] == 1.0f &&
            std::strcmp(sigma::version(), SIGMA_VERSION_STRING) == 0;

  // Tensors, autograd, CBLAS matmul and nn through the installed package:
  // d/dw sum(sigmoid(a @ w)) at w = 0 is a^T 0.25.
  auto a = sigma::tensor({{1.0f, 2.0f}, {3.0f, 4.0f}});
  auto w = sigma::zeros({2, 1}, sigma::requires_grad());
  sigma::sigmoid(a.matmul(w)).sum().backward();
  const auto g = w.grad().to_vector<float>();
  ok = ok && g.size() == 2 && std::fabs(g[0] - 1.0f) < 1e-6f && std::fabs(g[1] - 1.5f) < 1e-6f;
  sigma::nn::Linear fc(2, 3);
  ok = ok && fc->forward(a).sizes() == std::vector<std::int64_t>{2, 3};

  std::printf("consumer: sigma %s, sigmoid(0) = %g, grad = [%g, %g]: %s\n", sigma::version(), y[1],
              g.empty() ? 0.0 : g[0], g.size() < 2 ? 0.0 : g[1], ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
