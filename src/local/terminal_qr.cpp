#include "local/terminal_qr.hpp"

#include <qrencode.h>

namespace qr::local {

std::vector<std::vector<bool>> qr_modules(std::string_view text) {
  const std::string input(text);
  QRcode* code = QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (!code) return {};
  const int n = code->width;
  std::vector<std::vector<bool>> out(n, std::vector<bool>(n));
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) out[y][x] = (code->data[y * n + x] & 1) != 0;
  QRcode_free(code);
  return out;
}

std::string render_terminal_qr(const std::vector<std::vector<bool>>& modules, bool invert) {
  constexpr int quiet = 4;  // ISO/IEC 18004's quiet zone, in modules
  const int n = static_cast<int>(modules.size());
  auto dark = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= n || y >= n) return false;
    return static_cast<bool>(modules[y][x]);
  };
  // Foreground draws the dark modules, background the light ones: black on white, set for each
  // line, so a dark terminal theme cannot invert the code.
  const char* colours = invert ? "\x1b[97;40m" : "\x1b[30;107m";
  std::string out;
  for (int y = -quiet; y < n + quiet; y += 2) {
    out += colours;
    for (int x = -quiet; x < n + quiet; ++x) {
      const bool top = dark(x, y), bottom = y + 1 < n + quiet && dark(x, y + 1);
      out += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
    }
    out += "\x1b[0m\n";
  }
  return out;
}

}  // namespace qr::local
