// The seed's gradient snippet: autograd's derivative of sigmoid at 0, checked
// against the closed form sigma'(x) = sigma(x) (1 - sigma(x)).
#include <sigma/sigma.h>

#include <cstdio>

int main() {
  auto x = sigma::tensor({0.0}, sigma::requires_grad());
  auto y = sigma::sigmoid(x);
  y.backward();

  std::printf("σ(0) = %.4f\n", y.item<double>());          // 0.5
  std::printf("σ'(0) = %.4f\n", x.grad().item<double>());  // 0.25

  // Verify: σ(x) * (1 - σ(x)) = 0.5 * 0.5 = 0.25
  auto s = y.detach();
  const bool ok = x.grad().allclose(s * (1 - s)) && x.grad().item<double>() == 0.25;
  std::printf("σ(x)(1 - σ(x)) = %.4f: %s\n", (s * (1 - s)).item<double>(),
              ok ? "matches" : "MISMATCH");
  return ok ? 0 : 1;
}
