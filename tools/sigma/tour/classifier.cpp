// The binary classifier's checkpoint: state dict + JSON metadata (see
// classifier.h).
#include "classifier.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace sigma::tour {

namespace {

constexpr const char* kFormat = "sigma.binary_classifier.v1";
constexpr std::int64_t kBlockRows = 1 << 13;

std::vector<float> floats(const Tensor& t) { return t.detach().to(kFloat).contiguous().to_vector<float>(); }

[[noreturn]] void bad(const std::filesystem::path& path, const std::string& what) {
  throw std::runtime_error(path.string() + ": not a sigma binary classifier checkpoint: " + what);
}

std::vector<float> float_list(const nlohmann::json& j, const char* key, std::size_t n,
                              const std::filesystem::path& path) {
  if (!j.contains(key) || !j[key].is_array() || j[key].size() != n)
    bad(path, std::string("'") + key + "' must be a list of " + std::to_string(n) + " numbers");
  std::vector<float> v;
  for (const auto& e : j[key]) {
    if (!e.is_number()) bad(path, std::string("'") + key + "' holds a non-number");
    v.push_back(e.get<float>());
  }
  return v;
}

}  // namespace

void save_classifier(const SavedClassifier& c, const std::filesystem::path& path) {
  nlohmann::json meta;
  meta["features"] = c.feature_names;
  meta["target"] = c.target_name;
  meta["mean"] = floats(c.scaler.mean);
  meta["std"] = floats(c.scaler.std);
  sigma::save(c.model, path, {{"format", kFormat}, {"classifier", meta.dump()}});
}

SavedClassifier load_classifier(const std::filesystem::path& path) {
  const Metadata md = load_metadata(path);
  if (md.count("format") == 0 || md.at("format") != kFormat)
    bad(path, std::string("its metadata has no \"format\": \"") + kFormat + "\"");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(md.count("classifier") ? md.at("classifier") : std::string());
  } catch (const nlohmann::json::exception&) {
    bad(path, "the \"classifier\" metadata is not JSON");
  }
  SavedClassifier c;
  if (!meta.is_object() || !meta.contains("features") || !meta["features"].is_array() ||
      meta["features"].empty())
    bad(path, "no feature names");
  for (const auto& f : meta["features"]) {
    if (!f.is_string() || f.get<std::string>().empty()) bad(path, "a feature name is not a string");
    c.feature_names.push_back(f.get<std::string>());
  }
  auto sorted = c.feature_names;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) bad(path, "repeated feature names");
  if (!meta.contains("target") || !meta["target"].is_string()) bad(path, "no target name");
  c.target_name = meta["target"].get<std::string>();
  const std::size_t d = c.feature_names.size();
  const std::vector<float> mean = float_list(meta, "mean", d, path), sd = float_list(meta, "std", d, path);
  for (float s : sd)
    if (!(s > 0) || !std::isfinite(s)) bad(path, "a standard deviation is not positive and finite");
  const auto di = static_cast<std::int64_t>(d);
  c.scaler.mean = sigma::from_data(mean.data(), kFloat, {di});
  c.scaler.std = sigma::from_data(sd.data(), kFloat, {di});

  const auto tensors = load_tensors(path);
  const Tensor* w1 = tensors.find("fc1.weight");
  if (w1 == nullptr || w1->dim() != 2 || w1->size(1) != di || w1->size(0) < 1)
    bad(path, "fc1.weight must be [hidden, " + std::to_string(d) + "]");
  c.model = BinaryClassifier(di, w1->size(0));
  sigma::load(c.model, path);  // checks every name and shape
  c.model->eval();
  return c;
}

std::vector<float> predict_proba(const SavedClassifier& c, const Tensor& x) {
  NoGradGuard no_grad;
  BinaryClassifier model = c.model;  // a handle: forward is not const
  std::vector<float> out;
  out.reserve(static_cast<std::size_t>(x.size(0)));
  for (std::int64_t start = 0; start < x.size(0); start += kBlockRows) {
    const std::int64_t rows = std::min(kBlockRows, x.size(0) - start);
    const Tensor p = model->predict_proba(c.scaler.apply(x.narrow(0, start, rows)));
    const std::vector<float> v = p.reshape({-1}).to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

}  // namespace sigma::tour
