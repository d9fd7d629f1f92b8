#pragma once
// A QR code a phone reads off a terminal: dark modules on a light background with the standard
// four-module quiet zone, whatever the terminal's own colours (the colours are set explicitly),
// two modules per character cell with half blocks.

#include <string>
#include <string_view>
#include <vector>

namespace qr::local {

/// The modules of the QR code for `text` (ECC level M): true is dark. Empty if it cannot be
/// encoded.
std::vector<std::vector<bool>> qr_modules(std::string_view text);

/// The code as terminal lines (each ends with a colour reset and '\n'). `invert` draws light
/// modules on a dark background, for the rare scanner that wants it.
std::string render_terminal_qr(const std::vector<std::vector<bool>>& modules, bool invert = false);

}  // namespace qr::local
