#include "core/file_name.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/ascii.hpp"
#include "core/utf8.hpp"

namespace qr {
namespace {

// One decoded UTF-8 character: its code point and its bytes in the input.
struct Char {
  char32_t code;
  std::string_view bytes;
};

// Decodes `text`, dropping every byte that does not start a well-formed sequence (core/utf8).
std::vector<Char> decode_utf8(std::string_view text) {
  std::vector<Char> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t length = utf8_sequence_length(text.substr(i));
    if (length == 0) {
      ++i;  // not UTF-8: drop the byte and resynchronise on the next
      continue;
    }
    const std::string_view bytes = text.substr(i, length);
    out.push_back({utf8_code_point(bytes), bytes});
    i += length;
  }
  return out;
}

bool unwanted(char32_t c) {
  if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F)) return true;  // C0, DEL, C1
  if (c == 0x061C || c == 0x200E || c == 0x200F || c == 0xFEFF) return true;
  if (c >= 0x202A && c <= 0x202E) return true;  // LRE RLE PDF LRO RLO
  if (c >= 0x2066 && c <= 0x2069) return true;  // LRI RLI FSI PDI
  return false;
}

struct TypeNames {
  std::string_view mime;
  std::array<std::string_view, 4> extensions;  ///< first: the one a name gets
};

constexpr std::array<TypeNames, 7> type_names{{
    {"image/jpeg", {"jpg", "jpeg", "jpe", "jfif"}},
    {"image/png", {"png"}},
    {"image/gif", {"gif"}},
    {"image/webp", {"webp"}},
    {"image/heic", {"heic", "heif", "hif"}},
    {"image/heif", {"heif", "heic", "hif"}},
    {"image/avif", {"avif"}},
}};

// The extension of `name` (without the dot), if it has one after a non-empty stem.
std::optional<std::string_view> extension_of(std::string_view name) {
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return std::nullopt;
  return name.substr(dot + 1);
}

}  // namespace

std::string sanitize_file_name(std::string_view original) {
  if (const auto slash = original.find_last_of("/\\"); slash != std::string_view::npos)
    original.remove_prefix(slash + 1);
  std::vector<Char> chars;
  for (const Char& c : decode_utf8(original))
    if (!unwanted(c.code)) chars.push_back(c);
  auto trimmed = [](char32_t c) { return c == ' ' || c == '.'; };
  std::size_t begin = 0, end = chars.size();
  while (begin < end && trimmed(chars[begin].code)) ++begin;
  while (end > begin && trimmed(chars[end - 1].code)) --end;

  std::string stem, extension;
  std::size_t dot = end;
  for (std::size_t i = end; i > begin; --i)
    if (chars[i - 1].code == '.') {
      dot = i - 1;
      break;
    }
  // Only a short extension is kept whole; a "name.<long text>" is all stem.
  if (dot != end && end - dot - 1 > 10) dot = end;
  for (std::size_t i = dot; i < end; ++i) extension += chars[i].bytes;
  for (std::size_t i = begin; i < dot; ++i) {
    if (stem.size() + chars[i].bytes.size() + extension.size() > max_file_name_bytes) break;
    stem += chars[i].bytes;
  }
  while (!stem.empty() && stem.back() == ' ') stem.pop_back();
  if (stem.empty()) return extension.empty() ? "photo" : "photo" + extension;
  return stem + extension;
}

std::string name_for_type(std::string_view name, std::string_view mime) {
  const TypeNames* type = nullptr;
  for (const auto& t : type_names)
    if (ascii::iequals(t.mime, mime)) type = &t;
  if (!type) return std::string(name);
  const auto ext = extension_of(name);
  if (ext)
    for (std::string_view fits : type->extensions)
      if (!fits.empty() && ascii::iequals(*ext, fits)) return std::string(name);
  // Another image type's extension is wrong, so it goes; any other stays part of the name.
  auto is_image_extension = [](std::string_view e) {
    for (const auto& other : type_names)
      for (std::string_view known : other.extensions)
        if (!known.empty() && ascii::iequals(e, known)) return true;
    return false;
  };
  const std::string_view stem =
      ext && is_image_extension(*ext) ? name.substr(0, name.size() - ext->size() - 1) : name;
  std::string out = std::string(stem) + "." + std::string(type->extensions[0]);
  if (out.size() > max_file_name_bytes + 5) out = sanitize_file_name(out);
  return out;
}

std::string content_disposition(std::string_view name) {
  std::string fallback, encoded;
  for (const Char& c : decode_utf8(name)) {
    const bool plain = c.code >= 0x20 && c.code < 0x7F && c.code != '"' && c.code != '\\' &&
                       c.code != '%' && c.code != ';';
    fallback += plain ? static_cast<char>(c.code) : '_';
  }
  for (const char ch : name) {
    const auto b = static_cast<unsigned char>(ch);
    // RFC 5987 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~"
    const bool attr = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
                      std::string_view("!#$&+-.^_`|~").find(ch) != std::string_view::npos;
    if (attr) {
      encoded += ch;
    } else {
      constexpr std::string_view upper_hex = "0123456789ABCDEF";
      encoded += '%';
      encoded += upper_hex[b >> 4];
      encoded += upper_hex[b & 0x0f];
    }
  }
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace qr
