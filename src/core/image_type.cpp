#include "core/image_type.hpp"
#include "core/ascii.hpp"

#include <array>
#include <cctype>

#include "core/constants.hpp"

namespace qr {
namespace {

constexpr std::array<ImageType, 7> allow_list{{
    {"image/jpeg", ".jpg"},
    {"image/png", ".png"},
    {"image/gif", ".gif"},
    {"image/webp", ".webp"},
    {"image/heic", ".heic"},
    {"image/heif", ".heif"},
    {"image/avif", ".avif"},
}};

bool heif_family(std::string_view mime) {
  return mime == "image/heic" || mime == "image/heif";
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::span<const ImageType> known_image_types() {
  return allow_list;
}

std::optional<ImageType> allowed_image_type(std::string_view mime) {
  for (const auto& type : allow_list)
    if (ascii::iequals(type.mime, mime)) return type;
  return std::nullopt;
}

AllowedImageTypes::AllowedImageTypes() : types_(allow_list.begin(), allow_list.end()) {}

Result<AllowedImageTypes> AllowedImageTypes::parse(std::string_view list) {
  AllowedImageTypes out;
  out.types_.clear();
  while (true) {
    const auto comma = list.find(',');
    const std::string_view name = trim_spaces(list.substr(0, comma));
    if (!name.empty()) {
      // Only types the check recognises by their bytes: anything else could never pass it.
      const auto type = allowed_image_type(name);
      if (!type)
        return fail(ErrorCode::invalid_input, "unsupported image type " + std::string(name));
      if (!out.find(type->mime)) out.types_.push_back(*type);
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (out.types_.empty()) return fail(ErrorCode::invalid_input, "no image type given");
  return out;
}

std::optional<ImageType> AllowedImageTypes::find(std::string_view mime) const {
  for (const auto& type : types_)
    if (ascii::iequals(type.mime, mime)) return type;
  return std::nullopt;
}

std::string AllowedImageTypes::joined() const {
  std::string out;
  for (const auto& type : types_) {
    if (!out.empty()) out += ',';
    out += type.mime;
  }
  return out;
}

std::optional<std::string_view> sniff_image_type(std::string_view head) {
  if (head.starts_with("\xFF\xD8\xFF")) return "image/jpeg";
  if (head.starts_with("\x89PNG\r\n\x1A\n")) return "image/png";
  if (head.starts_with("GIF87a") || head.starts_with("GIF89a")) return "image/gif";
  if (head.size() >= 12 && head.starts_with("RIFF") && head.substr(8, 4) == "WEBP")
    return "image/webp";
  // ISO base media file: a box size, then "ftyp" and the major brand.
  if (head.size() >= 12 && head.substr(4, 4) == "ftyp") {
    const std::string_view brand = head.substr(8, 4);
    if (brand == "avif" || brand == "avis") return "image/avif";
    // A generic HEIF brand with AVIF among the compatible brands (after the minor version).
    std::size_t box = 0;
    for (int i = 0; i < 4; ++i) box = (box << 8) | static_cast<unsigned char>(head[i]);
    if ((brand == "mif1" || brand == "msf1") && box >= 16)
      for (std::size_t at = 16; at + 4 <= std::min(box, head.size()); at += 4)
        if (head.substr(at, 4) == "avif") return "image/avif";
    for (std::string_view heic : {"heic", "heix", "hevc", "hevx", "heim", "heis"})
      if (brand == heic) return "image/heic";
    for (std::string_view heif : {"mif1", "msf1"})
      if (brand == heif) return "image/heif";
  }
  return std::nullopt;
}

bool head_matches_type(std::string_view signed_type, std::string_view head) {
  const auto actual = sniff_image_type(head);
  if (!actual) return false;
  if (signed_type == constants::wildcard_image_type) return true;
  if (heif_family(signed_type) && heif_family(*actual)) return true;
  return ascii::iequals(*actual, signed_type);
}

}  // namespace qr
