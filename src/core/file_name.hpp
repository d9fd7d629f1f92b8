#pragma once
// The original names of uploaded photos: what the phone says a photo is called is kept, made safe
// to show, to put in a Content-Disposition header and to write into a folder.

#include <string>
#include <string_view>

namespace qr {

/// Longest stored name, in bytes of UTF-8.
inline constexpr std::size_t max_file_name_bytes = 120;

/// The name a photo is stored under: the last path component of `original` (after '/' or '\'),
/// without bytes that are not UTF-8, control characters (C0, DEL, C1) or bidirectional controls
/// (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) or a byte-order mark; leading dots and
/// spaces and trailing dots and spaces trimmed; at most max_file_name_bytes, cut on a character
/// boundary with the extension kept. "photo" when nothing is left.
std::string sanitize_file_name(std::string_view original);

/// `name` with an extension that fits `mime` (the checked type): kept when it already does
/// (".JPG", ".jpeg" for image/jpeg), replaced when it is another image type's, appended otherwise.
/// Unknown types leave the name alone.
std::string name_for_type(std::string_view name, std::string_view mime);

/// A Content-Disposition value that makes a browser save the file as `name`:
/// attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded name> (RFC 6266).
std::string content_disposition(std::string_view name);

/// A name that does not exist yet in `taken`: "IMG_1.JPG", then "IMG_1 (2).JPG", "IMG_1 (3).JPG"...
/// `exists` says whether a candidate is taken.
template <class Exists>
std::string unused_name(std::string_view name, Exists&& exists) {
  if (!exists(name)) return std::string(name);
  const auto dot = name.rfind('.');
  const std::string_view stem =
      dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot);
  const std::string_view ext = stem.size() == name.size() ? std::string_view{} : name.substr(dot);
  for (int n = 2;; ++n) {
    std::string candidate = std::string(stem) + " (" + std::to_string(n) + ")" + std::string(ext);
    if (!exists(candidate)) return candidate;
  }
}

}  // namespace qr
