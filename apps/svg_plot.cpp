#include "svg_plot.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical::app::svg {
namespace {

constexpr const char* font = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"";

std::string header(double width, double height) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
      "width=\"{0:.0f}\" height=\"{1:.0f}\" "
      "viewBox=\"0 0 {0:.0f} {1:.0f}\" {2}>\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      width, height, font);
}

std::string text(double x, double y, std::string_view s, double size = 12,
                 std::string_view anchor = "start", std::string_view extra = "") {
  return fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{}\" text-anchor=\"{}\"{}{}>{}</text>\n", x, y,
      size, anchor, extra.empty() ? "" : " ", extra, escape(s));
}

// About `target` round tick values covering [lo, hi]: steps of 1, 2 or 5
// times a power of ten.
std::vector<double> ticks(double lo, double hi, int target = 6) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> out;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return out;
}

std::string tick_label(double v) {
  std::string s = fmt::format("{:.6g}", v);
  return s;
}

// Linear interpolation between colours a and b (0xRRGGBB) at f in [0, 1].
std::array<std::uint8_t, 3> mix(std::uint32_t a, std::uint32_t b, double f) {
  f = std::clamp(f, 0.0, 1.0);
  std::array<std::uint8_t, 3> out{};
  for (int c = 0; c < 3; ++c) {
    const double ca = static_cast<double>((a >> (16 - 8 * c)) & 0xff);
    const double cb = static_cast<double>((b >> (16 - 8 * c)) & 0xff);
    out[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(std::lround(ca + (cb - ca) * f));
  }
  return out;
}

std::string hex(const std::array<std::uint8_t, 3>& c) {
  return fmt::format("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
}

// Blue (-1) .. white (0) .. red (+1).
std::array<std::uint8_t, 3> diverging(double v) {
  return v < 0 ? mix(0xffffff, 0x2166ac, -v) : mix(0xffffff, 0xb2182b, v);
}

// White (0) .. dark blue (1).
std::array<std::uint8_t, 3> sequential(double v) {
  return v < 0.5 ? mix(0xf7fbff, 0x6baed6, v * 2) : mix(0x6baed6, 0x08306b, v * 2 - 1);
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void chunk(std::string& out, const char* type, const std::string& data) {
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  out += body;
  put_u32(out, static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(body.data()),
                                                static_cast<uInt>(body.size()))));
}

std::string base64(std::string_view bytes) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size())
      v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(table[(v >> 18) & 63]);
    out.push_back(table[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? table[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? table[v & 63] : '=');
  }
  return out;
}

}  // namespace

std::string palette(std::size_t i) {
  static constexpr const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return colors[i % 10];
}

std::string escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// The plotting area of a line chart and its data ranges.
struct chart_frame {
  double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  double left = 70, right = 190, top = 44, bottom = 56;
  double pw = 0, ph = 0;  // plot width and height

  double px(double x) const { return left + (x - x_lo) / (x_hi - x_lo) * pw; }
  double py(double y) const { return top + (1 - (y - y_lo) / (y_hi - y_lo)) * ph; }
};

// The ranges of the finite points, unless the options fix them.
chart_frame frame_of(const chart_options& o, const std::vector<series>& lines) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo;
  double y_lo = x_lo, y_hi = -x_lo;
  for (const auto& s : lines) {
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]);
      y_hi = std::max(y_hi, s.y[i]);
    }
  }
  if (!std::isfinite(x_lo)) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  chart_frame f;
  f.x_lo = o.x_min.value_or(x_lo);
  f.x_hi = o.x_max.value_or(x_hi);
  f.y_lo = o.y_min.value_or(y_lo);
  f.y_hi = o.y_max.value_or(y_hi);
  if (!(f.x_hi > f.x_lo)) f.x_hi = f.x_lo + 1;
  if (!(f.y_hi > f.y_lo)) {
    f.y_lo -= 0.5;
    f.y_hi += 0.5;
  }
  f.pw = o.width - f.left - f.right;
  f.ph = o.height - f.top - f.bottom;
  return f;
}

// Title, grid, ticks, frame and axis labels.
std::string chart_axes(const chart_options& o, const chart_frame& f) {
  std::string s = text(o.width / 2 - f.right / 2 + f.left / 2, 26, o.title, 16, "middle",
                       "font-weight=\"bold\"");
  for (const double t : ticks(f.y_lo, f.y_hi)) {
    s += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e6e6e6\"/>\n",
        f.left, f.py(t), f.left + f.pw, f.py(t));
    s += text(f.left - 8, f.py(t) + 4, tick_label(t), 11, "end");
  }
  for (const double t : ticks(f.x_lo, f.x_hi)) {
    s += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e6e6e6\"/>\n",
        f.px(t), f.top, f.px(t), f.top + f.ph);
    s += text(f.px(t), f.top + f.ph + 18, tick_label(t), 11, "middle");
  }
  s += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
      "stroke=\"#444\"/>\n",
      f.left, f.top, f.pw, f.ph);
  s += text(f.left + f.pw / 2, o.height - 14, o.x_label, 13, "middle");
  s += fmt::format(
      "<text x=\"18\" y=\"{:.1f}\" font-size=\"13\" text-anchor=\"middle\" "
      "transform=\"rotate(-90 18 {:.1f})\">{}</text>\n",
      f.top + f.ph / 2, f.top + f.ph / 2, escape(o.y_label));
  return s;
}

// One path per series (broken at non-finite points), clipped to the plot.
std::string chart_lines(const std::vector<series>& lines, const chart_frame& f) {
  std::string s = fmt::format(
      "<clipPath id=\"plot\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
      "height=\"{:.1f}\"/></clipPath>\n<g clip-path=\"url(#plot)\">\n",
      f.left - 4, f.top - 4, f.pw + 8, f.ph + 8);
  for (std::size_t k = 0; k < lines.size(); ++k) {
    const auto& l = lines[k];
    const std::string color = l.color.empty() ? palette(k) : l.color;
    std::string d;
    bool pen_down = false;
    for (std::size_t i = 0; i < std::min(l.x.size(), l.y.size()); ++i) {
      if (!std::isfinite(l.x[i]) || !std::isfinite(l.y[i])) {
        pen_down = false;
        continue;
      }
      d += fmt::format("{}{:.1f} {:.1f} ", pen_down ? "L" : "M", f.px(l.x[i]), f.py(l.y[i]));
      pen_down = true;
    }
    if (!d.empty())
      s += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{}{}/>\n", d,
                       color, l.stroke_width, l.dashed ? " stroke-dasharray=\"6 4\"" : "",
                       l.stroke_width < 1.5 ? " stroke-opacity=\"0.7\"" : "");
    if (l.markers)
      for (std::size_t i = 0; i < std::min(l.x.size(), l.y.size()); ++i)
        if (std::isfinite(l.x[i]) && std::isfinite(l.y[i]))
          s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n",
                           f.px(l.x[i]), f.py(l.y[i]), color);
  }
  return s + "</g>\n";
}

// Legend, right of the plot.
std::string chart_legend(const std::vector<series>& lines, const chart_frame& f) {
  std::string s;
  for (std::size_t k = 0; k < lines.size(); ++k) {
    const double y = f.top + 12 + 22 * static_cast<double>(k);
    const std::string color = lines[k].color.empty() ? palette(k) : lines[k].color;
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"{3}\" "
        "stroke-width=\"2.5\"{4}/>\n",
        f.left + f.pw + 14, y, f.left + f.pw + 40, color,
        lines[k].dashed ? " stroke-dasharray=\"6 4\"" : "");
    s += text(f.left + f.pw + 46, y + 4, lines[k].name, 12);
  }
  return s;
}

}  // namespace

std::string line_chart(const chart_options& o, const std::vector<series>& lines) {
  const chart_frame f = frame_of(o, lines);
  return header(o.width, o.height) + chart_axes(o, f) + chart_lines(lines, f) +
         chart_legend(lines, f) + "</svg>\n";
}

std::string heatmap(const heatmap_options& o, const std::vector<std::vector<double>>& values) {
  const std::size_t rows = values.size();
  std::size_t cols = 0;
  double hi = 0;
  for (const auto& r : values) {
    cols = std::max(cols, r.size());
    for (const double v : r)
      if (std::isfinite(v)) hi = std::max(hi, v);
  }
  const double left = 110, top = 64, right = 30, bottom = 70;
  const double width = std::max(left + o.cell * static_cast<double>(cols) + right,
                                40.0 + 9.5 * static_cast<double>(o.title.size()));
  const double height = top + o.cell * static_cast<double>(rows) + bottom;
  std::string s = header(std::max(width, 320.0), height);
  s += text(width / 2, 24, o.title, 16, "middle", "font-weight=\"bold\"");
  s += text(left + o.cell * static_cast<double>(cols) / 2, 46, o.col_label, 12, "middle");
  s += fmt::format(
      "<text x=\"16\" y=\"{0:.1f}\" font-size=\"12\" text-anchor=\"middle\" "
      "transform=\"rotate(-90 16 {0:.1f})\">{1}</text>\n",
      top + o.cell * static_cast<double>(rows) / 2, escape(o.row_label));
  for (std::size_t r = 0; r < rows; ++r) {
    const double y = top + o.cell * static_cast<double>(r);
    if (r < o.row_names.size()) s += text(left - 6, y + o.cell / 2 + 4, o.row_names[r], 11, "end");
    for (std::size_t c = 0; c < values[r].size(); ++c) {
      const double x = left + o.cell * static_cast<double>(c);
      const double v = values[r][c];
      const double f = hi > 0 && std::isfinite(v) ? v / hi : 0.0;
      s += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
          "fill=\"{}\" stroke=\"white\"/>\n",
          x, y, o.cell, o.cell, hex(sequential(f)));
      if (o.annotate && std::isfinite(v))
        s += text(x + o.cell / 2, y + o.cell / 2 + 4, tick_label(v), o.cell >= 36 ? 11 : 9,
                  "middle", f > 0.55 ? "fill=\"white\"" : "fill=\"#222\"");
    }
  }
  for (std::size_t c = 0; c < cols && c < o.col_names.size(); ++c) {
    const double x = left + o.cell * (static_cast<double>(c) + 0.5);
    const double y = top + o.cell * static_cast<double>(rows) + 14;
    s += fmt::format(
        "<text x=\"{0:.1f}\" y=\"{1:.1f}\" font-size=\"11\" text-anchor=\"end\" "
        "transform=\"rotate(-40 {0:.1f} {1:.1f})\">{2}</text>\n",
        x, y, escape(o.col_names[c]));
  }
  s += "</svg>\n";
  return s;
}

std::string raster(const std::string& title, double t_max_ms,
                   const std::vector<raster_band>& bands) {
  const double left = 130, right = 30, top = 44, gap = 10, bottom = 50, width = 900;
  double height = top + bottom;
  for (const auto& b : bands) height += b.height + gap;
  const double pw = width - left - right;
  const double t_max = t_max_ms > 0 ? t_max_ms : 1.0;
  std::string s = header(width, height);
  s += text(left + pw / 2, 26, title, 16, "middle", "font-weight=\"bold\"");
  double y = top;
  for (std::size_t k = 0; k < bands.size(); ++k) {
    const auto& b = bands[k];
    const std::string color = palette(k);
    s += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
        "fill=\"#fafafa\" stroke=\"#bbb\"/>\n",
        left, y, pw, b.height);
    s += text(left - 8, y + b.height / 2, b.name, 12, "end");
    s += text(left - 8, y + b.height / 2 + 14,
              fmt::format("{} cells, {} spikes", b.neurons, b.spikes.size()), 9, "end",
              "fill=\"#666\"");
    const double row = b.height / static_cast<double>(std::max<std::size_t>(b.neurons, 1));
    const double mark = std::max(row, 3.0);
    std::string d;
    for (const auto& [t, n] : b.spikes) {
      if (t < 0 || t > t_max) continue;
      d += fmt::format("M{:.1f} {:.1f}v{:.1f}", left + t / t_max * pw,
                       y + row * static_cast<double>(n) + (row - mark) / 2, mark);
    }
    if (!d.empty())
      s += fmt::format("<path d=\"{}\" stroke=\"{}\" stroke-width=\"1.6\" fill=\"none\"/>\n", d,
                       color);
    y += b.height + gap;
  }
  for (const double t : ticks(0, t_max)) {
    const double x = left + t / t_max * pw;
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#444\"/>\n", x,
        y - gap, y - gap + 5);
    s += text(x, y - gap + 18, tick_label(t), 11, "middle");
  }
  s += text(left + pw / 2, height - 12, "time (ms)", 13, "middle");
  s += "</svg>\n";
  return s;
}

std::string png_rgb(std::span<const std::uint8_t> rgb, std::size_t width, std::size_t height) {
  if (rgb.size() != width * height * 3)
    throw parameter_error(fmt::format("png_rgb: {} bytes for a {}x{} image; expected {}",
                                      rgb.size(), width, height, width * height * 3));
  // Each row is preceded by filter type 0 (none).
  std::string raw;
  raw.reserve(height * (width * 3 + 1));
  for (std::size_t r = 0; r < height; ++r) {
    raw.push_back('\0');
    raw.append(reinterpret_cast<const char*>(rgb.data() + r * width * 3), width * 3);
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(packed.data()), &size,
                reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                9) != Z_OK)
    throw parameter_error("png_rgb: zlib could not compress the image");
  packed.resize(size);
  std::string out = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put_u32(ihdr, static_cast<std::uint32_t>(width));
  put_u32(ihdr, static_cast<std::uint32_t>(height));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8 bits, RGB, deflate, no filter, no interlace
  chunk(out, "IHDR", ihdr);
  chunk(out, "IDAT", packed);
  chunk(out, "IEND", {});
  return out;
}

std::string image_grid(const image_grid_options& o, const std::vector<std::vector<float>>& images) {
  const std::size_t n = images.size();
  const std::size_t cols = std::max<std::size_t>(1, std::min(o.columns, n));
  const std::size_t rows = (n + cols - 1) / cols;
  const std::size_t sc = std::max<std::size_t>(1, o.scale);
  const std::size_t tile_w = o.width * sc, tile_h = o.height * sc, pad = 4;
  const std::size_t img_w = cols * (tile_w + pad) + pad, img_h = rows * (tile_h + pad) + pad;
  std::vector<std::uint8_t> rgb(img_w * img_h * 3, 255);
  const std::size_t plane = o.height * o.width;
  for (std::size_t k = 0; k < n; ++k) {
    const auto& v = images[k];
    if (v.size() != o.channels * plane)
      throw parameter_error(
          fmt::format("image_grid: image {} has {} values; expected {} ({}x{}x{})", k, v.size(),
                      o.channels * plane, o.channels, o.height, o.width));
    float lo = 0, hi = 0, amax = 0;
    if (!v.empty()) {
      lo = *std::min_element(v.begin(), v.end());
      hi = *std::max_element(v.begin(), v.end());
      amax = std::max(std::abs(lo), std::abs(hi));
    }
    const std::size_t ox = pad + (k % cols) * (tile_w + pad),
                      oy = pad + (k / cols) * (tile_h + pad);
    for (std::size_t r = 0; r < o.height; ++r) {
      for (std::size_t c = 0; c < o.width; ++c) {
        std::array<std::uint8_t, 3> px{};
        if (o.channels == 3) {
          for (std::size_t ch = 0; ch < 3; ++ch) {
            const double f = hi > lo ? (v[ch * plane + r * o.width + c] - lo) / (hi - lo) : 0.5;
            px[ch] = static_cast<std::uint8_t>(std::lround(std::clamp(f, 0.0, 1.0) * 255));
          }
        } else {
          const double f = amax > 0 ? v[r * o.width + c] / amax : 0.0;
          px = diverging(f);
        }
        for (std::size_t dy = 0; dy < sc; ++dy)
          for (std::size_t dx = 0; dx < sc; ++dx) {
            std::uint8_t* p = &rgb[((oy + r * sc + dy) * img_w + ox + c * sc + dx) * 3];
            p[0] = px[0], p[1] = px[1], p[2] = px[2];
          }
      }
    }
  }
  const double top = 40, bottom = o.caption.empty() ? 12 : 34;
  const double width = std::max(static_cast<double>(img_w) + 20, 360.0);
  const double height = top + static_cast<double>(img_h) + bottom;
  std::string s = header(width, height);
  s += text(width / 2, 26, o.title, 16, "middle", "font-weight=\"bold\"");
  s += fmt::format(
      "<image x=\"{:.1f}\" y=\"{:.1f}\" width=\"{}\" height=\"{}\" "
      "style=\"image-rendering:pixelated\" xlink:href=\"data:image/png;base64,{}\"/>\n",
      (width - static_cast<double>(img_w)) / 2, top, img_w, img_h,
      base64(png_rgb(rgb, img_w, img_h)));
  if (!o.caption.empty())
    s += text(width / 2, height - 12, o.caption, 11, "middle", "fill=\"#444\"");
  s += "</svg>\n";
  return s;
}

}  // namespace apical::app::svg
