// Figures for the tour, drawn by gnuplot (Debian's gnuplot-nox): a Figure is
// one or more panels of line, point, step or box series; draw() writes it as
// PNG (pngcairo) and SVG from one generated gnuplot script with the data
// inline, so the files depend only on the numbers.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sigma::tour::plot {

enum class Style { Lines, Dashed, Points, LinesPoints, Steps, Boxes };

struct Series {
  std::string title;  // legend entry; empty: not in the legend
  std::vector<double> x, y;
  Style style = Style::Lines;
  std::string color;  // "#2196F3"; empty: gnuplot's palette in order
  double width = 2;   // line width, or point size for Points
};

// A horizontal (y = value) or vertical (x = value) reference line.
struct RefLine {
  double value = 0;
  bool horizontal = true;
  std::string title;  // legend entry; empty: none
};

struct Panel {
  std::string title, xlabel, ylabel;
  bool logx = false, logy = false;
  std::optional<std::pair<double, double>> xrange, yrange;
  // Category labels on the x axis (bar charts): value and label.
  std::vector<std::pair<double, std::string>> xtics;
  std::vector<std::pair<double, std::string>> ytics;  // the same on the y axis
  std::vector<Series> series;
  std::vector<RefLine> lines;
  std::string key = "top left";  // gnuplot key position, or "off"
  double box_width = 0.8;        // Boxes: width in x units
  // A heat map drawn under the series: heatmap[r][c] is the colour of the
  // cell centred at x = c, y = r (row 0 at the top), on a white-to-blue
  // scale over cbrange (or the data's range).
  std::vector<std::vector<double>> heatmap;
  std::optional<std::pair<double, double>> cbrange;
};

struct Figure {
  std::string name;     // file stem: <name>.png and <name>.svg
  std::string caption;  // shown under the figure in the report
  std::vector<Panel> panels;
  int columns = 0;  // panels per row; 0 = all in one row
  int width = 0;    // pixels; 0 = 560 per column
  int height = 0;   // pixels; 0 = 420 per row
};

// Why figures cannot be drawn (the gnuplot command, $SIGMA_GNUPLOT or
// "gnuplot", cannot be run), or nothing when they can. Checked once.
std::optional<std::string> unavailable();

// The gnuplot script that draws `fig` into the two files.
std::string script(const Figure& fig, const std::filesystem::path& png,
                   const std::filesystem::path& svg);

// Writes dir/<name>.png and dir/<name>.svg (each atomically) and returns the
// two paths. Throws std::runtime_error naming the figure if gnuplot is missing
// or fails (with gnuplot's first error line), or if a series has x and y of
// different lengths.
std::vector<std::filesystem::path> draw(const Figure& fig, const std::filesystem::path& dir);

}  // namespace sigma::tour::plot
