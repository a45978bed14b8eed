// The seed's visualization: sigmoid and its derivative on [-6, 6], side by
// side. C++ has no matplotlib, so this writes the data and a gnuplot script
// (next to the executable, or into the directory given as argv[1]) and runs
// gnuplot, when installed, to draw sigmoid.png.
#include <sigma/sigma.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  const fs::path dir =
      argc > 1 ? fs::path(argv[1]) : fs::weakly_canonical(fs::absolute(argv[0])).parent_path();

  auto x = sigma::linspace(-6, 6, 1000);

  // Sigmoid function
  auto sig = sigma::sigmoid(x);

  // Sigmoid derivative
  auto sig_grad = sig * (1 - sig);

  // The data, one row per point: x, σ(x), σ'(x).
  const fs::path data = dir / "sigmoid.dat", script = dir / "sigmoid.gp", png = dir / "sigmoid.png";
  {
    std::ofstream out(data);
    const auto xs = x.to_vector<double>(), ys = sig.to_vector<double>(),
               ds = sig_grad.to_vector<double>();
    for (std::size_t i = 0; i < xs.size(); ++i)
      out << xs[i] << ' ' << ys[i] << ' ' << ds[i] << '\n';
  }

  // fig, axes = plt.subplots(1, 2, figsize=(12, 4)); guides and grid in black at alpha 0.3.
  const std::string faint = "lc rgb '#B3000000'", dashed = "nohead dt 2 " + faint;
  std::ofstream(script) << "set terminal pngcairo size 1200,400 noenhanced font 'DejaVu Sans,10'\n"
                        << "set output '" << png.string() << "'\n"
                        << "set multiplot layout 1,2\n"
                        << "set grid " << faint << "\n"
                        << "set autoscale fix\n"
                        << "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n"
                        // Sigmoid function
                        << "unset key\n"
                        << "set title 'Sigmoid: σ(x) = 1 / (1 + e⁻ˣ)'\n"
                        << "set xlabel 'x'\n"
                        << "set ylabel 'σ(x)'\n"
                        << "set arrow 1 from graph 0, first 0.5 to graph 1, first 0.5 " << dashed
                        << "\n"
                        << "set arrow 2 from first 0, graph 0 to first 0, graph 1 " << dashed
                        << "\n"
                        << "plot '" << data.string()
                        << "' using 1:2 with lines lw 2.5 lc rgb '#2196F3' notitle\n"
                        // Sigmoid derivative
                        << "unset arrow\n"
                        << "set key right center box\n"
                        << "set title \"Sigmoid Derivative: σ'(x) = σ(x)(1 - σ(x))\"\n"
                        << "set ylabel \"σ'(x)\"\n"
                        << "plot '" << data.string()
                        << "' using 1:3 with lines lw 2.5 lc rgb '#FF5722' notitle, \\\n"
                        << "     0.25 with lines dt 2 " << faint << " title 'max = 0.25'\n"
                        << "unset multiplot\n";

  std::printf("max σ'(x) = %.4f\n", sig_grad.max().item<double>());

  // The closed form matches autograd's derivative of sigmoid.
  auto xg = x.detach().requires_grad_();
  sigma::sigmoid(xg).sum().backward();
  bool ok = xg.grad().allclose(sig_grad, 1e-5, 1e-7) && sig_grad.max().item<double>() <= 0.25;

  if (std::system("command -v gnuplot > /dev/null 2>&1") == 0) {
    ok = ok && std::system(("gnuplot '" + script.string() + "'").c_str()) == 0 && fs::exists(png);
    std::printf("plot: %s\n", png.c_str());
  } else {
    std::printf("gnuplot not found; data in %s, script in %s\n", data.c_str(), script.c_str());
  }
  return ok ? 0 : 1;
}
