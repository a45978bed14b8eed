// The tour's closing table: the seed's summary of the sigmoid, aspect by
// aspect, beside what this run measured (read from the sections' metrics),
// with the rows the seed leaves out: multi-class outputs (softmax's place)
// and attention and gating. Rendered into report.md and report.html after
// the sections when the whole tour (or more than one section) runs; not a
// section of its own in summary.json.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "render.h"
#include "tour.h"

namespace sigma::tour {

namespace {

class Metrics {
 public:
  explicit Metrics(const std::vector<SectionOutput>& done) {
    for (const auto& s : done)
      if (s.error.empty()) all_[s.section->name] = &s.report.metrics();
  }
  std::optional<double> get(const std::string& section, const std::string& key) const {
    const auto it = all_.find(section);
    if (it == all_.end()) return std::nullopt;
    const auto m = it->second->find(key);
    if (m == it->second->end()) return std::nullopt;
    return m->second;
  }
  // fmt(format, value) of each key, substituted for {0}, {1}, ... in text;
  // "not measured in this run" when the section did not run or lacks a key.
  std::string say(const std::string& section, const std::string& text,
                  const std::vector<std::pair<const char*, std::string>>& values) const {
    std::string out = text;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const auto v = get(section, values[i].second);
      if (!v) return "not measured in this run (`" + section + "`)";
      const std::string slot = "{" + std::to_string(i) + "}";
      for (std::size_t p = out.find(slot); p != std::string::npos; p = out.find(slot))
        out.replace(p, slot.size(), fmt(values[i].first, *v));
    }
    return out + " (`" + section + "`)";
  }

 private:
  std::map<std::string, const std::map<std::string, double>*> all_;
};

}  // namespace

SectionOutput summary_output(const std::vector<SectionOutput>& done) {
  static const Section section{"summary", "Summary: the seed's table, measured", "", {}, {}};
  const Metrics m(done);
  Report r(Context{});
  r.text("The seed closes with a table of the sigmoid's traits. Here it is again with what this "
         "run measured for each row, and with the two rows it leaves out: outputs that must form "
         "one distribution (where softmax belongs), and attention and gating, where recent work "
         "has brought the sigmoid back.");
  r.table(
      {"aspect", "the seed", "sigma measured"},
      {{"formula", "1 / (1 + e^-x)",
        m.say("forms",
              "the equivalent forms agree to {0} ULP (float64, {1} points); the textbook form "
              "overflows to NaN from x = {2} (float32)",
              {{"%.3g", "forms_max_ulp_f64"}, {"%.0f", "grid_points"}, {"%.2f", "naive_nan_from_x_f32"}})},
       {"range", "(0, 1)",
        m.say("derivative", "float32 rounds sigmoid(x) to 1 from x = {0}",
              {{"%.2f", "f32_output_is_one_from_x"}})},
       {"zero-centred", "no",
        m.say("properties", "mean output {0} for N(0, 1) inputs",
              {{"%.4f", "mean_output_normal_input"}}) + "; " +
            m.say("zigzag",
                  "a share of {0} of a neuron's weight gradients have one sign; {1} steps to "
                  "converge against tanh's {2}",
                  {{"%.3f", "same_sign_fraction_sigmoid"}, {"%.0f", "steps_to_tolerance_sigmoid"},
                   {"%.0f", "steps_to_tolerance_tanh"}})},
       {"max gradient", "0.25",
        m.say("properties", "{0} at x = {1}", {{"%.6g", "max_gradient"}, {"%.3g", "argmax_gradient_x"}})},
       {"vanishing gradients", "severe",
        m.say("vanish",
              "input gradient through 10 layers {0} (tanh {1}, ReLU {2}); a factor of {3} per "
              "sigmoid layer",
              {{"%.3g", "input_grad_norm_sigmoid_depth10"}, {"%.3g", "input_grad_norm_tanh_depth10"},
               {"%.3g", "input_grad_norm_relu_depth10"}, {"%.3f", "sigmoid_decay_per_layer"}})},
       {"binary output", "essential, via BCEWithLogitsLoss",
        m.say("train", "breast cancer: test accuracy {0}, ROC AUC {1}",
              {{"%.4f", "test_accuracy"}, {"%.4f", "roc_auc"}})},
       {"RNN gates", "essential",
        m.say("gating",
              "adding problem: LSTM test MSE {0} against the plain RNN's {1} (predicting the mean: {2})",
              {{"%.3g", "lstm_final_mse"}, {"%.3g", "rnn_final_mse"}, {"%.3g", "baseline_mse"}})},
       {"multi-label output", "useful",
        m.say("multilabel", "four digit attributes: all four right for {0} of test images",
              {{"%.4f", "exact_match"}})},
       {"multi-class output (not in the seed)", "-",
        m.say("multiclass",
              "softmax {0} vs 10 sigmoids {1} accuracy; softmax sums to 1 within {2}, the "
              "sigmoids' sums are {3} off on average; ECE {4} vs {5}",
              {{"%.4f", "softmax_accuracy"}, {"%.4f", "sigmoid_accuracy"},
               {"%.1e", "softmax_sum_max_deviation"}, {"%.3f", "sigmoid_sum_mean_deviation"},
               {"%.4f", "softmax_ece"}, {"%.4f", "sigmoid_ece"}})},
       {"attention and gating (not in the seed's table)",
        "\"attention weights\" named as a sigmoid use",
        m.say("attention",
              "associative recall: softmax {0}, sigmoid with b = -log n {1}, without {2}, gated "
              "softmax {3} test accuracy; share of attention on the first token {4} (softmax) "
              "vs {5} (gated)",
              {{"%.3f", "softmax_accuracy"}, {"%.3f", "sigmoid_bias_accuracy"},
               {"%.3f", "sigmoid_nobias_accuracy"}, {"%.3f", "gated_accuracy"},
               {"%.3f", "softmax_first_token_share_layer2"},
               {"%.3f", "gated_first_token_share_layer2"}})}});
  return {&section, std::move(r), 0.0, {}};
}

}  // namespace sigma::tour
