// Uses the installed headers and library; exits 0 only if the results are right.
#include <sigma/reference.h>
#include <sigma/version.h>

#include <cstdio>
#include <cstring>
#include <vector>

int main() {
  std::vector<float> x = {-1.0f, 0.0f, 1.0f}, y(3);
  sigma::reference::sigmoid(x, y);
  const bool ok = y[1] == 0.5f && y[0] + y[2] == 1.0f &&
                  std::strcmp(sigma::version(), SIGMA_VERSION_STRING) == 0;
  std::printf("consumer: sigma %s, sigmoid(0) = %g: %s\n", sigma::version(), y[1],
              ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
