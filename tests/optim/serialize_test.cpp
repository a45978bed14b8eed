// Tests of optimizer and scheduler checkpoints (src/optim/serialize.cpp):
// sigma::save / sigma::load of SGD, Adam, AdamW, RMSprop, Adagrad, StepLR,
// ExponentialLR, CosineAnnealingLR, LambdaLR and ReduceLROnPlateauScheduler.
//
// Resume: a small classifier trains 10 steps, is saved with its optimizer and
// scheduler, and trains 10 more; a fresh process (this binary again, run
// with a gtest filter and the file names in its environment) loads the
// files into newly made objects and trains the same 10 steps. The
// parameters must be identical bit for bit. A control run that loads only
// the model shows the optimizer's state changes the result.
// The file layout is read back with nlohmann-json; then one test per
// validation error, each checking the message and that the optimizer (or
// scheduler) is unchanged.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "sigma/sigma.h"
#include "tensor_checks.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
namespace nn = sigma::nn;
namespace optim = sigma::optim;
using sigma::Tensor;
using sigma::test::expect_error;
using Dict = sigma::OrderedDict<std::string, Tensor>;
using json = nlohmann::json;

constexpr const char* kDirEnv = "SIGMA_RESUME_DIR";
constexpr const char* kVariantEnv = "SIGMA_RESUME_VARIANT";

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The raw bytes of a tensor's elements, for bit-exact comparison.
std::string bytes_of(const Tensor& t) {
  const Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

// ---- The resume scenario.

// 32 points in 5 dimensions, labelled by a fixed plane with some flipped
// labels, from splitmix64 (the same in every process).
struct Data {
  Tensor x, y;
};

Data make_data() {
  std::uint64_t s = 2024;
  std::vector<double> x(32 * 5), y(32);
  for (double& v : x)
    v = static_cast<double>(sigma::test::splitmix(s) >> 11) * 0x1p-53 * 4.0 - 2.0;
  for (int i = 0; i < 32; ++i) {
    double z = 0.3;
    for (int j = 0; j < 5; ++j) z += (j % 2 ? -0.7 : 1.1) * x[static_cast<std::size_t>(i * 5 + j)];
    y[static_cast<std::size_t>(i)] = (z > 0) != (i % 7 == 3) ? 1.0 : 0.0;
  }
  return {sigma::tensor(x, sigma::kFloat32).reshape({32, 5}),
          sigma::tensor(y, sigma::kFloat32).reshape({32, 1})};
}

nn::Sequential make_model() {
  return nn::Sequential(nn::Linear(5, 4), nn::Tanh(), nn::Linear(4, 1));
}

// Weights in group 0 and biases in group 1 (with its own options), or all in
// one group.
std::vector<optim::OptimizerParamGroup> groups(const nn::Sequential& model,
                                               std::unique_ptr<optim::OptimizerOptions> second) {
  std::vector<Tensor> weights, biases;
  for (const auto& item : model->named_parameters())
    (item.key().find("bias") != std::string::npos ? biases : weights).push_back(item.value());
  std::vector<optim::OptimizerParamGroup> g;
  g.emplace_back(weights);
  g.emplace_back(biases, std::move(second));
  return g;
}

struct Variant {
  const char* name;
  std::function<std::unique_ptr<optim::Optimizer>(const nn::Sequential&)> optimizer;
  std::function<std::unique_ptr<optim::LRScheduler>(optim::Optimizer&)> scheduler;
};

void PrintTo(const Variant& v, std::ostream* os) { *os << v.name; }

const std::vector<Variant>& variants() {
  static const std::vector<Variant> v = {
      {"SGDMomentum",
       [](const nn::Sequential& m) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<optim::SGD>(
             m->parameters(),
             optim::SGDOptions(0.2).momentum(0.9).dampening(0.1).weight_decay(1e-3));
       },
       [](optim::Optimizer& o) -> std::unique_ptr<optim::LRScheduler> {
         return std::make_unique<optim::StepLR>(o, 4, 0.5);
       }},
      {"SGDNesterov",
       [](const nn::Sequential& m) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<optim::SGD>(
             groups(m, std::make_unique<optim::SGDOptions>(
                           optim::SGDOptions(0.3).momentum(0.5).nesterov(true))),
             optim::SGDOptions(0.1).momentum(0.8).nesterov(true));
       },
       [](optim::Optimizer& o) -> std::unique_ptr<optim::LRScheduler> {
         return std::make_unique<optim::CosineAnnealingLR>(o, 15, 0.01);
       }},
      {"Adam",
       [](const nn::Sequential& m) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<optim::Adam>(
             groups(m, std::make_unique<optim::AdamOptions>(
                           optim::AdamOptions(0.05).betas({0.8, 0.99}).eps(1e-6))),
             optim::AdamOptions(0.02).weight_decay(0.01));
       },
       [](optim::Optimizer& o) -> std::unique_ptr<optim::LRScheduler> {
         return std::make_unique<optim::StepLR>(o, 3, 0.7);
       }},
      {"AdamWAmsgrad",
       [](const nn::Sequential& m) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<optim::AdamW>(m->parameters(),
                                               optim::AdamWOptions(0.03).amsgrad(true));
       },
       [](optim::Optimizer& o) -> std::unique_ptr<optim::LRScheduler> {
         return std::make_unique<optim::CosineAnnealingLR>(o, 25, 1e-3);
       }},
      {"RMSpropCenteredMomentum",
       [](const nn::Sequential& m) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<optim::RMSprop>(
             groups(m, std::make_unique<optim::RMSpropOptions>(
                           optim::RMSpropOptions(0.01).alpha(0.9).momentum(0.5))),
             optim::RMSpropOptions(0.02).centered(true).momentum(0.8).weight_decay(1e-3));
       },
       [](optim::Optimizer& o) -> std::unique_ptr<optim::LRScheduler> {
         return std::make_unique<optim::ExponentialLR>(o, 0.9);
       }},
      {"Adagrad",
       [](const nn::Sequential& m) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<optim::Adagrad>(
             m->parameters(),
             optim::AdagradOptions(0.1).lr_decay(0.01).initial_accumulator_value(0.1));
       },
       [](optim::Optimizer& o) -> std::unique_ptr<optim::LRScheduler> {
         return std::make_unique<optim::LambdaLR>(
             o, [](std::int64_t t) { return 1.0 / (1.0 + 0.1 * static_cast<double>(t)); });
       }},
  };
  return v;
}

const Variant& variant_named(const std::string& name) {
  for (const Variant& v : variants())
    if (name == v.name) return v;
  throw std::runtime_error("no variant " + name);
}

// Full-batch steps of BCEWithLogitsLoss, the scheduler stepped after each.
void train(nn::Sequential model, optim::Optimizer& opt, optim::LRScheduler* sched,
           int steps) {
  static const Data d = make_data();
  nn::BCEWithLogitsLoss loss_fn;
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    Tensor loss = loss_fn(model->forward(d.x), d.y);
    loss.backward();
    opt.step();
    if (sched) sched->step();
  }
}

std::vector<std::string> parameter_bytes(const nn::Sequential& model) {
  std::vector<std::string> out;
  for (const Tensor& p : model->parameters()) out.push_back(bytes_of(p));
  return out;
}

// Runs this test binary's child test with dir and variant in its
// environment, output to dir/child.log; its exit status.
int run_child(const fs::path& dir, const std::string& variant) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "GTEST_", 6) != 0 && std::strncmp(*e, kDirEnv, std::strlen(kDirEnv)) != 0 &&
        std::strncmp(*e, kVariantEnv, std::strlen(kVariantEnv)) != 0)
      env.emplace_back(*e);
  env.push_back(std::string(kDirEnv) + "=" + dir.string());
  env.push_back(std::string(kVariantEnv) + "=" + variant);
  std::vector<char*> envp;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=OptimizerResumeChild.TrainsFromTheCheckpoint";
  char* argv[] = {exe.data(), filter.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = (dir / "child.log").string();
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class OptimizerResume : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sigma_resume_" + std::string(GetParam().name) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_P(OptimizerResume, AFreshProcessContinuesBitForBit) {
  const Variant& v = GetParam();
  sigma::manual_seed(1);
  nn::Sequential model = make_model();
  auto opt = v.optimizer(model);
  auto sched = v.scheduler(*opt);
  train(model, *opt, sched.get(), 10);
  sigma::save(model, dir_ / "model.safetensors");
  sigma::save(*opt, dir_ / "optimizer.safetensors");
  sigma::save(*sched, dir_ / "scheduler.safetensors");
  train(model, *opt, sched.get(), 10);
  const std::vector<std::string> expected = parameter_bytes(model);

  const int status = run_child(dir_, v.name);
  ASSERT_EQ(status, 0) << "child failed; its output:\n" << slurp(dir_ / "child.log");
  const Dict resumed = sigma::load_tensors(dir_ / "resumed.safetensors");
  ASSERT_EQ(resumed.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(bytes_of(resumed[i].value()), expected[i]) << "parameter " << resumed[i].key();

  // Control: the model alone, with a fresh optimizer and scheduler, ends
  // elsewhere, so the comparison above depends on the optimizer's state.
  nn::Sequential control = make_model();
  sigma::load(control, dir_ / "model.safetensors");
  auto control_opt = v.optimizer(control);
  auto control_sched = v.scheduler(*control_opt);
  train(control, *control_opt, control_sched.get(), 10);
  EXPECT_NE(parameter_bytes(control), expected);
}

INSTANTIATE_TEST_SUITE_P(Optimizers, OptimizerResume, ::testing::ValuesIn(variants()),
                         [](const auto& p) { return std::string(p.param.name); });

// The child of OptimizerResume: skipped unless run by it.
TEST(OptimizerResumeChild, TrainsFromTheCheckpoint) {
  const char* dir_env = std::getenv(kDirEnv);
  const char* variant_env = std::getenv(kVariantEnv);
  if (!dir_env || !variant_env) GTEST_SKIP() << "runs as the child of OptimizerResume only";
  const fs::path dir = dir_env;
  const Variant& v = variant_named(variant_env);
  sigma::manual_seed(99);  // other initial weights: the load must replace them
  nn::Sequential model = make_model();
  auto opt = v.optimizer(model);
  auto sched = v.scheduler(*opt);
  sigma::load(model, dir / "model.safetensors");
  sigma::load(*opt, dir / "optimizer.safetensors");
  sigma::load(*sched, dir / "scheduler.safetensors");
  train(model, *opt, sched.get(), 10);
  sigma::save(model, dir / "resumed.safetensors");
}

// ---- The file, read back without sigma's loader.

class OptimizerCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sigma_optim_ckpt_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path path(const std::string& name = "opt.safetensors") const { return dir_ / name; }
  fs::path dir_;
};

void set_grads(const std::vector<Tensor>& params, int step) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    std::vector<double> g(static_cast<std::size_t>(p.numel()));
    for (std::size_t j = 0; j < g.size(); ++j)
      g[j] = std::sin(1.0 + static_cast<double>(j) * 0.7 + static_cast<double>(i) +
                      static_cast<double>(step) * 1.3);
    p.mutable_grad() = sigma::tensor(g, sigma::kFloat64).reshape(p.sizes()).to(p.dtype());
  }
}

void steps(optim::Optimizer& opt, int n) {
  for (int s = 0; s < n; ++s) {
    set_grads(opt.param_groups()[0].params(), s);
    for (std::size_t g = 1; g < opt.param_groups().size(); ++g)
      set_grads(opt.param_groups()[g].params(), s + 10);
    opt.step();
  }
}

std::vector<Tensor> params_of(const std::vector<std::vector<std::int64_t>>& shapes,
                              sigma::ScalarType dtype = sigma::kFloat32) {
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < shapes.size(); ++i)
    out.push_back(sigma::test::random_tensor(shapes[i], dtype, 10 + i).requires_grad_());
  return out;
}

TEST_F(OptimizerCheckpoint, AdamFileLayout) {
  const std::vector<Tensor> a = params_of({{2, 3}, {3}}), b = params_of({{4}});
  std::vector<optim::OptimizerParamGroup> g;
  g.emplace_back(a);
  g.emplace_back(b, std::make_unique<optim::AdamOptions>(
                        optim::AdamOptions(0.25).betas({0.5, 0.75}).eps(1e-3).amsgrad(true)));
  optim::Adam opt(std::move(g), optim::AdamOptions(0.125).weight_decay(0.5));
  // Parameter 1 never gets a gradient: it has no state.
  for (int s = 0; s < 3; ++s) {
    set_grads({a[0], b[0]}, s);
    opt.step();
  }
  sigma::save(opt, path());

  const sigma::Metadata m = sigma::load_metadata(path());
  EXPECT_EQ(m.at("optimizer"), "Adam");
  EXPECT_EQ(m.at("version"), "1");
  EXPECT_EQ(m.size(), 3u);
  const json groups = json::parse(m.at("param_groups"));
  EXPECT_EQ(groups, json::parse(R"([
    {"params": [0, 1], "lr": 0.125, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.5,
     "amsgrad": false},
    {"params": [2], "lr": 0.25, "betas": [0.5, 0.75], "eps": 0.001, "weight_decay": 0,
     "amsgrad": true}])"));

  const Dict t = sigma::load_tensors(path());
  EXPECT_EQ(t.keys(), (std::vector<std::string>{"state.0.step", "state.0.exp_avg",
                                                 "state.0.exp_avg_sq", "state.2.step",
                                                 "state.2.exp_avg", "state.2.exp_avg_sq",
                                                 "state.2.max_exp_avg_sq"}));
  EXPECT_EQ(t["state.0.step"].dtype(), sigma::kLong);
  EXPECT_EQ(t["state.0.step"].dim(), 0);
  EXPECT_EQ(t["state.0.step"].item<std::int64_t>(), 3);
  const auto& s0 = static_cast<optim::AdamParamState&>(*opt.state().at(a[0].unsafeGetTensorImpl()));
  const auto& s2 = static_cast<optim::AdamParamState&>(*opt.state().at(b[0].unsafeGetTensorImpl()));
  EXPECT_EQ(bytes_of(t["state.0.exp_avg"]), bytes_of(s0.exp_avg()));
  EXPECT_EQ(bytes_of(t["state.0.exp_avg_sq"]), bytes_of(s0.exp_avg_sq()));
  EXPECT_EQ(bytes_of(t["state.2.max_exp_avg_sq"]), bytes_of(s2.max_exp_avg_sq()));
  EXPECT_EQ(t["state.0.exp_avg"].sizes().vec(), (std::vector<std::int64_t>{2, 3}));
}

TEST_F(OptimizerCheckpoint, SGDFileLayoutAndNoStateWithoutMomentum) {
  const std::vector<Tensor> p = params_of({{3}, {2, 2}});
  optim::SGD with_momentum(p, optim::SGDOptions(0.5).momentum(0.25).dampening(0.125));
  steps(with_momentum, 2);
  sigma::save(with_momentum, path());
  const json groups = json::parse(sigma::load_metadata(path()).at("param_groups"));
  EXPECT_EQ(groups, json::parse(R"([{"params": [0, 1], "lr": 0.5, "momentum": 0.25,
                                     "dampening": 0.125, "weight_decay": 0, "nesterov": false}])"));
  EXPECT_EQ(sigma::load_tensors(path()).keys(),
            (std::vector<std::string>{"state.0.momentum_buffer", "state.1.momentum_buffer"}));

  const std::vector<Tensor> q = params_of({{3}});
  optim::SGD plain(q, optim::SGDOptions(0.5));
  steps(plain, 2);
  sigma::save(plain, path("plain.safetensors"));
  EXPECT_TRUE(sigma::load_tensors(path("plain.safetensors")).is_empty());
}

// ---- In-process round trips.

// Everything load restores, as text: each group's options and each
// parameter's state (bytes and step).
std::string snapshot(const optim::Optimizer& opt) {
  std::ostringstream s;
  s << std::hexfloat;
  std::size_t index = 0;
  for (const auto& group : opt.param_groups()) {
    const auto& o = group.options();
    if (const auto* sgd = dynamic_cast<const optim::SGDOptions*>(&o))
      s << "SGD " << sgd->lr() << ' ' << sgd->momentum() << ' ' << sgd->dampening() << ' '
        << sgd->weight_decay() << ' ' << sgd->nesterov() << '\n';
    auto adam = [&](const auto& a) {
      s << "Adam " << a.lr() << ' ' << std::get<0>(a.betas()) << ' ' << std::get<1>(a.betas())
        << ' ' << a.eps() << ' ' << a.weight_decay() << ' ' << a.amsgrad() << '\n';
    };
    if (const auto* a = dynamic_cast<const optim::AdamOptions*>(&o)) adam(*a);
    if (const auto* a = dynamic_cast<const optim::AdamWOptions*>(&o)) adam(*a);
    if (const auto* r = dynamic_cast<const optim::RMSpropOptions*>(&o))
      s << "RMSprop " << r->lr() << ' ' << r->alpha() << ' ' << r->eps() << ' '
        << r->weight_decay() << ' ' << r->momentum() << ' ' << r->centered() << '\n';
    if (const auto* a = dynamic_cast<const optim::AdagradOptions*>(&o))
      s << "Adagrad " << a->lr() << ' ' << a->lr_decay() << ' ' << a->weight_decay() << ' '
        << a->initial_accumulator_value() << ' ' << a->eps() << '\n';
    for (const Tensor& p : group.params()) {
      s << "param " << index++ << ": ";
      const auto it = opt.state().find(p.unsafeGetTensorImpl());
      if (it == opt.state().end()) {
        s << "no state\n";
        continue;
      }
      auto hex = [&](const Tensor& t) {
        if (!t.defined()) return std::string("undefined");
        std::string h;
        for (unsigned char c : bytes_of(t)) h += "0123456789abcdef"[c >> 4], h += "0123456789abcdef"[c & 15];
        return h + " " + sigma::to_string(t.dtype());
      };
      if (const auto* st = dynamic_cast<const optim::SGDParamState*>(it->second.get()))
        s << hex(st->momentum_buffer()) << '\n';
      if (const auto* st = dynamic_cast<const optim::AdamParamState*>(it->second.get()))
        s << st->step() << ' ' << hex(st->exp_avg()) << ' ' << hex(st->exp_avg_sq()) << ' '
          << hex(st->max_exp_avg_sq()) << '\n';
      if (const auto* st = dynamic_cast<const optim::RMSpropParamState*>(it->second.get()))
        s << st->step() << ' ' << hex(st->square_avg()) << ' ' << hex(st->momentum_buffer())
          << ' ' << hex(st->grad_avg()) << '\n';
      if (const auto* st = dynamic_cast<const optim::AdagradParamState*>(it->second.get()))
        s << st->step() << ' ' << hex(st->sum()) << '\n';
    }
  }
  return s.str();
}

TEST_F(OptimizerCheckpoint, RoundTripRestoresOptionsAndState) {
  const std::vector<Tensor> a = params_of({{2, 3}, {3}}), b = params_of({{4}});
  std::vector<optim::OptimizerParamGroup> g;
  g.emplace_back(a);
  g.emplace_back(b, std::make_unique<optim::AdamWOptions>(
                        optim::AdamWOptions(0.1 / 3).betas({0.6, 0.7}).amsgrad(true)));
  optim::AdamW saved(std::move(g), optim::AdamWOptions(std::nextafter(0.01, 1.0)));
  steps(saved, 4);
  saved.param_groups()[0].options().lr(0.1 * std::pow(0.7, 3));  // as a scheduler would
  sigma::save(saved, path());

  // Other parameters of the same shapes, other options, other state.
  const std::vector<Tensor> c = params_of({{2, 3}, {3}}), d = params_of({{4}});
  std::vector<optim::OptimizerParamGroup> h;
  h.emplace_back(c);
  h.emplace_back(d);
  optim::AdamW loaded(std::move(h), optim::AdamWOptions(0.5));
  steps(loaded, 1);
  ASSERT_NE(snapshot(loaded), snapshot(saved));
  sigma::load(loaded, path());
  EXPECT_EQ(snapshot(loaded), snapshot(saved));
  // The state is the new parameters' (keyed by them), and steps continue alike.
  {
    sigma::NoGradGuard no_grad;
    for (std::size_t i = 0; i < 2; ++i) {
      ASSERT_TRUE(loaded.state().count(c[i].unsafeGetTensorImpl()));
      Tensor(c[i]).copy_(a[i]);
    }
    Tensor(d[0]).copy_(b[0]);
  }
  steps(saved, 2);
  steps(loaded, 2);
  EXPECT_EQ(snapshot(loaded), snapshot(saved));
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(bytes_of(c[i]), bytes_of(a[i]));
  EXPECT_EQ(bytes_of(d[0]), bytes_of(b[0]));
}

TEST_F(OptimizerCheckpoint, LoadReplacesTheWholeState) {
  const std::vector<Tensor> p = params_of({{3}});
  optim::SGD opt(p, optim::SGDOptions(0.1).momentum(0.9));
  sigma::save(opt, path("before.safetensors"));
  steps(opt, 2);
  ASSERT_EQ(opt.state().size(), 1u);
  sigma::load(opt, path("before.safetensors"));
  EXPECT_TRUE(opt.state().empty());
}

TEST_F(OptimizerCheckpoint, StateIsSavedInTheParameterDtype) {
  // After a dtype change the buffers keep the old dtype until the next step
  // converts them; the file holds them converted (exactly: f32 to f64).
  const std::vector<Tensor> p = params_of({{3}});
  optim::SGD opt(p, optim::SGDOptions(0.1).momentum(0.9));
  steps(opt, 1);
  const Tensor buffer =
      static_cast<optim::SGDParamState&>(*opt.state().begin()->second).momentum_buffer();
  const Tensor wide = p[0].detach().to(sigma::kFloat64).requires_grad_();
  optim::SGD moved({wide}, optim::SGDOptions(0.1).momentum(0.9));
  moved.state().emplace(wide.unsafeGetTensorImpl(), opt.state().begin()->second->clone());
  sigma::save(moved, path());
  const Tensor saved = sigma::load_tensors(path())["state.0.momentum_buffer"];
  EXPECT_EQ(saved.dtype(), sigma::kFloat64);
  EXPECT_EQ(sigma::test::values(saved), sigma::test::values(buffer));
}

// ---- Validation: each error names the file and the problem, and leaves the
// optimizer as it was.

// Rewrites a checkpoint through the public tensor API.
void rewrite(const fs::path& p, const std::function<void(Dict&, sigma::Metadata&)>& edit) {
  Dict t = sigma::load_tensors(p);
  sigma::Metadata m = sigma::load_metadata(p);
  edit(t, m);
  sigma::save(t, p, m);
}

// A copy of t without key.
Dict without(const Dict& t, const std::string& key) {
  Dict out;
  for (const auto& item : t)
    if (item.key() != key) out.insert(item.key(), item.value());
  return out;
}

// Loading `file` into opt fails with every part, and changes nothing.
void expect_rejected(optim::Optimizer& opt, const fs::path& file,
                     std::vector<std::string> parts) {
  const std::string before = snapshot(opt);
  parts.insert(parts.begin(), "load: '" + file.string() + "': ");
  try {
    sigma::load(opt, file);
    ADD_FAILURE() << "load succeeded";
  } catch (const sigma::Error& e) {
    for (const auto& part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "'" << part << "' not in: " << e.what();
  }
  EXPECT_EQ(snapshot(opt), before);
}

class OptimizerCheckpointErrors : public OptimizerCheckpoint {
 protected:
  // An SGD and an Adam optimizer over a [2, 3] and a [3] parameter, stepped,
  // and files of each.
  void SetUp() override {
    OptimizerCheckpoint::SetUp();
    sgd_ = std::make_unique<optim::SGD>(sgd_params_, optim::SGDOptions(0.1).momentum(0.9));
    steps(*sgd_, 2);
    sigma::save(*sgd_, path("sgd.safetensors"));
    adam_ = std::make_unique<optim::Adam>(adam_params_, optim::AdamOptions(0.01).amsgrad(true));
    steps(*adam_, 2);
    sigma::save(*adam_, path("adam.safetensors"));
    // Targets with other state, so a partial load would show.
    steps(*sgd_, 1);
    steps(*adam_, 1);
  }
  std::vector<Tensor> sgd_params_ = params_of({{2, 3}, {3}});
  std::vector<Tensor> adam_params_ = params_of({{2, 3}, {3}});
  std::unique_ptr<optim::SGD> sgd_;
  std::unique_ptr<optim::Adam> adam_;
};

TEST_F(OptimizerCheckpointErrors, WrongOptimizerKind) {
  expect_rejected(*adam_, path("sgd.safetensors"),
                  {"the file holds the state of 'SGD', but the optimizer is Adam"});
  expect_rejected(*sgd_, path("adam.safetensors"),
                  {"the file holds the state of 'Adam', but the optimizer is SGD"});
  optim::AdamW adamw(params_of({{2, 3}, {3}}));
  expect_rejected(adamw, path("adam.safetensors"), {"but the optimizer is AdamW"});
}

TEST_F(OptimizerCheckpointErrors, NotAnOptimizerFile) {
  nn::Linear fc(2, 2);
  sigma::save(fc, path("model.safetensors"));
  expect_rejected(*sgd_, path("model.safetensors"), {"not an optimizer checkpoint"});
  expect_rejected(*sgd_, path("absent.safetensors"), {"cannot read the file"});
}

TEST_F(OptimizerCheckpointErrors, WrongNumberOfParametersOrGroups) {
  optim::SGD three(params_of({{2, 3}, {3}, {1}}), optim::SGDOptions(0.1).momentum(0.9));
  steps(three, 1);
  expect_rejected(three, path("sgd.safetensors"),
                  {"param_groups[0]: 'params' is [0,1], but the optimizer's group 0 has 3 "
                   "parameters"});
  const std::vector<Tensor> p = params_of({{2, 3}, {3}});
  std::vector<optim::OptimizerParamGroup> g;
  g.emplace_back(std::vector<Tensor>{p[0]});
  g.emplace_back(std::vector<Tensor>{p[1]});
  optim::SGD two_groups(std::move(g), optim::SGDOptions(0.1).momentum(0.9));
  expect_rejected(two_groups, path("sgd.safetensors"),
                  {"the file has 1 parameter groups, but the optimizer has 2"});
}

TEST_F(OptimizerCheckpointErrors, WrongShapeOrDtype) {
  optim::SGD transposed(params_of({{3, 2}, {3}}), optim::SGDOptions(0.1).momentum(0.9));
  steps(transposed, 1);
  expect_rejected(transposed, path("sgd.safetensors"),
                  {"tensor 'state.0.momentum_buffer' has shape [2, 3], but parameter 0 (group 0, "
                   "shape [3, 2]) does not match"});
  optim::Adam wide(params_of({{2, 3}, {3}}, sigma::kFloat64));
  steps(wide, 1);
  expect_rejected(wide, path("adam.safetensors"),
                  {"tensor 'state.0.exp_avg' has dtype", "but parameter 0 (group 0, shape [2, 3])"});
}

TEST_F(OptimizerCheckpointErrors, BadStepCount) {
  rewrite(path("adam.safetensors"), [](Dict& t, sigma::Metadata&) {
    t["state.1.step"] = sigma::scalar_tensor(-1, sigma::kLong);
  });
  expect_rejected(*adam_, path("adam.safetensors"),
                  {"tensor 'state.1.step': the step count -1 is negative"});
  rewrite(path("adam.safetensors"), [](Dict& t, sigma::Metadata&) {
    t["state.1.step"] = sigma::scalar_tensor(2.5, sigma::kFloat32);
  });
  expect_rejected(*adam_, path("adam.safetensors"),
                  {"tensor 'state.1.step' must be a 0-dim I64 step count"});
  rewrite(path("adam.safetensors"), [](Dict& t, sigma::Metadata&) {
    t["state.1.step"] = sigma::full({1}, 2, sigma::kLong);
  });
  expect_rejected(*adam_, path("adam.safetensors"), {"must be a 0-dim I64 step count"});
}

TEST_F(OptimizerCheckpointErrors, MissingStateTensor) {
  rewrite(path("adam.safetensors"),
          [](Dict& t, sigma::Metadata&) { t = without(t, "state.1.exp_avg_sq"); });
  expect_rejected(*adam_, path("adam.safetensors"),
                  {"parameter 1 (group 0, shape [3]): tensor 'state.1.exp_avg_sq' is missing"});
  rewrite(path("sgd.safetensors"),
          [](Dict& t, sigma::Metadata&) { t = without(t, "state.0.momentum_buffer"); });
  // Parameter 0 then has no state, which is valid; a stray step is not.
  rewrite(path("sgd.safetensors"), [](Dict& t, sigma::Metadata&) {
    t.insert("state.0.step", sigma::scalar_tensor(1, sigma::kLong));
  });
  expect_rejected(*sgd_, path("sgd.safetensors"),
                  {"tensor 'state.0.step': 'step' is not SGD state (SGD keeps momentum_buffer)"});
}

TEST_F(OptimizerCheckpointErrors, UnknownTensors) {
  const fs::path f = path("sgd.safetensors");
  const std::string good = slurp(f);
  auto with = [&](const std::string& key, const Tensor& t) {
    std::ofstream(f, std::ios::binary | std::ios::trunc) << good;
    rewrite(f, [&](Dict& d, sigma::Metadata&) { d.insert(key, t); });
  };
  with("extra", sigma::zeros({3}));
  expect_rejected(*sgd_, f, {"unexpected tensor 'extra'"});
  with("state.2.momentum_buffer", sigma::zeros({3}));
  expect_rejected(*sgd_, f,
                  {"tensor 'state.2.momentum_buffer' is for parameter 2, but the optimizer has 2 "
                   "parameters"});
  with("state.01.momentum_buffer", sigma::zeros({3}));
  expect_rejected(*sgd_, f, {"unexpected tensor 'state.01.momentum_buffer'"});
  with("state.1.exp_avg", sigma::zeros({3}));
  expect_rejected(*sgd_, f, {"'exp_avg' is not SGD state"});
}

TEST_F(OptimizerCheckpointErrors, BadOptionsAndMetadata) {
  const fs::path f = path("adam.safetensors");
  const std::string good = slurp(f);
  auto with_groups = [&](const std::string& groups) {
    std::ofstream(f, std::ios::binary | std::ios::trunc) << good;
    rewrite(f, [&](Dict&, sigma::Metadata& m) { m["param_groups"] = groups; });
  };
  const std::string ok_rest = R"("betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0)";
  with_groups(R"([{"params": [0, 1], "lr": -1, )" + ok_rest + R"(, "amsgrad": true}])");
  expect_rejected(*adam_, f, {"param_groups[0]: Adam: invalid learning rate: -1"});
  with_groups(R"([{"params": [0, 1], "lr": 0.1, )" + ok_rest + "}]");
  expect_rejected(*adam_, f, {"param_groups[0]: 'amsgrad' is missing"});
  with_groups(R"([{"params": [0, 1], "lr": 0.1, )" + ok_rest + R"(, "amsgrad": "yes"}])");
  expect_rejected(*adam_, f, {"'amsgrad' must be true or false, got \"yes\""});
  with_groups(R"([{"params": [0, 1], "lr": 0.1, )" + ok_rest +
              R"(, "amsgrad": true, "momentum": 0.9}])");
  expect_rejected(*adam_, f, {"param_groups[0]: unexpected entries: 'momentum'"});
  with_groups(R"([{"params": [0, 1], "lr": 0.1, "betas": [0.9, 0.99, 0.9], "eps": 1e-8,
                   "weight_decay": 0, "amsgrad": true}])");
  expect_rejected(*adam_, f, {"'betas' must hold 2 numbers, got 3"});
  with_groups(R"([{"params": [0, 1], "lr": 0.1, "betas": [1.5, 0.99], "eps": 1e-8,
                   "weight_decay": 0, "amsgrad": true}])");
  expect_rejected(*adam_, f, {"invalid beta parameter at index 0: 1.5"});
  with_groups(R"([{"params": [1, 0], "lr": 0.1, )" + ok_rest + R"(, "amsgrad": true}])");
  expect_rejected(*adam_, f, {"'params' is [1,0]"});
  with_groups("[{");
  expect_rejected(*adam_, f, {"__metadata__ 'param_groups' is not valid JSON"});
  with_groups(R"({"params": []})");
  expect_rejected(*adam_, f, {"'param_groups' must be a JSON array"});

  std::ofstream(f, std::ios::binary | std::ios::trunc) << good;
  rewrite(f, [&](Dict&, sigma::Metadata& m) { m["version"] = "2"; });
  expect_rejected(*adam_, f, {"format version '2' is not supported"});
  std::ofstream(f, std::ios::binary | std::ios::trunc) << good;
  rewrite(f, [&](Dict&, sigma::Metadata& m) { m["note"] = "x"; });
  expect_rejected(*adam_, f, {"unexpected __metadata__ entries: 'note'"});
  std::ofstream(f, std::ios::binary | std::ios::trunc) << good;
  rewrite(f, [&](Dict&, sigma::Metadata& m) { m.erase("param_groups"); });
  expect_rejected(*adam_, f, {"__metadata__ has no 'param_groups' entry"});
}

TEST_F(OptimizerCheckpointErrors, SaveRefusesNonFiniteOptions) {
  optim::SGD opt(params_of({{3}}),
                 optim::SGDOptions(0.1).momentum(0.9).dampening(
                     std::numeric_limits<double>::infinity()));
  expect_error([&] { sigma::save(opt, path("inf.safetensors")); },
               {"save: '", "param_groups[0]: 'dampening' is inf", "only finite values"});
  EXPECT_FALSE(fs::exists(path("inf.safetensors")));
}

// ---- Schedulers.

TEST_F(OptimizerCheckpoint, SchedulerRoundTripContinuesTheSchedule) {
  const std::vector<Tensor> p = params_of({{3}}), q = params_of({{3}});
  optim::SGD a(p, optim::SGDOptions(0.8));
  optim::StepLR sa(a, 3, 0.5);
  for (int i = 0; i < 7; ++i) sa.step();
  sigma::save(a, path("opt.safetensors"));
  sigma::save(sa, path("sched.safetensors"));
  EXPECT_EQ(json::parse(sigma::load_metadata(path("sched.safetensors")).at("state")),
            json::parse(R"({"last_epoch": 7, "base_lrs": [0.8], "last_lrs": [0.2],
                            "step_size": 3, "gamma": 0.5})"));

  optim::SGD b(q, optim::SGDOptions(0.8));
  sigma::load(b, path("opt.safetensors"));
  optim::StepLR sb(b, 3, 0.5);  // made after the load: base_lr 0.2 until loaded
  EXPECT_EQ(sb.base_lrs(), std::vector<double>{0.2});
  sigma::load(sb, path("sched.safetensors"));
  EXPECT_EQ(sb.last_epoch(), 7);
  EXPECT_EQ(sb.base_lrs(), std::vector<double>{0.8});
  EXPECT_EQ(sb.get_last_lr(), sa.get_last_lr());
  for (int i = 0; i < 5; ++i) {
    sa.step();
    sb.step();
    EXPECT_EQ(b.param_groups()[0].options().lr(), a.param_groups()[0].options().lr());
  }

  optim::CosineAnnealingLR ca(a, 10, 0.01);
  for (int i = 0; i < 4; ++i) ca.step();
  sigma::save(ca, path("cos.safetensors"));
  optim::CosineAnnealingLR cb(b, 10, 0.01);
  sigma::load(cb, path("cos.safetensors"));
  for (int i = 0; i < 8; ++i) {
    ca.step();
    cb.step();
    EXPECT_EQ(cb.get_last_lr(), ca.get_last_lr());
  }
}

TEST_F(OptimizerCheckpoint, SchedulerLoadErrorsLeaveItUnchanged) {
  const std::vector<Tensor> p = params_of({{3}});
  optim::SGD opt(p, optim::SGDOptions(0.8));
  optim::StepLR step(opt, 3, 0.5);
  step.step();
  sigma::save(step, path("step.safetensors"));
  optim::StepLR other_size(opt, 4, 0.5);
  optim::CosineAnnealingLR cosine(opt, 10);
  auto expect_unchanged = [](optim::LRScheduler& s, const fs::path& f,
                             std::initializer_list<std::string> parts) {
    const auto epoch = s.last_epoch();
    const auto base = s.base_lrs();
    const auto last = s.get_last_lr();
    expect_error([&] { sigma::load(s, f); }, parts);
    EXPECT_EQ(s.last_epoch(), epoch);
    EXPECT_EQ(s.base_lrs(), base);
    EXPECT_EQ(s.get_last_lr(), last);
  };
  expect_unchanged(cosine, path("step.safetensors"),
                   {"load: '", "holds a 'StepLR' scheduler, but this is CosineAnnealingLR"});
  expect_unchanged(other_size, path("step.safetensors"),
                   {"state: 'step_size' is 3, but this StepLR has 4"});
  std::vector<optim::OptimizerParamGroup> g;
  g.emplace_back(params_of({{1}}));
  g.emplace_back(params_of({{1}}));
  optim::SGD two(std::move(g), optim::SGDOptions(0.8));
  optim::StepLR two_groups(two, 3, 0.5);
  expect_unchanged(two_groups, path("step.safetensors"),
                   {"1 base and 1 last learning rates for an optimizer with 2 parameter groups"});
  rewrite(path("step.safetensors"), [](Dict&, sigma::Metadata& m) {
    m["state"] = R"({"last_epoch": -2, "base_lrs": [0.8], "last_lrs": [0.8], "step_size": 3,
                     "gamma": 0.5})";
  });
  expect_unchanged(step, path("step.safetensors"),
                   {"'last_epoch' must be a non-negative integer, got -2"});
  sigma::save(opt, path("opt.safetensors"));
  expect_unchanged(step, path("opt.safetensors"), {"not a scheduler checkpoint"});
}

// ---- RMSprop and Adagrad.

TEST_F(OptimizerCheckpoint, RMSpropAndAdagradFileLayout) {
  const std::vector<Tensor> a = params_of({{2, 3}, {3}});
  optim::RMSprop rms(a, optim::RMSpropOptions(0.125).alpha(0.5).momentum(0.25).centered(true));
  steps(rms, 3);
  sigma::save(rms, path("rms.safetensors"));
  const Dict t = sigma::load_tensors(path("rms.safetensors"));
  std::vector<std::string> keys;
  for (const auto& item : t) keys.push_back(item.key());
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "state.0.grad_avg", "state.0.momentum_buffer", "state.0.square_avg",
                      "state.0.step", "state.1.grad_avg", "state.1.momentum_buffer",
                      "state.1.square_avg", "state.1.step"}));
  EXPECT_EQ(t["state.1.step"].item<std::int64_t>(), 3);
  const auto& st = static_cast<const optim::RMSpropParamState&>(
      *rms.state().at(a[1].unsafeGetTensorImpl()));
  EXPECT_EQ(bytes_of(t["state.1.grad_avg"]), bytes_of(st.grad_avg()));
  const sigma::Metadata m = sigma::load_metadata(path("rms.safetensors"));
  EXPECT_EQ(m.at("optimizer"), "RMSprop");
  EXPECT_EQ(json::parse(m.at("param_groups")),
            json::parse(R"([{"params": [0, 1], "lr": 0.125, "alpha": 0.5, "eps": 1e-8,
                             "weight_decay": 0.0, "momentum": 0.25, "centered": true}])"));

  // Adagrad: the state is made at construction, so a fresh optimizer's file
  // holds step 0 and the initial sums of every parameter.
  const std::vector<Tensor> b = params_of({{2}, {1}}, sigma::kFloat64);
  optim::Adagrad ada(b, optim::AdagradOptions(0.5).initial_accumulator_value(0.25));
  sigma::save(ada, path("ada.safetensors"));
  const Dict u = sigma::load_tensors(path("ada.safetensors"));
  ASSERT_EQ(u.size(), 4u);
  EXPECT_EQ(u["state.0.step"].item<std::int64_t>(), 0);
  EXPECT_EQ(sigma::test::values(u["state.0.sum"]), (std::vector<double>{0.25, 0.25}));
  EXPECT_EQ(sigma::test::values(u["state.1.sum"]), (std::vector<double>{0.25}));
  EXPECT_EQ(json::parse(sigma::load_metadata(path("ada.safetensors")).at("param_groups")),
            json::parse(R"([{"params": [0, 1], "lr": 0.5, "lr_decay": 0.0, "weight_decay": 0.0,
                             "initial_accumulator_value": 0.25, "eps": 1e-10}])"));
}

// Round trip into another optimizer of the same kind: same snapshot, and
// the next steps are the same bits.
template <class Opt, class Options>
void round_trip(const fs::path& file, const Options& saved_options, const Options& other) {
  const std::vector<Tensor> a = params_of({{2, 3}, {3}}), b = params_of({{4}});
  std::vector<optim::OptimizerParamGroup> g;
  g.emplace_back(a);
  g.emplace_back(b, std::make_unique<Options>(other));
  Opt saved(std::move(g), saved_options);
  steps(saved, 4);
  sigma::save(saved, file);
  const std::vector<Tensor> c = params_of({{2, 3}, {3}}), d = params_of({{4}});
  std::vector<optim::OptimizerParamGroup> h;
  h.emplace_back(c);
  h.emplace_back(d);
  Opt loaded(std::move(h), other);
  steps(loaded, 1);
  ASSERT_NE(snapshot(loaded), snapshot(saved));
  sigma::load(loaded, file);
  EXPECT_EQ(snapshot(loaded), snapshot(saved));
  {
    sigma::NoGradGuard no_grad;
    for (std::size_t i = 0; i < 2; ++i) Tensor(c[i]).copy_(a[i]);
    Tensor(d[0]).copy_(b[0]);
  }
  steps(saved, 2);
  steps(loaded, 2);
  EXPECT_EQ(snapshot(loaded), snapshot(saved));
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(bytes_of(c[i]), bytes_of(a[i]));
  EXPECT_EQ(bytes_of(d[0]), bytes_of(b[0]));
}

TEST_F(OptimizerCheckpoint, RMSpropAndAdagradRoundTrips) {
  round_trip<optim::RMSprop>(path("rms.safetensors"),
                             optim::RMSpropOptions(0.01).centered(true).momentum(0.9),
                             optim::RMSpropOptions(0.03).alpha(0.8).weight_decay(0.1));
  round_trip<optim::Adagrad>(path("ada.safetensors"),
                             optim::AdagradOptions(0.2).lr_decay(0.1).weight_decay(0.01),
                             optim::AdagradOptions(0.05).initial_accumulator_value(1.0).eps(1e-3));
}

TEST_F(OptimizerCheckpoint, RMSpropAndAdagradFilesRejectedWithoutChange) {
  const std::vector<Tensor> p = params_of({{2, 3}, {3}}), q = params_of({{2, 3}, {3}});
  optim::RMSprop rms(p, optim::RMSpropOptions(0.01).momentum(0.5));
  optim::Adagrad ada(q, optim::AdagradOptions(0.1));
  steps(rms, 2);
  steps(ada, 2);
  const fs::path rf = path("rms.safetensors"), af = path("ada.safetensors");
  sigma::save(rms, rf);
  sigma::save(ada, af);
  steps(rms, 1);
  steps(ada, 1);
  expect_rejected(ada, rf, {"the file holds the state of 'RMSprop', but the optimizer is Adagrad"});
  expect_rejected(rms, af, {"the file holds the state of 'Adagrad', but the optimizer is RMSprop"});

  const std::string rgood = slurp(rf), agood = slurp(af);
  auto reset = [](const fs::path& f, const std::string& bytes) {
    std::ofstream(f, std::ios::binary | std::ios::trunc) << bytes;
  };
  rewrite(rf, [](Dict& t, sigma::Metadata&) { t = without(t, "state.0.square_avg"); });
  expect_rejected(rms, rf,
                  {"parameter 0 (group 0, shape [2, 3]): tensor 'state.0.square_avg' is missing"});
  reset(rf, rgood);
  rewrite(rf, [](Dict& t, sigma::Metadata&) { t.insert("state.1.exp_avg", sigma::zeros({3})); });
  expect_rejected(rms, rf,
                  {"'exp_avg' is not RMSprop state (RMSprop keeps step, square_avg, "
                   "momentum_buffer, grad_avg)"});
  reset(rf, rgood);
  rewrite(rf, [](Dict&, sigma::Metadata& m) {
    m["param_groups"] = R"([{"params": [0, 1], "lr": 0.01, "alpha": -0.5, "eps": 1e-8,
                             "weight_decay": 0, "momentum": 0.5, "centered": false}])";
  });
  expect_rejected(rms, rf, {"param_groups[0]: RMSprop: invalid alpha value: -0.5"});
  reset(rf, rgood);
  rewrite(rf,
          [](Dict& t, sigma::Metadata&) { t["state.0.momentum_buffer"] = sigma::zeros({3, 2}); });
  expect_rejected(rms, rf, {"tensor 'state.0.momentum_buffer' has shape [3, 2]"});

  rewrite(af, [](Dict& t, sigma::Metadata&) { t = without(t, "state.1.step"); });
  expect_rejected(ada, af, {"tensor 'state.1.step' is missing"});
  reset(af, agood);
  rewrite(af, [](Dict&, sigma::Metadata& m) {
    m["param_groups"] = R"([{"params": [0, 1], "lr": 0.1, "weight_decay": 0,
                             "initial_accumulator_value": 0, "eps": 1e-10}])";
  });
  expect_rejected(ada, af, {"param_groups[0]: 'lr_decay' is missing"});
  reset(af, agood);
  rewrite(af, [](Dict&, sigma::Metadata& m) {
    m["param_groups"] = R"([{"params": [0, 1], "lr": 0.1, "lr_decay": 0, "weight_decay": 0,
                             "initial_accumulator_value": -1, "eps": 1e-10}])";
  });
  expect_rejected(ada, af, {"Adagrad: invalid initial_accumulator_value value: -1"});
}

// ---- ExponentialLR, LambdaLR and ReduceLROnPlateau.

TEST_F(OptimizerCheckpoint, ExponentialAndLambdaRoundTrips) {
  const std::vector<Tensor> p = params_of({{3}}), q = params_of({{3}});
  optim::SGD a(p, optim::SGDOptions(0.8));
  optim::SGD b(q, optim::SGDOptions(0.8));
  optim::ExponentialLR ea(a, 0.5);
  for (int i = 0; i < 3; ++i) ea.step();
  sigma::save(ea, path("exp.safetensors"));
  EXPECT_EQ(json::parse(sigma::load_metadata(path("exp.safetensors")).at("state")),
            json::parse(R"({"last_epoch": 3, "base_lrs": [0.8], "last_lrs": [0.1],
                            "gamma": 0.5})"));
  optim::ExponentialLR eb(b, 0.5);
  sigma::load(eb, path("exp.safetensors"));
  for (int i = 0; i < 4; ++i) {
    ea.step();
    eb.step();
    EXPECT_EQ(eb.get_last_lr(), ea.get_last_lr());
    EXPECT_EQ(b.param_groups()[0].options().lr(), a.param_groups()[0].options().lr());
  }
  optim::ExponentialLR other_gamma(b, 0.25);
  expect_error([&] { sigma::load(other_gamma, path("exp.safetensors")); },
               {"'gamma' is 0.5, but this ExponentialLR has 0.25"});

  // The function is not saved: the loaded scheduler keeps its own, only t
  // and the rates come from the file.
  auto lambda = [](std::int64_t t) { return 1.0 / static_cast<double>(t + 1); };
  optim::LambdaLR la(a, lambda);
  for (int i = 0; i < 3; ++i) la.step();
  sigma::save(la, path("lambda.safetensors"));
  const json state = json::parse(sigma::load_metadata(path("lambda.safetensors")).at("state"));
  EXPECT_EQ(state.at("last_epoch"), 3);
  EXPECT_EQ(state.at("lr_lambdas"), json::parse("[null]"));
  optim::LambdaLR lb(b, lambda);
  sigma::load(lb, path("lambda.safetensors"));
  EXPECT_EQ(lb.last_epoch(), 3);
  EXPECT_EQ(lb.base_lrs(), la.base_lrs());
  for (int i = 0; i < 3; ++i) {
    la.step();
    lb.step();
    EXPECT_EQ(lb.get_last_lr(), la.get_last_lr());
  }
  std::vector<optim::OptimizerParamGroup> g;
  g.emplace_back(params_of({{1}}));
  g.emplace_back(params_of({{1}}));
  optim::SGD two(std::move(g), optim::SGDOptions(0.8));
  optim::LambdaLR l2(two, lambda);
  expect_error([&] { sigma::load(l2, path("lambda.safetensors")); },
               {"'lr_lambdas' lists 1 functions, but this LambdaLR has 2"});
  EXPECT_EQ(l2.last_epoch(), 0);
  expect_error([&] { sigma::load(l2, path("exp.safetensors")); },
               {"holds a 'ExponentialLR' scheduler, but this is LambdaLR"});
}

TEST_F(OptimizerCheckpoint, ReduceLROnPlateauRoundTrip) {
  using Plateau = optim::ReduceLROnPlateauScheduler;
  const std::vector<Tensor> p = params_of({{3}}), q = params_of({{3}});
  optim::SGD a(p, optim::SGDOptions(1.0));
  optim::SGD b(q, optim::SGDOptions(1.0));
  Plateau sa(a, Plateau::max, 0.5, 1, 0.1, Plateau::abs, 1, {0.01f});
  // Before any metric best is -inf, written as a string.
  sigma::save(sa, path("fresh.safetensors"));
  EXPECT_EQ(json::parse(sigma::load_metadata(path("fresh.safetensors")).at("state")).at("best"),
            "-inf");
  const std::vector<float> metrics = {1.0f, 1.05f, 1.02f, 1.5f, 1.4f, 1.3f, 1.2f, 1.6f, 1.0f};
  for (std::size_t i = 0; i < 5; ++i) sa.step(metrics[i]);
  sigma::save(sa, path("plateau.safetensors"));
  sigma::save(a, path("opt.safetensors"));
  const json state = json::parse(sigma::load_metadata(path("plateau.safetensors")).at("state"));
  EXPECT_EQ(state.at("last_epoch"), 5);
  EXPECT_EQ(state.at("best"), static_cast<double>(1.5f));
  EXPECT_EQ(state.at("mode"), "max");
  EXPECT_EQ(state.at("threshold_mode"), "abs");

  Plateau sb(b, Plateau::max, 0.5, 1, 0.1, Plateau::abs, 1, {0.01f});
  sigma::load(b, path("opt.safetensors"));
  sigma::load(sb, path("plateau.safetensors"));
  EXPECT_EQ(sb.last_epoch(), sa.last_epoch());
  EXPECT_EQ(sb.best(), sa.best());
  EXPECT_EQ(sb.num_bad_epochs(), sa.num_bad_epochs());
  EXPECT_EQ(sb.cooldown_counter(), sa.cooldown_counter());
  EXPECT_EQ(sb.get_last_lr(), sa.get_last_lr());
  for (std::size_t i = 5; i < metrics.size(); ++i) {
    sa.step(metrics[i]);
    sb.step(metrics[i]);
    EXPECT_EQ(b.param_groups()[0].options().lr(), a.param_groups()[0].options().lr()) << i;
    EXPECT_EQ(sb.num_bad_epochs(), sa.num_bad_epochs()) << i;
  }
  // The fresh file restores best = -inf.
  sigma::load(sb, path("fresh.safetensors"));
  EXPECT_EQ(sb.best(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(sb.last_epoch(), 0);

  // Other settings, or another kind of file: rejected, nothing changed.
  auto unchanged = [](Plateau& s, const fs::path& f, std::initializer_list<std::string> parts) {
    const auto epoch = s.last_epoch();
    const double best = s.best();
    const auto bad = s.num_bad_epochs();
    expect_error([&] { sigma::load(s, f); }, parts);
    EXPECT_EQ(s.last_epoch(), epoch);
    EXPECT_EQ(s.best(), best);
    EXPECT_EQ(s.num_bad_epochs(), bad);
  };
  Plateau other_mode(b, Plateau::min, 0.5, 1, 0.1, Plateau::abs, 1, {0.01f});
  unchanged(other_mode, path("plateau.safetensors"),
            {"state: 'mode' is \"max\", but this ReduceLROnPlateau has \"min\""});
  Plateau other_patience(b, Plateau::max, 0.5, 3, 0.1, Plateau::abs, 1, {0.01f});
  unchanged(other_patience, path("plateau.safetensors"), {"'patience' is 1, but"});
  Plateau other_min(b, Plateau::max, 0.5, 1, 0.1, Plateau::abs, 1);
  unchanged(other_min, path("plateau.safetensors"), {"'min_lrs' is"});
  optim::StepLR step(a, 2);
  sigma::save(step, path("step.safetensors"));
  unchanged(sb, path("step.safetensors"),
            {"holds a 'StepLR' scheduler, but this is ReduceLROnPlateau"});
  expect_error([&] { sigma::load(step, path("plateau.safetensors")); },
               {"holds a 'ReduceLROnPlateau' scheduler, but this is StepLR"});
  rewrite(path("plateau.safetensors"), [](Dict&, sigma::Metadata& m) {
    json j = json::parse(m.at("state"));
    j["best"] = "nan";
    m["state"] = j.dump();
  });
  unchanged(sb, path("plateau.safetensors"),
            {"'best' must be a number, \"inf\" or \"-inf\", got \"nan\""});
  rewrite(path("plateau.safetensors"), [](Dict&, sigma::Metadata& m) {
    json j = json::parse(m.at("state"));
    j["best"] = 2.0;
    j["num_bad_epochs"] = -1;
    m["state"] = j.dump();
  });
  unchanged(sb, path("plateau.safetensors"),
            {"'num_bad_epochs' must be a non-negative integer, got -1"});
}

}  // namespace
