// The tour's report machinery: figures through gnuplot, Markdown and HTML
// rendering, summary.json.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "tour/plot.h"
#include "tour/render.h"
#include "tour/tour.h"

namespace fs = std::filesystem;
using namespace sigma::tour;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint32_t big_endian32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("sigma_report_test_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

plot::Figure two_panels() {
  plot::Figure f;
  f.name = "two_panels";
  f.caption = "A test figure";
  plot::Panel a{.title = "it's a 'quoted' title_with_underscores", .xlabel = "x", .ylabel = "y"};
  a.series.push_back({.title = "line", .x = {0, 1, 2}, .y = {0, 1, 4}});
  a.lines.push_back({.value = 0.25, .horizontal = true, .title = "max = 0.25"});
  plot::Panel b{.title = "log", .xlabel = "depth", .ylabel = "norm", .logy = true};
  b.series.push_back({.title = "with a zero", .x = {1, 2, 3}, .y = {1e-3, 0, 1e-9},
                      .style = plot::Style::LinesPoints});
  b.series.push_back({.title = "empty", .x = {}, .y = {}});
  f.panels = {a, b};
  f.width = 800;
  f.height = 300;
  return f;
}

}  // namespace

TEST(Plot, DrawsAValidPngAndSvgOfTheRequestedSize) {
  const fs::path dir = fresh_dir("draw");
  const auto files = plot::draw(two_panels(), dir);
  ASSERT_EQ(files.size(), 2u);
  const std::string png = slurp(dir / "two_panels.png");
  ASSERT_GT(png.size(), 24u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian32(png, 16), 800u);
  EXPECT_EQ(big_endian32(png, 20), 300u);
  const std::string svg = slurp(dir / "two_panels.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.rfind("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("max = 0.25"), std::string::npos);  // the legend made it in
  // No temporaries left behind.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++entries;
    EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
  }
  EXPECT_EQ(entries, 2);
}

TEST(Plot, SameFigureGivesTheSameBytes) {
  const fs::path a = fresh_dir("same_a"), b = fresh_dir("same_b");
  plot::draw(two_panels(), a);
  plot::draw(two_panels(), b);
  EXPECT_EQ(slurp(a / "two_panels.svg"), slurp(b / "two_panels.svg"));
  EXPECT_EQ(slurp(a / "two_panels.png"), slurp(b / "two_panels.png"));
}

TEST(Plot, MismatchedSeriesIsAnErrorNamingTheFigure) {
  plot::Figure f = two_panels();
  f.panels[0].series[0].y.pop_back();
  try {
    plot::draw(f, fresh_dir("mismatch"));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("two_panels"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("3 x values and 2 y values"), std::string::npos)
        << e.what();
  }
}

TEST(Plot, GnuplotFailureIsReportedAndLeavesNoFiles) {
  plot::Figure f = two_panels();
  f.panels[0].key = "no-such-key-position";
  const fs::path dir = fresh_dir("fail");
  try {
    plot::draw(f, dir);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("gnuplot failed"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(Render, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(Render, InlineMarkdownBecomesEscapedHtml) {
  EXPECT_EQ(inline_html("a `x<y` and **b** & *c*"),
            "a <code>x&lt;y</code> and <strong>b</strong> &amp; <em>c</em>");
  EXPECT_EQ(inline_html("2 * 3 = 6"), "2 * 3 = 6");
  EXPECT_EQ(inline_html("a \\| b"), "a | b");
}

TEST(Render, MarkdownHtmlAndSummaryCarryEveryBlock) {
  const fs::path dir = fresh_dir("render");
  Context ctx;
  ctx.out = dir;
  Report r(ctx);
  r.text("Some **text**.");
  r.table({"a", "b|c"}, {{"1", "2"}});
  r.code("line 1\nline 2");
  r.figure(two_panels());
  r.timing("training", 1.25);
  r.check("a claim", "0.25", "0.25", true);
  r.check("another", "1", "2", false);
  r.metric("accuracy", 0.97);
  EXPECT_THROW(r.table({"a"}, {{"1", "2"}}), std::logic_error);

  Section s{"demo", "Demo section", "about", nullptr, nullptr};
  std::vector<SectionOutput> out;
  out.push_back({&s, r, 2.5});
  RunInfo info{"9.9.9", "AVX3", 7, true, "2026-01-01", 3.0};

  const std::string md = render_markdown(info, out);
  EXPECT_NE(md.find("sigma 9.9.9, SIMD target AVX3, random seed 7"), std::string::npos);
  EXPECT_NE(md.find("*the seed*, the document sigma is built to demonstrate"), std::string::npos);
  EXPECT_NE(md.find("1 of 2 checks passed"), std::string::npos);
  EXPECT_NE(md.find("## Demo section"), std::string::npos);
  EXPECT_NE(md.find("| a | b\\|c |"), std::string::npos);
  EXPECT_NE(md.find("```\nline 1\nline 2\n```"), std::string::npos);
  EXPECT_NE(md.find("![A test figure](two_panels.png)"), std::string::npos);
  EXPECT_NE(md.find("| another | 1 | 2 | **FAIL** |"), std::string::npos);
  EXPECT_EQ(md.find("2026"), std::string::npos) << "the date must stay out of report.md";
  EXPECT_EQ(md.find("training"), std::string::npos) << "timings must stay out of report.md";

  const std::string html = render_html(info, out, dir);
  EXPECT_NE(html.find("data:image/png;base64," + base64(slurp(dir / "two_panels.png"))),
            std::string::npos);
  EXPECT_NE(html.find("2026-01-01"), std::string::npos);
  EXPECT_NE(html.find("training: 1.250 s"), std::string::npos);
  EXPECT_NE(html.find("<td>b|c</td>") == std::string::npos ? html.find("<th>b|c</th>")
                                                            : std::string::npos,
            std::string::npos);
  EXPECT_NE(html.find("class=\"fail\">FAIL"), std::string::npos);

  const auto j = nlohmann::json::parse(render_summary(info, out));
  EXPECT_EQ(j["seed"], 7);
  EXPECT_EQ(j["sections"][0]["name"], "demo");
  EXPECT_DOUBLE_EQ(j["sections"][0]["metrics"]["accuracy"].get<double>(), 0.97);
  EXPECT_EQ(j["sections"][0]["checks"].size(), 2u);
  EXPECT_EQ(j["sections"][0]["checks"][1]["pass"], false);
  EXPECT_EQ(j["sections"][0]["figures"][0], "two_panels.png");
}
