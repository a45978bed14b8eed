// serialize.cpp: sigma::save / sigma::load of optimizers and LR schedulers,
// in safetensors files written and validated by the io layer.
//
// An optimizer file:
//   __metadata__ "optimizer":    "SGD", "Adam", "AdamW", "RMSprop" or "Adagrad"
//                "version":      "1"
//                "param_groups": JSON, one object per group in order, as
//                  PyTorch's state_dict()["param_groups"]: the indices of its
//                  parameters (counted over all groups) and every option,
//                  [{"params": [0, 1], "lr": 0.1, "momentum": 0.9,
//                    "dampening": 0.0, "weight_decay": 0.0, "nesterov": true}]
//   tensors, for each parameter index i that has state:
//     SGD:         state.i.momentum_buffer
//     Adam, AdamW: state.i.step (I64, 0-dim), state.i.exp_avg,
//                  state.i.exp_avg_sq, state.i.max_exp_avg_sq (if made: AMSGrad)
//     RMSprop:     state.i.step, state.i.square_avg, state.i.momentum_buffer
//                  (if made: momentum), state.i.grad_avg (if made: centered)
//     Adagrad:     state.i.step, state.i.sum (every parameter: Adagrad makes
//                  its state at construction)
// The state is tensors of the parameter's shape and dtype, kept bit for bit
// under the names PyTorch gives them; the step count is per parameter (in
// PyTorch too), so it sits beside them. Options are a few scalars per group,
// clearest as JSON; doubles are written in their shortest round-trip form
// and read back exactly (non-finite options cannot be saved).
//
// A scheduler file has no tensors:
//   __metadata__ "scheduler": "StepLR", "ExponentialLR", "CosineAnnealingLR",
//                "LambdaLR" or "ReduceLROnPlateau", "version": "1",
//                "state": {"last_epoch": 10, "base_lrs": [...], "last_lrs": [...],
//                          "step_size": 3, "gamma": 0.5}  (or "gamma"; "T_max",
//                          "eta_min"; "lr_lambdas": [null, ...])
//   LambdaLR's functions are not saved (written as null, as PyTorch writes
//   None for plain functions): only their count, which must match on load.
//   ReduceLROnPlateau: {"last_epoch", "best" (a number, or "inf" / "-inf"
//   before any metric), "num_bad_epochs", "cooldown_counter", "last_lrs",
//   and its settings "mode" ("min"/"max"), "factor", "patience", "threshold",
//   "threshold_mode" ("rel"/"abs"), "cooldown", "min_lrs", "eps", which must
//   match the scheduler's on load}.
//
// Loads build the new options and state completely, checking everything,
// and only then swap them in.
#include "sigma/optim/serialize.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "io/safetensors.h"
#include "sigma/ops.h"
#include "sigma/optim/adagrad.h"
#include "sigma/optim/adam.h"
#include "sigma/optim/rmsprop.h"
#include "sigma/optim/sgd.h"

namespace sigma {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;
using optim::Optimizer;

constexpr const char* kVersion = "1";

std::string where(const char* op, const fs::path& path) {
  return std::string(op) + ": '" + path.string() + "'";
}

// A name from the file, quoted and cut short.
std::string quote(const std::string& s) {
  constexpr std::size_t kMax = 80;
  return "'" + (s.size() <= kMax ? s : s.substr(0, kMax) + "...") + "'";
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// ---- JSON: values checked field by field, messages naming the field.

class Fields {
 public:
  Fields(const json& object, std::string where) : object_(object), where_(std::move(where)) {
    if (!object_.is_object()) fail("must be a JSON object, got " + text(object_));
  }
  [[noreturn]] void fail(const std::string& problem) const { throw Error(where_ + ": " + problem); }

  const json& get(const char* key) {
    used_.insert(key);
    const auto it = object_.find(key);
    if (it == object_.end()) fail(std::string("'") + key + "' is missing");
    return *it;
  }
  double number(const char* key) {
    const json& v = get(key);
    if (!v.is_number()) fail(std::string("'") + key + "' must be a number, got " + text(v));
    return v.get<double>();
  }
  bool boolean(const char* key) {
    const json& v = get(key);
    if (!v.is_boolean()) fail(std::string("'") + key + "' must be true or false, got " + text(v));
    return v.get<bool>();
  }
  // nlohmann reads integers without a '-' as unsigned.
  std::int64_t count(const char* key) {
    const json& v = get(key);
    if (!v.is_number_unsigned())
      fail(std::string("'") + key + "' must be a non-negative integer, got " + text(v));
    if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
      fail(std::string("'") + key + "' is too large: " + text(v));
    return v.get<std::int64_t>();
  }
  std::vector<double> numbers(const char* key) {
    const json& v = get(key);
    std::vector<double> out;
    if (v.is_array())
      for (const json& x : v) {
        if (!x.is_number()) break;
        out.push_back(x.get<double>());
      }
    if (!v.is_array() || out.size() != v.size())
      fail(std::string("'") + key + "' must be an array of numbers, got " + text(v));
    return out;
  }
  // Every key of the object must have been asked for.
  void no_others() const {
    std::vector<std::string> extra;
    for (const auto& [k, v] : object_.items())
      if (!used_.count(k)) extra.push_back(quote(k));
    if (!extra.empty()) fail("unexpected entries: " + join(extra));
  }

  static std::string text(const json& v) {
    std::string s = v.dump();
    return s.size() <= 60 ? s : s.substr(0, 60) + "...";
  }

 private:
  const json& object_;
  std::string where_;
  std::set<std::string, std::less<>> used_;
};

json parse_json(const std::string& text, const std::string& where) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(where + " is not valid JSON");
  return j;
}

// JSON has no infinities or NaNs (nlohmann would write null).
double finite(const char* key, double v, const std::string& where) {
  if (!std::isfinite(v))
    throw Error(where + ": '" + key + "' is " + std::to_string(v) +
                "; only finite values can be saved");
  return v;
}

// The metadata entries a file must have, exactly, and a version sigma reads.
void expect_metadata(const Metadata& m, const std::vector<std::string>& keys,
                         const std::string& w) {
  for (const auto& k : keys)
    if (!m.count(k)) throw Error(w + ": __metadata__ has no " + quote(k) + " entry");
  std::vector<std::string> extra;
  for (const auto& [k, v] : m)
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) extra.push_back(quote(k));
  if (!extra.empty()) throw Error(w + ": unexpected __metadata__ entries: " + join(extra));
  if (m.at("version") != kVersion)
    throw Error(w + ": format version " + quote(m.at("version")) + " is not supported (sigma " +
                "reads version " + kVersion + ")");
}

// ---- Optimizers: the kinds, their options and their state tensors.

enum class Kind { SGD, Adam, AdamW, RMSprop, Adagrad };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::SGD:
      return "SGD";
    case Kind::Adam:
      return "Adam";
    case Kind::AdamW:
      return "AdamW";
    case Kind::RMSprop:
      return "RMSprop";
    case Kind::Adagrad:
      return "Adagrad";
  }
  return "?";
}

Kind kind_of(const Optimizer& o, const std::string& w) {
  if (dynamic_cast<const optim::SGD*>(&o)) return Kind::SGD;
  if (dynamic_cast<const optim::Adam*>(&o)) return Kind::Adam;
  if (dynamic_cast<const optim::AdamW*>(&o)) return Kind::AdamW;
  if (dynamic_cast<const optim::RMSprop*>(&o)) return Kind::RMSprop;
  if (dynamic_cast<const optim::Adagrad*>(&o)) return Kind::Adagrad;
  throw Error(w +
              ": only SGD, Adam, AdamW, RMSprop and Adagrad optimizers can be saved and loaded");
}

// The state tensors of a kind: all required once a parameter has state,
// except the optional ones.
struct StateNames {
  std::vector<std::string> required;
  std::vector<std::string> optional;
};

StateNames state_names(Kind k) {
  switch (k) {
    case Kind::SGD:
      return {{"momentum_buffer"}, {}};
    case Kind::RMSprop:
      return {{"step", "square_avg"}, {"momentum_buffer", "grad_avg"}};
    case Kind::Adagrad:
      return {{"step", "sum"}, {}};
    default:
      return {{"step", "exp_avg", "exp_avg_sq"}, {"max_exp_avg_sq"}};
  }
}

template <class O>
const O& options_as(const optim::OptimizerParamGroup& group, Kind k, const std::string& w) {
  const auto* o = dynamic_cast<const O*>(&group.options());
  if (!o) throw Error(w + ": the group's options are not " + kind_name(k) + "Options");
  return *o;
}

void put_options(ordered_json& j, Kind k, const optim::OptimizerParamGroup& group,
                 const std::string& w) {
  if (k == Kind::SGD) {
    const auto& o = options_as<optim::SGDOptions>(group, k, w);
    j["lr"] = finite("lr", o.lr(), w);
    j["momentum"] = finite("momentum", o.momentum(), w);
    j["dampening"] = finite("dampening", o.dampening(), w);
    j["weight_decay"] = finite("weight_decay", o.weight_decay(), w);
    j["nesterov"] = o.nesterov();
    return;
  }
  if (k == Kind::RMSprop) {
    const auto& o = options_as<optim::RMSpropOptions>(group, k, w);
    j["lr"] = finite("lr", o.lr(), w);
    j["alpha"] = finite("alpha", o.alpha(), w);
    j["eps"] = finite("eps", o.eps(), w);
    j["weight_decay"] = finite("weight_decay", o.weight_decay(), w);
    j["momentum"] = finite("momentum", o.momentum(), w);
    j["centered"] = o.centered();
    return;
  }
  if (k == Kind::Adagrad) {
    const auto& o = options_as<optim::AdagradOptions>(group, k, w);
    j["lr"] = finite("lr", o.lr(), w);
    j["lr_decay"] = finite("lr_decay", o.lr_decay(), w);
    j["weight_decay"] = finite("weight_decay", o.weight_decay(), w);
    j["initial_accumulator_value"] =
        finite("initial_accumulator_value", o.initial_accumulator_value(), w);
    j["eps"] = finite("eps", o.eps(), w);
    return;
  }
  auto adam = [&](const auto& o) {
    j["lr"] = finite("lr", o.lr(), w);
    j["betas"] = {finite("betas", std::get<0>(o.betas()), w),
                  finite("betas", std::get<1>(o.betas()), w)};
    j["eps"] = finite("eps", o.eps(), w);
    j["weight_decay"] = finite("weight_decay", o.weight_decay(), w);
    j["amsgrad"] = o.amsgrad();
  };
  if (k == Kind::Adam)
    adam(options_as<optim::AdamOptions>(group, k, w));
  else
    adam(options_as<optim::AdamWOptions>(group, k, w));
}

// The options of one group from the file, range-checked by the optimizer's
// own constructor (on no parameters), so the limits live in one place.
std::unique_ptr<optim::OptimizerOptions> read_options(Kind k, Fields& f) {
  auto checked = [&](auto make) {
    try {
      return make();
    } catch (const Error& e) {
      f.fail(e.what());
    }
  };
  if (k == Kind::SGD) {
    optim::SGDOptions o(f.number("lr"));
    o.momentum(f.number("momentum"))
        .dampening(f.number("dampening"))
        .weight_decay(f.number("weight_decay"))
        .nesterov(f.boolean("nesterov"));
    f.no_others();
    checked([&] { return optim::SGD(std::vector<Tensor>{}, o).size(); });
    return std::make_unique<optim::SGDOptions>(o);
  }
  if (k == Kind::RMSprop) {
    optim::RMSpropOptions o(f.number("lr"));
    o.alpha(f.number("alpha"))
        .eps(f.number("eps"))
        .weight_decay(f.number("weight_decay"))
        .momentum(f.number("momentum"))
        .centered(f.boolean("centered"));
    f.no_others();
    checked([&] { return optim::RMSprop(std::vector<Tensor>{}, o).size(); });
    return std::make_unique<optim::RMSpropOptions>(o);
  }
  if (k == Kind::Adagrad) {
    optim::AdagradOptions o(f.number("lr"));
    o.lr_decay(f.number("lr_decay"))
        .weight_decay(f.number("weight_decay"))
        .initial_accumulator_value(f.number("initial_accumulator_value"))
        .eps(f.number("eps"));
    f.no_others();
    checked([&] { return optim::Adagrad(std::vector<Tensor>{}, o).size(); });
    return std::make_unique<optim::AdagradOptions>(o);
  }
  auto adam = [&](auto o, auto make_optimizer) -> std::unique_ptr<optim::OptimizerOptions> {
    o.lr(f.number("lr"));
    const std::vector<double> betas = f.numbers("betas");
    if (betas.size() != 2)
      f.fail("'betas' must hold 2 numbers, got " + std::to_string(betas.size()));
    o.betas({betas[0], betas[1]})
        .eps(f.number("eps"))
        .weight_decay(f.number("weight_decay"))
        .amsgrad(f.boolean("amsgrad"));
    f.no_others();
    checked([&] { return make_optimizer(o).size(); });
    return std::make_unique<decltype(o)>(o);
  };
  if (k == Kind::Adam)
    return adam(optim::AdamOptions(), [](const optim::AdamOptions& o) {
      return optim::Adam(std::vector<Tensor>{}, o);
    });
  return adam(optim::AdamWOptions(), [](const optim::AdamWOptions& o) {
    return optim::AdamW(std::vector<Tensor>{}, o);
  });
}

// The state of one parameter as named tensors, converted to the parameter's
// dtype (the update converts a stale dtype so too, exactly).
std::vector<std::pair<std::string, Tensor>> state_tensors(Kind k,
                                                          const optim::OptimizerParamState& s,
                                                          const Tensor& param,
                                                          const std::string& w) {
  std::vector<std::pair<std::string, Tensor>> out;
  auto add = [&](const char* name, const Tensor& t) {
    if (t.defined()) out.emplace_back(name, t.to(param.dtype()).contiguous());
  };
  if (k == Kind::SGD) {
    const auto* st = dynamic_cast<const optim::SGDParamState*>(&s);
    if (!st) throw Error(w + ": a parameter's state is not an SGDParamState");
    add("momentum_buffer", st->momentum_buffer());
    return out;
  }
  if (k == Kind::RMSprop) {
    const auto* st = dynamic_cast<const optim::RMSpropParamState*>(&s);
    if (!st) throw Error(w + ": a parameter's state is not an RMSpropParamState");
    if (!st->square_avg().defined()) return out;  // never stepped
    out.emplace_back("step", scalar_tensor(st->step(), kLong));
    add("square_avg", st->square_avg());
    add("momentum_buffer", st->momentum_buffer());
    add("grad_avg", st->grad_avg());
    return out;
  }
  if (k == Kind::Adagrad) {
    const auto* st = dynamic_cast<const optim::AdagradParamState*>(&s);
    if (!st) throw Error(w + ": a parameter's state is not an AdagradParamState");
    if (!st->sum().defined()) return out;
    out.emplace_back("step", scalar_tensor(st->step(), kLong));
    add("sum", st->sum());
    return out;
  }
  const auto* st = dynamic_cast<const optim::AdamParamState*>(&s);
  if (!st) throw Error(w + ": a parameter's state is not an AdamParamState");
  if (!st->exp_avg().defined() || !st->exp_avg_sq().defined()) return out;  // never stepped
  out.emplace_back("step", scalar_tensor(st->step(), kLong));
  add("exp_avg", st->exp_avg());
  add("exp_avg_sq", st->exp_avg_sq());
  add("max_exp_avg_sq", st->max_exp_avg_sq());
  return out;
}

// "state.<index>.<name>", index in decimal without sign or leading zeros.
bool parse_state_key(const std::string& key, std::size_t& index, std::string& name) {
  constexpr std::string_view prefix = "state.";
  if (key.compare(0, prefix.size(), prefix) != 0) return false;
  const std::size_t dot = key.find('.', prefix.size());
  if (dot == std::string::npos || dot == prefix.size()) return false;
  const char* first = key.data() + prefix.size();
  const char* last = key.data() + dot;
  if (*first == '0' && last - first > 1) return false;
  if (*first < '0' || *first > '9') return false;
  const auto [end, ec] = std::from_chars(first, last, index);
  if (ec != std::errc() || end != last) return false;
  name = key.substr(dot + 1);
  return true;
}

struct ParamRef {
  const Tensor* tensor;
  std::size_t group;
};

// Builds the per-parameter state of the file, keyed like Optimizer::state().
Optimizer::StateMap read_state(Kind k, const OrderedDict<std::string, Tensor>& tensors,
                               const std::vector<ParamRef>& params, const std::string& w) {
  const StateNames names = state_names(k);
  auto known = [&](const std::string& n) {
    return std::find(names.required.begin(), names.required.end(), n) != names.required.end() ||
           std::find(names.optional.begin(), names.optional.end(), n) != names.optional.end();
  };
  std::map<std::size_t, std::map<std::string, Tensor>> by_param;
  for (const auto& item : tensors) {
    std::size_t index = 0;
    std::string name;
    if (!parse_state_key(item.key(), index, name))
      throw Error(w + ": unexpected tensor " + quote(item.key()) +
                  " (an optimizer file holds state.<parameter index>.<name> tensors)");
    if (index >= params.size())
      throw Error(w + ": tensor " + quote(item.key()) + " is for parameter " +
                  std::to_string(index) + ", but the optimizer has " +
                  std::to_string(params.size()) + " parameters");
    if (!known(name)) {
      std::vector<std::string> all = names.required;
      all.insert(all.end(), names.optional.begin(), names.optional.end());
      throw Error(w + ": tensor " + quote(item.key()) + ": " + quote(name) + " is not " +
                  kind_name(k) + " state (" + kind_name(k) + " keeps " + join(all) + ")");
    }
    by_param[index][name] = item.value();
  }

  Optimizer::StateMap state;
  for (auto& [index, found] : by_param) {
    const Tensor& p = *params[index].tensor;
    const std::string which = "parameter " + std::to_string(index) + " (group " +
                              std::to_string(params[index].group) + ", shape " +
                              shape_string(p.sizes()) + ")";
    for (const auto& n : names.required)
      if (!found.count(n))
        throw Error(w + ": " + which + ": tensor " +
                    quote("state." + std::to_string(index) + "." + n) + " is missing");
    std::int64_t step = 0;
    for (auto& [n, t] : found) {
      const std::string key = quote("state." + std::to_string(index) + "." + n);
      if (n == "step") {
        if (t.dtype() != kLong || t.dim() != 0)
          throw Error(w + ": tensor " + key + " must be a 0-dim I64 step count, got " +
                      to_string(t.dtype()) + " of shape " + shape_string(t.sizes()));
        step = t.item<std::int64_t>();
        if (step < 0)
          throw Error(w + ": tensor " + key + ": the step count " + std::to_string(step) +
                      " is negative");
        continue;
      }
      if (!(t.sizes() == p.sizes()))
        throw Error(w + ": tensor " + key + " has shape " + shape_string(t.sizes()) + ", but " +
                    which + " does not match");
      if (t.dtype() != p.dtype())
        throw Error(w + ": tensor " + key + " has dtype " + to_string(t.dtype()) + ", but " +
                    which + " is " + to_string(p.dtype()));
    }
    std::unique_ptr<optim::OptimizerParamState> s;
    if (k == Kind::SGD) {
      auto sgd = std::make_unique<optim::SGDParamState>();
      sgd->momentum_buffer(found.at("momentum_buffer"));
      s = std::move(sgd);
    } else if (k == Kind::RMSprop) {
      auto rms = std::make_unique<optim::RMSpropParamState>();
      rms->step(step).square_avg(found.at("square_avg"));
      if (found.count("momentum_buffer")) rms->momentum_buffer(found.at("momentum_buffer"));
      if (found.count("grad_avg")) rms->grad_avg(found.at("grad_avg"));
      s = std::move(rms);
    } else if (k == Kind::Adagrad) {
      auto ada = std::make_unique<optim::AdagradParamState>();
      ada->step(step).sum(found.at("sum"));
      s = std::move(ada);
    } else {
      auto adam = std::make_unique<optim::AdamParamState>();
      adam->step(step).exp_avg(found.at("exp_avg")).exp_avg_sq(found.at("exp_avg_sq"));
      if (found.count("max_exp_avg_sq")) adam->max_exp_avg_sq(found.at("max_exp_avg_sq"));
      s = std::move(adam);
    }
    state.emplace(static_cast<const void*>(p.unsafeGetTensorImpl()), std::move(s));
  }
  return state;
}

// ---- Schedulers.

enum class Schedule { Step, Exponential, Cosine, Lambda };

Schedule schedule_of(const optim::LRScheduler& s, const std::string& w) {
  if (dynamic_cast<const optim::StepLR*>(&s)) return Schedule::Step;
  if (dynamic_cast<const optim::ExponentialLR*>(&s)) return Schedule::Exponential;
  if (dynamic_cast<const optim::CosineAnnealingLR*>(&s)) return Schedule::Cosine;
  if (dynamic_cast<const optim::LambdaLR*>(&s)) return Schedule::Lambda;
  throw Error(w + ": only StepLR, ExponentialLR, CosineAnnealingLR and LambdaLR schedulers " +
              "can be saved and loaded");
}

const char* schedule_name(Schedule s) {
  switch (s) {
    case Schedule::Step:
      return "StepLR";
    case Schedule::Exponential:
      return "ExponentialLR";
    case Schedule::Cosine:
      return "CosineAnnealingLR";
    case Schedule::Lambda:
      return "LambdaLR";
  }
  return "?";
}

// The metadata of a scheduler file of the given name, checked; its state JSON.
json read_scheduler_state(const fs::path& path, const std::string& w, const char* name) {
  io::TensorFile file = io::read_tensors("load", path);
  const Metadata& m = file.metadata;
  if (!m.count("scheduler"))
    throw Error(w + ": not a scheduler checkpoint (__metadata__ has no 'scheduler' entry)");
  if (m.at("scheduler") != name)
    throw Error(w + ": the file holds a " + quote(m.at("scheduler")) + " scheduler, but this is " +
                name);
  expect_metadata(m, {"scheduler", "version", "state"}, w);
  if (!file.tensors.is_empty())
    throw Error(w + ": a scheduler file holds no tensors, but this one has " +
                std::to_string(file.tensors.size()));
  return parse_json(m.at("state"), w + ": __metadata__ 'state'");
}

ordered_json lr_array(const char* key, const std::vector<double>& lrs, const std::string& w) {
  ordered_json a = ordered_json::array();
  for (double lr : lrs) a.push_back(finite(key, lr, w));
  return a;
}

using Plateau = optim::ReduceLROnPlateauScheduler;
constexpr const char* kPlateau = "ReduceLROnPlateau";

}  // namespace

void save(const optim::Optimizer& optimizer, const fs::path& path) {
  const std::string w = where("save", path);
  const Kind k = kind_of(optimizer, w);
  OrderedDict<std::string, Tensor> tensors("Key");
  ordered_json groups = ordered_json::array();
  std::size_t index = 0;
  const auto& groups_in = optimizer.param_groups();
  for (std::size_t g = 0; g < groups_in.size(); ++g) {
    const std::string wg = w + ": param_groups[" + std::to_string(g) + "]";
    ordered_json group = ordered_json::object();
    group["params"] = ordered_json::array();
    for (const Tensor& p : groups_in[g].params()) {
      group["params"].push_back(index);
      const auto it = optimizer.state().find(static_cast<const void*>(p.unsafeGetTensorImpl()));
      if (it != optimizer.state().end() && it->second)
        for (auto& [name, t] : state_tensors(k, *it->second, p, wg))
          tensors.insert("state." + std::to_string(index) + "." + name, std::move(t));
      ++index;
    }
    put_options(group, k, groups_in[g], wg);
    groups.push_back(std::move(group));
  }
  io::write_tensors("save", tensors, path,
                    {{"optimizer", kind_name(k)},
                     {"version", kVersion},
                     {"param_groups", groups.dump()}});
}

void load(optim::Optimizer& optimizer, const fs::path& path) {
  const std::string w = where("load", path);
  const Kind k = kind_of(optimizer, w);
  io::TensorFile file = io::read_tensors("load", path);
  const Metadata& m = file.metadata;
  if (!m.count("optimizer"))
    throw Error(w + ": not an optimizer checkpoint (__metadata__ has no 'optimizer' entry)");
  if (m.at("optimizer") != kind_name(k))
    throw Error(w + ": the file holds the state of " + quote(m.at("optimizer")) +
                ", but the optimizer is " + kind_name(k));
  expect_metadata(m, {"optimizer", "version", "param_groups"}, w);

  const json groups = parse_json(m.at("param_groups"), w + ": __metadata__ 'param_groups'");
  auto& groups_out = optimizer.param_groups();
  if (!groups.is_array())
    throw Error(w + ": __metadata__ 'param_groups' must be a JSON array, got " +
                Fields::text(groups));
  if (groups.size() != groups_out.size())
    throw Error(w + ": the file has " + std::to_string(groups.size()) +
                " parameter groups, but the optimizer has " + std::to_string(groups_out.size()));
  std::vector<std::unique_ptr<optim::OptimizerOptions>> options;
  std::vector<ParamRef> params;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    Fields f(groups[g], w + ": param_groups[" + std::to_string(g) + "]");
    const json& listed = f.get("params");
    const std::size_t first = params.size(), n = groups_out[g].params().size();
    bool consecutive = listed.is_array() && listed.size() == n;
    for (std::size_t i = 0; consecutive && i < n; ++i)
      consecutive = listed[i].is_number_unsigned() && listed[i].get<std::uint64_t>() == first + i;
    if (!consecutive)
      f.fail("'params' is " + Fields::text(listed) + ", but the optimizer's group " +
             std::to_string(g) + " has " + std::to_string(n) + " parameters (expected indices " +
             (n ? std::to_string(first) + " to " + std::to_string(first + n - 1) : "none") + ")");
    for (const Tensor& p : groups_out[g].params()) params.push_back({&p, g});
    options.push_back(read_options(k, f));
  }
  Optimizer::StateMap state = read_state(k, file.tensors, params, w);

  for (std::size_t g = 0; g < groups_out.size(); ++g) groups_out[g].set_options(std::move(options[g]));
  optimizer.state() = std::move(state);
}

void save(const optim::LRScheduler& scheduler, const fs::path& path) {
  const std::string w = where("save", path);
  const Schedule s = schedule_of(scheduler, w);
  ordered_json j = ordered_json::object();
  j["last_epoch"] = scheduler.last_epoch();
  for (const auto& [key, lrs] : {std::pair{"base_lrs", &scheduler.base_lrs()},
                                 std::pair{"last_lrs", &scheduler.get_last_lr()}}) {
    ordered_json a = ordered_json::array();
    for (double lr : *lrs) a.push_back(finite(key, lr, w));
    j[key] = std::move(a);
  }
  if (s == Schedule::Step) {
    const auto& step = static_cast<const optim::StepLR&>(scheduler);
    j["step_size"] = step.step_size();
    j["gamma"] = finite("gamma", step.gamma(), w);
  } else if (s == Schedule::Exponential) {
    j["gamma"] = finite("gamma", static_cast<const optim::ExponentialLR&>(scheduler).gamma(), w);
  } else if (s == Schedule::Cosine) {
    const auto& cosine = static_cast<const optim::CosineAnnealingLR&>(scheduler);
    j["T_max"] = cosine.T_max();
    j["eta_min"] = finite("eta_min", cosine.eta_min(), w);
  } else {
    const auto& lambda = static_cast<const optim::LambdaLR&>(scheduler);
    j["lr_lambdas"] = ordered_json::array();
    for (std::size_t i = 0; i < lambda.num_lambdas(); ++i) j["lr_lambdas"].push_back(nullptr);
  }
  io::write_tensors("save", OrderedDict<std::string, Tensor>("Key"), path,
                    {{"scheduler", schedule_name(s)}, {"version", kVersion}, {"state", j.dump()}});
}

void load(optim::LRScheduler& scheduler, const fs::path& path) {
  const std::string w = where("load", path);
  const Schedule s = schedule_of(scheduler, w);
  const json j = read_scheduler_state(path, w, schedule_name(s));
  Fields f(j, w + ": state");
  const std::int64_t last_epoch = f.count("last_epoch");
  std::vector<double> base_lrs = f.numbers("base_lrs");
  std::vector<double> last_lrs = f.numbers("last_lrs");
  // The schedule's parameters come from its constructor; they must agree.
  auto same = [&](const char* key, const json& file_value, const json& ours) {
    if (file_value != ours)
      f.fail(std::string("'") + key + "' is " + Fields::text(file_value) + ", but this " +
             schedule_name(s) + " has " + Fields::text(ours));
  };
  if (s == Schedule::Step) {
    const auto& step = static_cast<const optim::StepLR&>(scheduler);
    same("step_size", f.count("step_size"), step.step_size());
    same("gamma", f.number("gamma"), step.gamma());
  } else if (s == Schedule::Exponential) {
    same("gamma", f.number("gamma"), static_cast<const optim::ExponentialLR&>(scheduler).gamma());
  } else if (s == Schedule::Cosine) {
    const auto& cosine = static_cast<const optim::CosineAnnealingLR&>(scheduler);
    same("T_max", f.count("T_max"), cosine.T_max());
    same("eta_min", f.number("eta_min"), cosine.eta_min());
  } else {
    const auto& lambda = static_cast<const optim::LambdaLR&>(scheduler);
    const json& listed = f.get("lr_lambdas");
    bool nulls = listed.is_array();
    for (std::size_t i = 0; nulls && i < listed.size(); ++i) nulls = listed[i].is_null();
    if (!nulls)
      f.fail("'lr_lambdas' must be an array of nulls (functions are not saved), got " +
             Fields::text(listed));
    if (listed.size() != lambda.num_lambdas())
      f.fail("'lr_lambdas' lists " + std::to_string(listed.size()) +
             " functions, but this LambdaLR has " + std::to_string(lambda.num_lambdas()));
  }
  f.no_others();
  try {
    scheduler.load_state(last_epoch, std::move(base_lrs), std::move(last_lrs));
  } catch (const Error& e) {
    throw Error(w + ": " + e.what());
  }
}

namespace {

// best is +-inf before any metric; JSON has no infinities, so those are strings.
ordered_json best_json(double best) {
  if (std::isinf(best)) return best > 0 ? "inf" : "-inf";
  return best;
}

}  // namespace

void save(const optim::ReduceLROnPlateauScheduler& scheduler, const fs::path& path) {
  const std::string w = where("save", path);
  ordered_json j = ordered_json::object();
  j["last_epoch"] = scheduler.last_epoch();
  if (std::isnan(scheduler.best())) throw Error(w + ": 'best' is NaN; it cannot be saved");
  j["best"] = best_json(scheduler.best());
  j["num_bad_epochs"] = scheduler.num_bad_epochs();
  j["cooldown_counter"] = scheduler.cooldown_counter();
  j["last_lrs"] = lr_array("last_lrs", scheduler.get_last_lr(), w);
  j["mode"] = scheduler.mode() == Plateau::min ? "min" : "max";
  j["factor"] = finite("factor", scheduler.factor(), w);
  j["patience"] = scheduler.patience();
  j["threshold"] = finite("threshold", scheduler.threshold(), w);
  j["threshold_mode"] = scheduler.threshold_mode() == Plateau::rel ? "rel" : "abs";
  j["cooldown"] = scheduler.cooldown();
  ordered_json min_lrs = ordered_json::array();
  for (float v : scheduler.min_lrs()) min_lrs.push_back(finite("min_lrs", v, w));
  j["min_lrs"] = std::move(min_lrs);
  j["eps"] = finite("eps", scheduler.eps(), w);
  io::write_tensors("save", OrderedDict<std::string, Tensor>("Key"), path,
                    {{"scheduler", kPlateau}, {"version", kVersion}, {"state", j.dump()}});
}

void load(optim::ReduceLROnPlateauScheduler& scheduler, const fs::path& path) {
  const std::string w = where("load", path);
  const json j = read_scheduler_state(path, w, kPlateau);
  Fields f(j, w + ": state");
  const std::int64_t last_epoch = f.count("last_epoch");
  const json& b = f.get("best");
  double best = 0;
  if (b.is_number())
    best = b.get<double>();
  else if (b == "inf" || b == "-inf")
    best = (b == "inf" ? 1.0 : -1.0) * std::numeric_limits<double>::infinity();
  else
    f.fail("'best' must be a number, \"inf\" or \"-inf\", got " + Fields::text(b));
  const std::int64_t bad = f.count("num_bad_epochs");
  const std::int64_t cooldown_counter = f.count("cooldown_counter");
  std::vector<double> last_lrs = f.numbers("last_lrs");
  auto same = [&](const char* key, const json& file_value, const json& ours) {
    if (file_value != ours)
      f.fail(std::string("'") + key + "' is " + Fields::text(file_value) + ", but this " +
             kPlateau + " has " + Fields::text(ours));
  };
  same("mode", f.get("mode"), scheduler.mode() == Plateau::min ? "min" : "max");
  same("factor", f.number("factor"), static_cast<double>(scheduler.factor()));
  same("patience", f.get("patience"), scheduler.patience());
  same("threshold", f.number("threshold"), scheduler.threshold());
  same("threshold_mode", f.get("threshold_mode"),
       scheduler.threshold_mode() == Plateau::rel ? "rel" : "abs");
  same("cooldown", f.get("cooldown"), scheduler.cooldown());
  json min_lrs = json::array();
  for (float v : scheduler.min_lrs()) min_lrs.push_back(static_cast<double>(v));
  same("min_lrs", f.numbers("min_lrs"), min_lrs);
  same("eps", f.number("eps"), scheduler.eps());
  f.no_others();
  try {
    scheduler.load_state(last_epoch, best, bad, cooldown_counter, std::move(last_lrs));
  } catch (const Error& e) {
    throw Error(w + ": " + e.what());
  }
}

}  // namespace sigma
