#pragma once
// The allow-list of upload types and recognition of an image by its first bytes.

#include <optional>
#include <string_view>

namespace qr {

/// An accepted image type: its MIME type and the extension its upload key gets.
struct ImageType {
  std::string_view mime;
  std::string_view extension;  ///< with the dot, e.g. ".jpg"
};

/// The allow-listed type for `mime` (case-insensitive), or nullopt.
std::optional<ImageType> allowed_image_type(std::string_view mime);

/// The MIME type the leading bytes show (JPEG, PNG, GIF, WebP, AVIF, or HEIF family as
/// image/heic or image/heif), or nullopt when they are none of the allowed images.
std::optional<std::string_view> sniff_image_type(std::string_view head);

/// True when `head` is an image of `signed_type`. For the spec's wildcard "image/*" any allowed
/// image passes; image/heic and image/heif accept each other (one container, brands vary by
/// device).
bool head_matches_type(std::string_view signed_type, std::string_view head);

}  // namespace qr
