// lbfgs.cpp: L-BFGS with an optional strong-Wolfe line search, PyTorch's
// algorithm (torch/optim/lbfgs.py: step, _strong_wolfe, _cubic_interpolate)
// on the parameters flattened into one float64 vector. Vectors are plain
// std::vector<double> here; the state keeps them as float64 tensors.
#include "sigma/optim/lbfgs.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <utility>

#include "optim/update.h"

namespace sigma::optim {

namespace {

using Vec = std::vector<double>;

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

double max_abs(const Vec& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::fabs(v));
  return m;
}

Vec to_vec(const Tensor& t) {
  if (!t.defined()) return {};
  const Tensor c = t.detach().to(kDouble).contiguous();
  const double* p = c.numel() ? c.data_ptr<double>() : nullptr;
  return Vec(p, p + c.numel());
}

Tensor to_tensor(const Vec& v) { return sigma::tensor(v, kDouble); }

void check_options(const LBFGSOptions& o) {
  auto fail = [](const std::string& what) { throw Error("LBFGS: invalid " + what); };
  if (!(o.lr() >= 0)) fail("learning rate: " + std::to_string(o.lr()) + " (must be >= 0)");
  if (o.max_iter() <= 0) fail("max_iter: " + std::to_string(o.max_iter()) + " (must be > 0)");
  if (o.max_eval() && *o.max_eval() <= 0)
    fail("max_eval: " + std::to_string(*o.max_eval()) + " (must be > 0)");
  if (o.history_size() <= 0)
    fail("history_size: " + std::to_string(o.history_size()) + " (must be > 0)");
  if (o.line_search_fn() && *o.line_search_fn() != "strong_wolfe")
    fail("line_search_fn: '" + *o.line_search_fn() + "' (only 'strong_wolfe' is supported)");
}

// The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped
// to the bounds (default: between x1 and x2); their midpoint if none.
double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                         std::optional<std::pair<double, double>> bounds = std::nullopt) {
  const auto [lo, hi] = bounds ? *bounds : (x1 <= x2 ? std::pair{x1, x2} : std::pair{x2, x1});
  const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const double d2_square = d1 * d1 - g1 * g2;
  if (d2_square >= 0) {
    const double d2 = std::sqrt(d2_square);
    const double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                    : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return std::min(std::max(min_pos, lo), hi);
  }
  return (lo + hi) / 2;
}

class Flat {
 public:
  explicit Flat(std::vector<Tensor>& params) : params_(params) {}

  Vec grad() const {
    Vec g;
    for (const Tensor& p : params_) {
      const Vec v =
          p.grad().defined() ? to_vec(p.grad()) : Vec(static_cast<std::size_t>(p.numel()), 0.0);
      if (static_cast<std::int64_t>(v.size()) != p.numel())
        throw Error("LBFGS: a gradient of shape " + shape_string(p.grad().sizes()) +
                    " does not match its parameter of shape " + shape_string(p.sizes()));
      g.insert(g.end(), v.begin(), v.end());
    }
    return g;
  }
  // x = x + t d
  void add(double t, const Vec& d) const {
    std::size_t offset = 0;
    for (const Tensor& p : params_) {
      const auto n = static_cast<std::size_t>(p.numel());
      const Tensor slice = to_tensor(Vec(d.begin() + static_cast<std::ptrdiff_t>(offset),
                                         d.begin() + static_cast<std::ptrdiff_t>(offset + n)))
                               .reshape(p.sizes());
      detail::update_elements("LBFGS", p, slice, [t](double& x, double v) { x += t * v; });
      offset += n;
    }
  }
  std::vector<Tensor> clone() const {
    std::vector<Tensor> out;
    for (const Tensor& p : params_) out.push_back(p.detach().clone());
    return out;
  }
  void set(const std::vector<Tensor>& x) const {
    NoGradGuard no_grad;
    for (std::size_t i = 0; i < params_.size(); ++i) Tensor(params_[i]).copy_(x[i]);
  }

 private:
  std::vector<Tensor>& params_;
};

struct Evaluated {
  double loss;
  Vec grad;
};

}  // namespace

bool operator==(const LBFGSOptions& a, const LBFGSOptions& b) {
  return a.lr() == b.lr() && a.max_iter() == b.max_iter() && a.max_eval() == b.max_eval() &&
         a.tolerance_grad() == b.tolerance_grad() && a.tolerance_change() == b.tolerance_change() &&
         a.history_size() == b.history_size() && a.line_search_fn() == b.line_search_fn();
}

LBFGS::LBFGS(std::vector<OptimizerParamGroup> param_groups, LBFGSOptions defaults)
    : Optimizer(std::move(param_groups), std::make_unique<LBFGSOptions>(defaults)) {
  if (param_groups_.size() != 1)
    throw Error("LBFGS doesn't support per-parameter options (parameter groups): got " +
                std::to_string(param_groups_.size()) + " groups");
  auto* o = dynamic_cast<LBFGSOptions*>(&param_groups_[0].options());
  if (!o) throw Error("LBFGS: the parameter group's options are not LBFGSOptions");
  if (!o->max_eval()) o->max_eval(o->max_iter() * 5 / 4);
  auto& d = static_cast<LBFGSOptions&>(*defaults_);
  if (!d.max_eval()) d.max_eval(d.max_iter() * 5 / 4);
  check_options(d);
  check_options(*o);
}

LBFGS::LBFGS(std::vector<Tensor> params, LBFGSOptions defaults)
    : LBFGS(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))},
            std::move(defaults)) {}

Tensor LBFGS::step(LossClosure closure) {
  if (!closure) throw Error("LBFGS requires a closure function (it re-evaluates the loss)");
  if (param_groups_.size() != 1)
    throw Error("LBFGS doesn't support per-parameter options (parameter groups)");
  auto& group = param_groups_[0];
  const auto* op = dynamic_cast<const LBFGSOptions*>(&group.options());
  if (!op) throw Error("LBFGS: the parameter group's options are not LBFGSOptions");
  const LBFGSOptions o = *op;
  check_options(o);
  if (group.params().empty()) return run_closure(closure);
  const double lr = o.lr(), tolerance_grad = o.tolerance_grad();
  const double tolerance_change = o.tolerance_change();
  const std::int64_t max_iter = o.max_iter(), max_eval = o.max_eval().value_or(max_iter * 5 / 4);
  const auto history_size = static_cast<std::size_t>(o.history_size());
  const bool strong_wolfe = o.line_search_fn().has_value();
  Flat flat(group.params());

  auto [st, fresh] = param_state<LBFGSParamState>(group.params()[0]);
  (void)fresh;
  Tensor orig_loss = run_closure(closure);
  double loss = orig_loss.item<double>();
  std::int64_t current_evals = 1;
  st.func_evals(st.func_evals() + 1);
  Vec flat_grad = flat.grad();
  bool opt_cond = max_abs(flat_grad) <= tolerance_grad;
  if (opt_cond) return orig_loss;

  Vec d = to_vec(st.d()), prev_flat_grad = to_vec(st.prev_flat_grad());
  double t = st.t(), prev_loss = st.prev_loss();
  double H_diag = st.H_diag().defined() ? st.H_diag().item<double>() : 1.0;
  std::deque<Vec> old_dirs, old_stps;
  std::deque<double> ro;
  for (const Tensor& v : st.old_dirs()) old_dirs.push_back(to_vec(v));
  for (const Tensor& v : st.old_stps()) old_stps.push_back(to_vec(v));
  for (const Tensor& v : st.ro()) ro.push_back(v.item<double>());

  // Loss and flat gradient at x + t d, x restored after.
  auto directional_evaluate = [&](const std::vector<Tensor>& x, double step, const Vec& dir) {
    flat.add(step, dir);
    Evaluated e{run_closure(closure).item<double>(), flat.grad()};
    flat.set(x);
    return e;
  };
  // PyTorch's _strong_wolfe with c1 = 1e-4, c2 = 0.9, max_ls = 25.
  auto strong_wolfe_search = [&](const std::vector<Tensor>& x, double step, const Vec& dir,
                                 double f, const Vec& g, double gtd, std::int64_t& evals) {
    const double c1 = 1e-4, c2 = 0.9;
    const int max_ls = 25;
    const double d_norm = max_abs(dir);
    Evaluated e = directional_evaluate(x, step, dir);
    evals = 1;
    double gtd_new = dot(e.grad, dir);
    double t_prev = 0, f_prev = f, gtd_prev = gtd;
    Vec g_prev = g;
    bool done = false;
    int ls_iter = 0;
    std::vector<double> bracket, bracket_f, bracket_gtd;
    std::vector<Vec> bracket_g;
    while (ls_iter < max_ls) {
      if (e.loss > f + c1 * step * gtd || (ls_iter > 1 && e.loss >= f_prev)) {
        bracket = {t_prev, step};
        bracket_f = {f_prev, e.loss};
        bracket_g = {g_prev, e.grad};
        bracket_gtd = {gtd_prev, gtd_new};
        break;
      }
      if (std::fabs(gtd_new) <= -c2 * gtd) {
        bracket = {step};
        bracket_f = {e.loss};
        bracket_g = {e.grad};
        done = true;
        break;
      }
      if (gtd_new >= 0) {
        bracket = {t_prev, step};
        bracket_f = {f_prev, e.loss};
        bracket_g = {g_prev, e.grad};
        bracket_gtd = {gtd_prev, gtd_new};
        break;
      }
      const double min_step = step + 0.01 * (step - t_prev), max_step = step * 10;
      const double tmp = step;
      step = cubic_interpolate(t_prev, f_prev, gtd_prev, step, e.loss, gtd_new,
                               std::pair{min_step, max_step});
      t_prev = tmp;
      f_prev = e.loss;
      g_prev = e.grad;
      gtd_prev = gtd_new;
      e = directional_evaluate(x, step, dir);
      ++evals;
      gtd_new = dot(e.grad, dir);
      ++ls_iter;
    }
    if (ls_iter == max_ls) {
      bracket = {0, step};
      bracket_f = {f, e.loss};
      bracket_g = {g, e.grad};
    }
    // Zoom into the bracket.
    bool insuf_progress = false;
    std::size_t low = bracket_f.front() <= bracket_f.back() ? 0 : 1, high = 1 - low;
    while (!done && ls_iter < max_ls) {
      if (std::fabs(bracket[1] - bracket[0]) * d_norm < tolerance_change) break;
      step = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1],
                               bracket_gtd[1]);
      const double bmax = std::max(bracket[0], bracket[1]), bmin = std::min(bracket[0], bracket[1]);
      const double eps = 0.1 * (bmax - bmin);
      if (std::min(bmax - step, step - bmin) < eps) {
        if (insuf_progress || step >= bmax || step <= bmin) {
          step = std::fabs(step - bmax) < std::fabs(step - bmin) ? bmax - eps : bmin + eps;
          insuf_progress = false;
        } else {
          insuf_progress = true;
        }
      } else {
        insuf_progress = false;
      }
      e = directional_evaluate(x, step, dir);
      ++evals;
      gtd_new = dot(e.grad, dir);
      ++ls_iter;
      if (e.loss > f + c1 * step * gtd || e.loss >= bracket_f[low]) {
        bracket[high] = step;
        bracket_f[high] = e.loss;
        bracket_g[high] = e.grad;
        bracket_gtd[high] = gtd_new;
        low = bracket_f[0] <= bracket_f[1] ? 0 : 1;
        high = 1 - low;
      } else {
        if (std::fabs(gtd_new) <= -c2 * gtd) {
          done = true;
        } else if (gtd_new * (bracket[high] - bracket[low]) >= 0) {
          bracket[high] = bracket[low];
          bracket_f[high] = bracket_f[low];
          bracket_g[high] = bracket_g[low];
          bracket_gtd[high] = bracket_gtd[low];
        }
        bracket[low] = step;
        bracket_f[low] = e.loss;
        bracket_g[low] = e.grad;
        bracket_gtd[low] = gtd_new;
      }
    }
    return std::tuple{bracket_f[low], bracket_g[low], bracket[low]};
  };

  std::int64_t n_iter = 0;
  while (n_iter < max_iter) {
    ++n_iter;
    st.n_iter(st.n_iter() + 1);
    if (st.n_iter() == 1) {
      d = flat_grad;
      for (double& v : d) v = -v;
      old_dirs.clear();
      old_stps.clear();
      ro.clear();
      H_diag = 1;
    } else {
      Vec y(flat_grad.size()), s(flat_grad.size());
      for (std::size_t i = 0; i < y.size(); ++i) {
        y[i] = flat_grad[i] - prev_flat_grad[i];
        s[i] = d[i] * t;
      }
      const double ys = dot(y, s);
      if (ys > 1e-10) {
        if (old_dirs.size() == history_size) {
          old_dirs.pop_front();
          old_stps.pop_front();
          ro.pop_front();
        }
        H_diag = ys / dot(y, y);
        old_dirs.push_back(std::move(y));
        old_stps.push_back(std::move(s));
        ro.push_back(1.0 / ys);
      }
      const std::size_t num_old = old_dirs.size();
      std::vector<double> al(num_old);
      Vec q = flat_grad;
      for (double& v : q) v = -v;
      for (std::size_t k = num_old; k-- > 0;) {
        al[k] = dot(old_stps[k], q) * ro[k];
        for (std::size_t i = 0; i < q.size(); ++i) q[i] -= al[k] * old_dirs[k][i];
      }
      for (double& v : q) v *= H_diag;
      for (std::size_t k = 0; k < num_old; ++k) {
        const double be_i = dot(old_dirs[k], q) * ro[k];
        for (std::size_t i = 0; i < q.size(); ++i) q[i] += (al[k] - be_i) * old_stps[k][i];
      }
      d = std::move(q);
    }
    prev_flat_grad = flat_grad;
    prev_loss = loss;
    if (st.n_iter() == 1) {
      double sum_abs = 0;
      for (double v : flat_grad) sum_abs += std::fabs(v);
      t = std::min(1.0, 1.0 / sum_abs) * lr;
    } else {
      t = lr;
    }
    const double gtd = dot(flat_grad, d);
    if (gtd > -tolerance_change) break;

    std::int64_t ls_func_evals = 0;
    if (strong_wolfe) {
      const std::vector<Tensor> x_init = flat.clone();
      auto [f_new, g_new, t_new] =
          strong_wolfe_search(x_init, t, d, loss, flat_grad, gtd, ls_func_evals);
      loss = f_new;
      flat_grad = std::move(g_new);
      t = t_new;
      flat.add(t, d);
      opt_cond = max_abs(flat_grad) <= tolerance_grad;
    } else {
      flat.add(t, d);
      if (n_iter != max_iter) {
        loss = run_closure(closure).item<double>();
        flat_grad = flat.grad();
        opt_cond = max_abs(flat_grad) <= tolerance_grad;
        ls_func_evals = 1;
      }
    }
    current_evals += ls_func_evals;
    st.func_evals(st.func_evals() + ls_func_evals);

    if (n_iter == max_iter) break;
    if (current_evals >= max_eval) break;
    if (opt_cond) break;
    if (max_abs(d) * std::fabs(t) <= tolerance_change) break;
    if (std::fabs(loss - prev_loss) < tolerance_change) break;
  }

  st.d(to_tensor(d)).t(t).prev_loss(prev_loss).H_diag(scalar_tensor(H_diag, kDouble));
  st.prev_flat_grad(to_tensor(prev_flat_grad));
  std::deque<Tensor> dirs, stps, ros;
  for (const Vec& v : old_dirs) dirs.push_back(to_tensor(v));
  for (const Vec& v : old_stps) stps.push_back(to_tensor(v));
  for (double v : ro) ros.push_back(scalar_tensor(v, kDouble));
  st.old_dirs(std::move(dirs)).old_stps(std::move(stps)).ro(std::move(ros));
  return orig_loss;
}

}  // namespace sigma::optim
