#include "core/ascii.hpp"

namespace qr::ascii {

std::string lower(std::string_view text) {
  std::string out(text);
  lower_in_place(out);
  return out;
}

void lower_in_place(std::string& text) {
  for (char& c : text) c = lower(c);
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string hex(std::span<const unsigned char> bytes) {
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = hex_digit(bytes[i] >> 4);
    out[2 * i + 1] = hex_digit(bytes[i]);
  }
  return out;
}

}  // namespace qr::ascii
