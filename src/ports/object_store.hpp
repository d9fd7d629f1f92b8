#pragma once
// Port: where uploaded images live (S3 on AWS, a directory locally, a map in tests).

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace qr {

/// A request the phone or desktop can make directly to storage.
struct PresignedRequest {
  std::string method;                          ///< "PUT" or "GET"
  std::string url;                             ///< absolute URL, signature included
  std::map<std::string, std::string> headers;  ///< headers the client must send exactly
};

/// What the upload check needs to know about a stored object.
struct ObjectInfo {
  std::uint64_t size = 0;    ///< Content-Length of the stored object
  std::string content_type;  ///< Content-Type it was stored with
  std::string head;          ///< its first bytes (at most as many as asked for)
};

/// Object storage with presigned URLs.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  /// A PUT URL for `key` that accepts exactly `content_type` (and `content_length` when known).
  virtual Result<PresignedRequest> presign_put(std::string_view key, std::string_view content_type,
                                               std::optional<std::uint64_t> content_length,
                                               std::chrono::seconds expires_in) = 0;

  /// A GET URL for `key`. With a `download_name`, the answer to it carries that name in
  /// Content-Disposition (S3's signed response-content-disposition parameter), so a browser
  /// saves the photo under its original name; empty: no such header.
  virtual Result<std::string> presign_get(std::string_view key, std::chrono::seconds expires_in,
                                          std::string_view download_name) = 0;

  /// Size, type and first `head_bytes` bytes of `key`; nullopt if it does not exist.
  virtual Result<std::optional<ObjectInfo>> inspect(std::string_view key,
                                                    std::size_t head_bytes) = 0;

  /// Deletes `key` (and its preview, if any); deleting a missing key succeeds.
  virtual Result<void> remove(std::string_view key) = 0;

  /// A GET URL for a JPEG preview of `key`, when the storage made one (the local server makes
  /// them for HEIC/HEIF photos, which most desktop browsers cannot show); nullopt otherwise.
  /// S3 makes none (docs/API.md says why).
  virtual std::optional<std::string> preview_url(std::string_view key,
                                                 std::chrono::seconds expires_in) {
    (void)key;
    (void)expires_in;
    return std::nullopt;
  }
};

}  // namespace qr
