// The seed's simplified LSTM cell, written with tensor ops: sigmoid gates
// (input, forget, output) in (0, 1) scale what enters, stays in and leaves
// the cell state; tanh bounds the candidate and the hidden state.
#include <sigma/sigma.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <tuple>

using sigma::Tensor;

// Inside LSTM cell (simplified)
std::tuple<Tensor, Tensor> lstm_cell(const Tensor& x, const Tensor& h_prev, const Tensor& c_prev,
                                     const Tensor& W_i, const Tensor& W_f, const Tensor& W_o,
                                     const Tensor& W_c) {
  // Gates use sigmoid (bounded 0-1)
  auto i = sigma::sigmoid(W_i.matmul(sigma::cat({h_prev, x})));  // Input gate
  auto f = sigma::sigmoid(W_f.matmul(sigma::cat({h_prev, x})));  // Forget gate
  auto o = sigma::sigmoid(W_o.matmul(sigma::cat({h_prev, x})));  // Output gate

  // Candidate uses tanh (bounded -1 to 1)
  auto c_tilde = sigma::tanh(W_c.matmul(sigma::cat({h_prev, x})));

  // Cell state update
  auto c = f * c_prev + i * c_tilde;

  // Hidden state uses tanh
  auto h = o * sigma::tanh(c);

  return {h, c};
}

int main() {
  sigma::manual_seed(0);
  const std::int64_t input_size = 3, hidden_size = 4, steps = 5;

  // W_*: [hidden, hidden + input], acting on cat([h_prev, x]).
  auto W_i = sigma::randn({hidden_size, hidden_size + input_size});
  auto W_f = sigma::randn({hidden_size, hidden_size + input_size});
  auto W_o = sigma::randn({hidden_size, hidden_size + input_size});
  auto W_c = sigma::randn({hidden_size, hidden_size + input_size});

  auto h = sigma::zeros({hidden_size});
  auto c = sigma::zeros({hidden_size});
  bool ok = true;
  for (std::int64_t t = 0; t < steps; ++t) {
    auto x = sigma::randn({input_size});
    auto forget = sigma::sigmoid(W_f.matmul(sigma::cat({h, x})));
    auto c_prev = c;
    std::tie(h, c) = lstm_cell(x, h, c, W_i, W_f, W_o, W_c);
    std::cout << "step " << t << ": h = " << h << "\n        c = " << c << "\n";

    // Gates lie in (0, 1), so |h| < 1 and the cell state moves by less than
    // 1 per step: |c_t| < f |c_{t-1}| + 1.
    ok = ok && forget.min().item<double>() > 0 && forget.max().item<double>() < 1;
    ok = ok && h.abs().max().item<double>() < 1;
    ok = ok && (c.abs() - (forget * c_prev.abs() + 1)).max().item<double>() < 0;
  }
  std::printf("gates in (0, 1), |h| < 1: %s\n", ok ? "yes" : "no");
  return ok ? 0 : 1;
}
