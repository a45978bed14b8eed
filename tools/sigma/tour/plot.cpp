// Figures through gnuplot: one script draws every panel twice, once per
// terminal (pngcairo, svg), from data blocks defined once at its top.
#include "plot.h"

#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>

#include "sigma/io.h"

namespace sigma::tour::plot {
namespace {

// A gnuplot single-quoted string: no escapes but '' for a quote.
std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

// A shell single-quoted word.
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string number(double v) {
  if (!std::isfinite(v)) return "NaN";  // gnuplot skips the point
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string block_name(std::size_t panel, std::size_t series) {
  return "$d" + std::to_string(panel) + "_" + std::to_string(series);
}

std::string with_clause(const Series& s, std::size_t index) {
  static const std::array<const char*, 8> palette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                     "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
  const std::string color = s.color.empty() ? palette[index % palette.size()] : s.color;
  const std::string lc = " lc rgb " + quote(color);
  const std::string lw = " lw " + number(s.width);
  switch (s.style) {
    case Style::Lines: return "with lines" + lw + lc;
    case Style::Dashed: return "with lines dt 2" + lw + lc;
    case Style::Points: return "with points pt 7 ps " + number(s.width * 0.35) + lc;
    case Style::LinesPoints: return "with linespoints pt 7 ps 0.6" + lw + lc;
    case Style::Steps: return "with steps" + lw + lc;
    case Style::Boxes: return "with boxes fs solid 0.7 border lc rgb '#333333'" + lc;
  }
  return "with lines";
}

std::string panel_commands(const Panel& p, std::size_t pi) {
  std::string g;
  g += "set title " + quote(p.title) + " noenhanced\n";
  g += "set xlabel " + quote(p.xlabel) + " noenhanced\n";
  g += "set ylabel " + quote(p.ylabel) + " noenhanced\n";
  g += p.logx ? "set logscale x\n" : "unset logscale x\n";
  g += p.logy ? "set logscale y\n" : "unset logscale y\n";
  g += p.logy ? "set format y '10^{%L}'\n" : "set format y '% h'\n";
  g += p.xrange ? "set xrange [" + number(p.xrange->first) + ":" + number(p.xrange->second) + "]\n"
                : "set autoscale x\n";
  g += p.yrange ? "set yrange [" + number(p.yrange->first) + ":" + number(p.yrange->second) + "]\n"
                : "set autoscale y\n";
  if (p.xtics.empty()) {
    g += "set xtics autofreq\n";
  } else {
    g += "set xtics (";
    for (std::size_t i = 0; i < p.xtics.size(); ++i)
      g += (i ? ", " : "") + quote(p.xtics[i].second) + " " + number(p.xtics[i].first);
    g += ") noenhanced\n";
  }
  if (p.ytics.empty()) {
    g += "set ytics autofreq\n";
  } else {
    g += "set ytics (";
    for (std::size_t i = 0; i < p.ytics.size(); ++i)
      g += (i ? ", " : "") + quote(p.ytics[i].second) + " " + number(p.ytics[i].first);
    g += ") noenhanced\n";
  }
  g += "set boxwidth " + number(p.box_width) + " absolute\n";
  g += p.key == "off" ? "unset key\n" : "set key " + p.key + " Left reverse opaque box lc rgb '#cccccc'\n";
  g += "unset arrow\n";
  std::string plots;
  if (!p.heatmap.empty()) {
    g += "set palette defined (0 '#ffffff', 1 '#08306b')\nset colorbox\n";
    g += p.cbrange ? "set cbrange [" + number(p.cbrange->first) + ":" + number(p.cbrange->second) + "]\n"
                   : "set autoscale cb\n";
    if (!p.yrange) g += "set yrange [" + number(static_cast<double>(p.heatmap.size()) - 0.5) + ":-0.5]\n";
    plots = "$H" + std::to_string(pi) + " using 1:2:3 with image notitle";
  } else {
    g += "unset colorbox\n";
  }
  for (std::size_t si = 0; si < p.series.size(); ++si) {
    const Series& s = p.series[si];
    if (s.x.empty()) continue;
    plots += (plots.empty() ? "" : ", ") + block_name(pi, si) + " using 1:2 " +
             with_clause(s, si) + (s.title.empty() ? " notitle" : " title " + quote(s.title) + " noenhanced");
  }
  for (const RefLine& l : p.lines) {
    if (l.horizontal) {
      plots += (plots.empty() ? "" : ", ") + number(l.value) +
               " with lines dt 3 lw 1.5 lc rgb '#444444'" +
               (l.title.empty() ? " notitle" : " title " + quote(l.title) + " noenhanced");
    } else {
      g += "set arrow from " + number(l.value) + ", graph 0 to " + number(l.value) +
           ", graph 1 nohead dt 3 lw 1.5 lc rgb '#444444'\n";
    }
  }
  g += "plot " + (plots.empty() ? std::string("NaN notitle") : plots) + "\n";
  return g;
}

}  // namespace

std::string script(const Figure& fig, const std::filesystem::path& png,
                   const std::filesystem::path& svg) {
  const int n = static_cast<int>(fig.panels.size());
  const int cols = fig.columns > 0 ? fig.columns : (n > 0 ? n : 1);
  const int rows = (n + cols - 1) / cols > 0 ? (n + cols - 1) / cols : 1;
  const int width = fig.width > 0 ? fig.width : 560 * cols;
  const int height = fig.height > 0 ? fig.height : 420 * rows;

  std::string g = "# " + fig.name + ": generated by sigma tour\nset encoding utf8\n";
  for (std::size_t pi = 0; pi < fig.panels.size(); ++pi) {
    const Panel& p = fig.panels[pi];
    if (!p.heatmap.empty()) {
      g += "$H" + std::to_string(pi) + " << EOD\n";
      for (std::size_t r = 0; r < p.heatmap.size(); ++r) {
        for (std::size_t c = 0; c < p.heatmap[r].size(); ++c)
          g += number(static_cast<double>(c)) + " " + number(static_cast<double>(r)) + " " +
               number(p.heatmap[r][c]) + "\n";
        g += "\n";
      }
      g += "EOD\n";
    }
    for (std::size_t si = 0; si < p.series.size(); ++si) {
      const Series& s = p.series[si];
      if (s.x.size() != s.y.size())
        throw std::runtime_error("plot " + fig.name + ": series '" + s.title + "' has " +
                                 std::to_string(s.x.size()) + " x values and " +
                                 std::to_string(s.y.size()) + " y values");
      if (s.x.empty()) continue;
      g += block_name(pi, si) + " << EOD\n";
      for (std::size_t i = 0; i < s.x.size(); ++i) g += number(s.x[i]) + " " + number(s.y[i]) + "\n";
      g += "EOD\n";
    }
  }

  std::string body = "set grid lc rgb '#e0e0e0'\nset border lc rgb '#555555'\n";
  if (n > 1) body += "set multiplot layout " + std::to_string(rows) + "," + std::to_string(cols) + "\n";
  for (std::size_t pi = 0; pi < fig.panels.size(); ++pi) body += panel_commands(fig.panels[pi], pi);
  if (n > 1) body += "unset multiplot\n";

  const std::string size = " size " + std::to_string(width) + "," + std::to_string(height);
  g += "set terminal pngcairo" + size + " font 'Sans,10' enhanced\n";
  g += "set output " + quote(png.string()) + "\n" + body + "unset output\n";
  g += "set terminal svg" + size + " font 'Sans,11' enhanced background '#ffffff'\n";
  g += "set output " + quote(svg.string()) + "\n" + body + "unset output\n";
  return g;
}

namespace {

std::string gnuplot_command() {
  const char* env = std::getenv("SIGMA_GNUPLOT");
  return env != nullptr && *env != '\0' ? env : "gnuplot";
}

}  // namespace

std::optional<std::string> unavailable() {
  static const std::optional<std::string> why = []() -> std::optional<std::string> {
    const std::string cmd = gnuplot_command();
    FILE* p = ::popen((shell_quote(cmd) + " --version 2>&1").c_str(), "r");
    if (!p) return "cannot start a shell to run " + cmd;
    std::array<char, 256> buf;
    while (std::fread(buf.data(), 1, buf.size(), p) > 0) {
    }
    const int status = ::pclose(p);
    if (status == 0) return std::nullopt;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
      return cmd + " not found (Debian: apt-get install gnuplot-nox; or set SIGMA_GNUPLOT)";
    return cmd + " --version failed";
  }();
  return why;
}

std::vector<std::filesystem::path> draw(const Figure& fig, const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  const fs::path png = dir / (fig.name + ".png"), svg = dir / (fig.name + ".svg");
  const fs::path png_tmp = dir / ("." + fig.name + ".png.tmp");
  const fs::path svg_tmp = dir / ("." + fig.name + ".svg.tmp");
  const fs::path gp = dir / ("." + fig.name + ".gp");
  io::write_file_atomic(gp, script(fig, png_tmp, svg_tmp));

  FILE* p = ::popen((shell_quote(gnuplot_command()) + " " + shell_quote(gp.string()) + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("plot " + fig.name + ": cannot start gnuplot");
  std::string output;
  std::array<char, 4096> buf;
  while (std::size_t got = std::fread(buf.data(), 1, buf.size(), p)) output.append(buf.data(), got);
  const int status = ::pclose(p);
  std::error_code ec;
  fs::remove(gp, ec);
  if (status != 0 || !fs::exists(png_tmp) || !fs::exists(svg_tmp)) {
    fs::remove(png_tmp, ec);
    fs::remove(svg_tmp, ec);
    if (status == 127 << 8 || output.find("not found") != std::string::npos)
      throw std::runtime_error("plot " + fig.name +
                               ": gnuplot not found (Debian: apt-get install gnuplot-nox)");
    std::string first;
    for (std::size_t pos = 0; pos < output.size();) {
      const std::size_t end = output.find('\n', pos);
      std::string line = output.substr(pos, end == std::string::npos ? end : end - pos);
      pos = end == std::string::npos ? output.size() : end + 1;
      if (line.find_first_not_of(" \t^") != std::string::npos) first = line;
      if (line.find("error") != std::string::npos) break;
    }
    throw std::runtime_error("plot " + fig.name + ": gnuplot failed: " + first);
  }
  fs::rename(png_tmp, png);
  fs::rename(svg_tmp, svg);
  return {png, svg};
}

}  // namespace sigma::tour::plot
