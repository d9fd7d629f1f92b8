#pragma once
// ASCII text helpers: the one home for case folding and hex digits. Protocol names (HTTP header
// names, methods, hex escapes) are ASCII; none of these look at the locale.

#include <span>
#include <string>
#include <string_view>

namespace qr::ascii {

/// `c` lower-cased if it is an ASCII capital letter.
constexpr char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// `text` with ASCII capitals lower-cased.
std::string lower(std::string_view text);

/// Lower-cases the ASCII capitals of `text` in place.
void lower_in_place(std::string& text);

/// `text` with ASCII small letters upper-cased.
std::string upper(std::string_view text);

/// True when `a` and `b` are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);

/// The value of one hex digit (either case), or -1 if `c` is not one.
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// The lower-case hex digit for `nibble` (0 to 15).
constexpr char hex_digit(unsigned nibble) {
  return "0123456789abcdef"[nibble & 0x0f];
}

/// Lower-case hex of `bytes`, two digits a byte.
std::string hex(std::span<const unsigned char> bytes);

}  // namespace qr::ascii
