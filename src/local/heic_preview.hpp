#pragma once
// JPEG previews of HEIC/HEIF photos, which most desktop browsers cannot show: decoded here with
// libheif and written beside the original, so the desktop page shows the photo instead of a
// placeholder. The original is never changed; downloads get it as it was sent.

#include <filesystem>

#include "core/error.hpp"

namespace qr::local {

/// Longest side of a preview, in pixels (a desktop grid and viewer need no more).
inline constexpr int preview_max_side = 2048;

/// Decodes the HEIC/HEIF image in `source` and writes a JPEG of it to `target` (no longer than
/// preview_max_side on its longest side), via a temporary file renamed into place. Refuses images
/// larger than 100 megapixels before decoding them.
Result<void> write_heic_preview(const std::filesystem::path& source,
                                const std::filesystem::path& target);

}  // namespace qr::local
