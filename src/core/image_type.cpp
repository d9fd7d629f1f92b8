#include "core/image_type.hpp"
#include "core/ascii.hpp"

#include <array>
#include <cctype>

#include "core/constants.hpp"

namespace qr {
namespace {

constexpr std::array<ImageType, 6> allow_list{{
    {"image/jpeg", ".jpg"},
    {"image/png", ".png"},
    {"image/gif", ".gif"},
    {"image/webp", ".webp"},
    {"image/heic", ".heic"},
    {"image/heif", ".heif"},
}};

bool heif_family(std::string_view mime) {
  return mime == "image/heic" || mime == "image/heif";
}

}  // namespace

std::optional<ImageType> allowed_image_type(std::string_view mime) {
  for (const auto& type : allow_list)
    if (ascii::iequals(type.mime, mime)) return type;
  return std::nullopt;
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
