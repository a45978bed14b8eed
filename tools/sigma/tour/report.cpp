// The Report a section fills, and its three renderings (see render.h).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "render.h"

namespace sigma::tour {

std::string fmt(const char* printf_format, double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, printf_format, value);
  return buf;
}

void Report::text(std::string markdown) {
  blocks_.push_back({Block::Text, std::move(markdown), {}, {}, {}, 0});
}

void Report::table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows) {
  for (const auto& r : rows)
    if (r.size() != header.size())
      throw std::logic_error("Report::table: a row has " + std::to_string(r.size()) +
                             " cells, the header " + std::to_string(header.size()));
  blocks_.push_back({Block::Table, {}, std::move(header), std::move(rows), {}, 0});
}

void Report::code(std::string text) {
  blocks_.push_back({Block::Code, std::move(text), {}, {}, {}, 0});
}

void Report::figure(const plot::Figure& fig) {
  if (const auto why = plot::unavailable()) {
    blocks_.push_back({Block::Figure, fig.caption, {}, {}, fig.name, 0, *why});
    return;
  }
  plot::draw(fig, ctx_.out);
  figures_.push_back(fig);
  blocks_.push_back({Block::Figure, fig.caption, {}, {}, fig.name, 0, {}});
}

void Report::check(std::string what, std::string measured, std::string expected, bool pass) {
  checks_.push_back({std::move(what), std::move(measured), std::move(expected), pass});
}

void Report::metric(const std::string& key, double value) { metrics_[key] = value; }

void Report::timing(std::string label, double seconds) {
  blocks_.push_back({Block::Timing, std::move(label), {}, {}, {}, seconds});
}

void Report::note(std::string line) { notes_.push_back(std::move(line)); }

namespace {

std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string checks_table_md(const std::vector<Check>& checks) {
  if (checks.empty()) return "";
  std::string md = "| check | measured | expected | |\n|---|---|---|---|\n";
  for (const auto& c : checks)
    md += "| " + md_cell(c.what) + " | " + md_cell(c.measured) + " | " + md_cell(c.expected) +
          " | " + (c.pass ? "PASS" : "**FAIL**") + " |\n";
  return md + "\n";
}

std::string header_line(const RunInfo& info) {
  return "sigma " + info.version + ", SIMD target " + info.target + ", random seed " +
         std::to_string(info.seed) + (info.quick ? ", quick run (--quick)" : "") + ".";
}

// What the report is, for a reader who has not met "the seed".
constexpr const char* kAbout =
    "Each section below takes one claim of *the seed*, the document sigma is built to "
    "demonstrate (a PyTorch-centred text on the sigmoid: its definition and equivalent forms, "
    "properties, derivative, vanishing gradients, non-zero-centred outputs, binary and "
    "multi-label classification with `BCEWithLogitsLoss`, gating in LSTMs, numerical "
    "stability), shows it on real data or exhaustive inputs, and checks it numerically.";

std::size_t count_failed(const std::vector<SectionOutput>& sections, std::size_t* total) {
  std::size_t failed = 0;
  *total = 0;
  for (const auto& s : sections)
    for (const auto& c : s.report.checks()) {
      ++*total;
      failed += !c.pass;
    }
  return failed;
}

std::vector<std::string> failed_sections(const std::vector<SectionOutput>& sections) {
  std::vector<std::string> names;
  for (const auto& s : sections)
    if (!s.error.empty()) names.push_back(s.section->name);
  return names;
}

// Why figures were not drawn (the first reason given), or empty.
std::string skipped_reason(const std::vector<SectionOutput>& sections) {
  for (const auto& s : sections)
    for (const auto& b : s.report.blocks())
      if (b.kind == Report::Block::Figure && !b.skipped.empty()) return b.skipped;
  return {};
}

// The run's outcome beyond the checks: failed sections, skipped figures.
// Markdown; empty when everything ran.
std::string problems_md(const std::vector<SectionOutput>& sections) {
  std::string md;
  const auto failed = failed_sections(sections);
  if (!failed.empty()) {
    md += "**" + std::to_string(failed.size()) + " section(s) failed:** ";
    for (std::size_t i = 0; i < failed.size(); ++i) md += (i ? ", " : "") + failed[i];
    md += "; each says why below, and shows what it produced before it stopped.";
  }
  if (const std::string why = skipped_reason(sections); !why.empty())
    md += std::string(md.empty() ? "" : " ") + "**Figures were not drawn:** " + why +
          "; tables and checks are complete.";
  return md;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("tour: cannot read " + p.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

std::string render_markdown(const RunInfo& info, const std::vector<SectionOutput>& sections) {
  std::size_t total = 0;
  const std::size_t failed = count_failed(sections, &total);
  std::string md = "# sigma tour\n\n" + std::string(kAbout) + "\n\n" + header_line(info) + "\n\n";
  md += std::to_string(total - failed) + " of " + std::to_string(total) + " checks passed.\n\n";
  if (const std::string p = problems_md(sections); !p.empty()) md += p + "\n\n";
  for (const auto& s : sections) {
    md += "## " + s.section->title + "\n\n";
    for (const auto& b : s.report.blocks()) {
      switch (b.kind) {
        case Report::Block::Text: md += b.text + "\n\n"; break;
        case Report::Block::Code:
          md.append("```\n").append(b.text).append(b.text.ends_with('\n') ? "" : "\n").append("```\n\n");
          break;
        case Report::Block::Table: {
          md += "|";
          for (const auto& h : b.header) md.append(" ").append(md_cell(h)).append(" |");
          md += "\n|";
          for (std::size_t i = 0; i < b.header.size(); ++i) md += "---|";
          md += "\n";
          for (const auto& r : b.rows) {
            md += "|";
            for (const auto& c : r) md.append(" ").append(md_cell(c)).append(" |");
            md += "\n";
          }
          md += "\n";
          break;
        }
        case Report::Block::Figure:
          if (!b.skipped.empty())
            md += "*Figure " + b.figure + " not drawn (" + b.skipped + "):* " + b.text + "\n\n";
          else
            md += "![" + b.text + "](" + b.figure + ".png)\n\n*Figure " + b.figure + ":* " + b.text +
                  " ([SVG](" + b.figure + ".svg))\n\n";
          break;
        case Report::Block::Timing: break;  // not reproducible: html and terminal only
      }
    }
    md += checks_table_md(s.report.checks());
    if (!s.error.empty()) md += "**This section failed:** " + s.error + "\n\n";
  }
  return md;
}

std::string inline_html(const std::string& m) {
  std::string out;
  bool bold = false, em = false;
  for (std::size_t i = 0; i < m.size(); ++i) {
    const char c = m[i];
    if (c == '`') {
      const std::size_t end = m.find('`', i + 1);
      if (end != std::string::npos) {
        out += "<code>" + escape(m.substr(i + 1, end - i - 1)) + "</code>";
        i = end;
        continue;
      }
    }
    if (c == '*' && i + 1 < m.size() && m[i + 1] == '*') {
      out += bold ? "</strong>" : "<strong>";
      bold = !bold;
      ++i;
      continue;
    }
    if (c == '*' && (em || (i + 1 < m.size() && m[i + 1] != ' ' && m.find('*', i + 1) != std::string::npos))) {
      out += em ? "</em>" : "<em>";
      em = !em;
      continue;
    }
    if (c == '\\' && i + 1 < m.size() && std::string("\\`*_|[]").find(m[i + 1]) != std::string::npos) {
      out += escape(std::string(1, m[++i]));
      continue;
    }
    out += escape(std::string(1, c));
  }
  if (em) out += "</em>";
  if (bold) out += "</strong>";
  return out;
}

std::string base64(const std::string& bytes) {
  static const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                       static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += digits[v >> 18];
    out += digits[(v >> 12) & 63];
    out += digits[(v >> 6) & 63];
    out += digits[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += digits[v >> 18];
    out += digits[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? digits[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string render_html(const RunInfo& info, const std::vector<SectionOutput>& sections,
                        const std::filesystem::path& dir) {
  std::size_t total = 0;
  const std::size_t failed = count_failed(sections, &total);
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>sigma tour</title>\n<style>\n"
      "body{font-family:system-ui,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;"
      "line-height:1.5;color:#222}\n"
      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;"
      "text-align:left}th{background:#f4f4f4}\n"
      "code,pre{font-family:ui-monospace,monospace;background:#f6f6f6}pre{padding:.6em;overflow:auto}\n"
      ".pass{color:#1a7f37;font-weight:bold}.fail{color:#c62828;font-weight:bold}\n"
      "figure{margin:1em 0}img{max-width:100%;border:1px solid #eee}figcaption{color:#555}\n"
      ".timing{color:#777;font-size:.9em}nav a{margin-right:.8em}\n"
      "</style>\n</head>\n<body>\n<h1>sigma tour</h1>\n";
  h += "<p>" + inline_html(kAbout) + "</p>\n";
  h += "<p>" + escape(header_line(info)) + " Run on " + escape(info.date) + ", " +
       [&] {
         char buf[32];
         std::snprintf(buf, sizeof buf, "%.1f s", info.seconds);
         return std::string(buf);
       }() +
       ".</p>\n";
  h += "<p><span class=\"" + std::string(failed ? "fail" : "pass") + "\">" +
       std::to_string(total - failed) + " of " + std::to_string(total) +
       " checks passed.</span></p>\n";
  if (const std::string p = problems_md(sections); !p.empty())
    h += "<p class=\"fail\">" + inline_html(p) + "</p>\n";
  h += "<nav>";
  for (const auto& s : sections)
    h += "<a href=\"#" + s.section->name + "\">" + escape(s.section->title) + "</a>";
  h += "</nav>\n";
  for (const auto& s : sections) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.2f s", s.seconds);
    h += "<h2 id=\"" + s.section->name + "\">" + escape(s.section->title) +
         " <span class=\"timing\">(" + secs + ")</span></h2>\n";
    for (const auto& b : s.report.blocks()) {
      switch (b.kind) {
        case Report::Block::Text: h += "<p>" + inline_html(b.text) + "</p>\n"; break;
        case Report::Block::Code: h += "<pre>" + escape(b.text) + "</pre>\n"; break;
        case Report::Block::Table:
          h += "<table>\n<tr>";
          for (const auto& c : b.header) h += "<th>" + inline_html(c) + "</th>";
          h += "</tr>\n";
          for (const auto& r : b.rows) {
            h += "<tr>";
            for (const auto& c : r) h += "<td>" + inline_html(c) + "</td>";
            h += "</tr>\n";
          }
          h += "</table>\n";
          break;
        case Report::Block::Figure:
          if (!b.skipped.empty())
            h += "<p><em>Figure " + escape(b.figure) + " not drawn (" + escape(b.skipped) + "):</em> " +
                 inline_html(b.text) + "</p>\n";
          else
            h += "<figure><img alt=\"" + escape(b.text) + "\" src=\"data:image/png;base64," +
                 base64(read_file(dir / (b.figure + ".png"))) + "\"><figcaption>" +
                 inline_html(b.text) + "</figcaption></figure>\n";
          break;
        case Report::Block::Timing: {
          char t[48];
          std::snprintf(t, sizeof t, "%.3f s", b.seconds);
          h += "<p class=\"timing\">" + escape(b.text) + ": " + t + "</p>\n";
          break;
        }
      }
    }
    if (!s.report.checks().empty()) {
      h += "<table>\n<tr><th>check</th><th>measured</th><th>expected</th><th></th></tr>\n";
      for (const auto& c : s.report.checks())
        h += "<tr><td>" + inline_html(c.what) + "</td><td>" + inline_html(c.measured) +
             "</td><td>" + inline_html(c.expected) + "</td><td class=\"" +
             (c.pass ? "pass\">PASS" : "fail\">FAIL") + "</td></tr>\n";
      h += "</table>\n";
    }
    if (!s.error.empty())
      h += "<p class=\"fail\">This section failed: " + escape(s.error) + "</p>\n";
  }
  return h + "</body>\n</html>\n";
}

std::string render_summary(const RunInfo& info, const std::vector<SectionOutput>& sections) {
  nlohmann::ordered_json j;
  j["sigma"] = info.version;
  j["target"] = info.target;
  j["seed"] = info.seed;
  j["quick"] = info.quick;
  j["failed_sections"] = failed_sections(sections);
  const std::string why = skipped_reason(sections);
  j["figures_skipped"] = why.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(why);
  j["sections"] = nlohmann::ordered_json::array();
  for (const auto& s : sections) {
    nlohmann::ordered_json sj;
    sj["name"] = s.section->name;
    sj["title"] = s.section->title;
    sj["error"] = s.error.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(s.error);
    sj["metrics"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : s.report.metrics())
      sj["metrics"][k] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
    sj["checks"] = nlohmann::ordered_json::array();
    for (const auto& c : s.report.checks())
      sj["checks"].push_back(
          {{"what", c.what}, {"measured", c.measured}, {"expected", c.expected}, {"pass", c.pass}});
    sj["figures"] = nlohmann::ordered_json::array();
    for (const auto& f : s.report.figures()) {
      sj["figures"].push_back(f.name + ".png");
      sj["figures"].push_back(f.name + ".svg");
    }
    j["sections"].push_back(sj);
  }
  return j.dump(2) + "\n";
}

}  // namespace sigma::tour
