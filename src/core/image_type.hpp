#pragma once
// The allow-list of upload types and recognition of an image by its first bytes.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace qr {

/// An accepted image type: its MIME type and the extension its upload key gets.
struct ImageType {
  std::string_view mime;
  std::string_view extension;  ///< with the dot, e.g. ".jpg"
};

/// Every type the upload check can recognise (JPEG, PNG, GIF, WebP, HEIC, HEIF, AVIF): the
/// local server's allow-list, and the most a deployment may allow.
std::span<const ImageType> known_image_types();

/// The known type for `mime` (case-insensitive), or nullopt.
std::optional<ImageType> allowed_image_type(std::string_view mime);

/// The types a deployment accepts: some of the known ones (the AWS stack's AllowedContentTypes,
/// read from ALLOWED_CONTENT_TYPES). Default-constructed, every known type.
class AllowedImageTypes {
 public:
  AllowedImageTypes();

  /// Reads a comma-separated list ("image/jpeg,image/png"; names case-insensitive, spaces around
  /// them ignored, repeats dropped). invalid_input naming the first type the check cannot
  /// recognise, or when the list names none.
  static Result<AllowedImageTypes> parse(std::string_view list);

  /// The accepted type for `mime` (case-insensitive), or nullopt.
  std::optional<ImageType> find(std::string_view mime) const;
  /// The accepted types, in the order given.
  std::span<const ImageType> types() const { return types_; }
  /// The list as the setting writes it, comma-separated.
  std::string joined() const;

 private:
  std::vector<ImageType> types_;
};

/// The MIME type the leading bytes show (JPEG, PNG, GIF, WebP, AVIF, or HEIF family as
/// image/heic or image/heif), or nullopt when they are none of the allowed images.
std::optional<std::string_view> sniff_image_type(std::string_view head);

/// True when `head` is an image of `signed_type`. For the spec's wildcard "image/*" any allowed
/// image passes; image/heic and image/heif accept each other (one container, brands vary by
/// device).
bool head_matches_type(std::string_view signed_type, std::string_view head);

}  // namespace qr
