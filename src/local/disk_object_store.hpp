#pragma once
// ObjectStore on a directory, with SigV4-presigned URLs (service "s3") that this server checks
// itself: the same scheme as S3, and a second, independent user of the project's signer.

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aws/sigv4.hpp"
#include "ports/clock.hpp"
#include "ports/object_store.hpp"

namespace qr::local {

/// Objects as files under `<data>/objects/<key>`, uploads staged in `<data>/tmp`.
class DiskObjectStore final : public ObjectStore {
 public:
  /// Creates the directories and loads (or creates, once) the signing secret in `<data>/secret`.
  static Result<std::unique_ptr<DiskObjectStore>> open(const std::filesystem::path& data_dir,
                                                       std::string public_url, Clock& clock);

  Result<PresignedRequest> presign_put(std::string_view key, std::string_view content_type,
                                       std::optional<std::uint64_t> content_length,
                                       std::chrono::seconds expires_in) override;
  Result<std::string> presign_get(std::string_view key, std::chrono::seconds expires_in,
                                  std::string_view download_name) override;
  Result<std::optional<ObjectInfo>> inspect(std::string_view key, std::size_t head_bytes) override;
  Result<void> remove(std::string_view key) override;
  std::optional<std::string> preview_url(std::string_view key,
                                         std::chrono::seconds expires_in) override;

  /// Where the JPEG preview of `key` goes (beside it), or nullopt for a key outside the layout.
  std::optional<std::filesystem::path> preview_path_for(std::string_view key) const;

  /// The file for `key`, or nullopt when the key is not of the upload layout. Only keys
  /// session-uploads/{uuid}/{name} with a plain file name map to files, so no key can name a
  /// path outside the objects directory.
  std::optional<std::filesystem::path> path_for(std::string_view key) const;

  /// Checks a request against its presigned query: method, path, signed headers, expiry.
  Result<void> verify(const aws::SignableRequest& received) const;

  /// A fresh temporary file path for an upload in progress (same filesystem as the objects).
  std::filesystem::path temp_path() const;
  /// Moves a finished upload into place, atomically; already_exists if the key has an object
  /// (objects are write-once, so a reused upload URL cannot replace a checked image).
  Result<void> commit(const std::filesystem::path& temp, std::string_view key);
  /// Deletes every object of a session (used when expired sessions are swept).
  void remove_session(std::string_view session_id);

  /// The disk this store may use: at most `quota_bytes` of photos and uploads in progress (0: no
  /// quota), and never less than `min_free_bytes` left free on the filesystem.
  void limit_space(std::uint64_t quota_bytes, std::uint64_t min_free_bytes);
  /// Room for `bytes` more under both limits, or ErrorCode::unavailable saying which is reached.
  /// Reads the disk afresh (at most once a second), so freed space counts at once.
  Result<void> check_space(std::uint64_t bytes);

  /// What a preview's key adds to its photo's key.
  static constexpr std::string_view preview_suffix = ".preview.jpg";

  /// The URL path prefix under which objects are served.
  static constexpr std::string_view url_prefix = "/objects/";

 private:
  DiskObjectStore(std::filesystem::path root, std::filesystem::path tmp, std::string public_url,
                  std::string host, std::string secret, Clock& clock);
  aws::SignableRequest request_for(std::string method, std::string_view key) const;

  std::filesystem::path root_;
  std::filesystem::path tmp_;
  std::string public_url_;
  std::string host_;
  aws::Signer signer_;
  Clock& clock_;

  std::mutex space_mutex_;
  std::uint64_t quota_bytes_ = 0;
  std::uint64_t min_free_bytes_ = 0;
  std::uint64_t used_bytes_ = 0;     // objects and tmp, as last counted
  std::uint64_t granted_bytes_ = 0;  // let in since then
  std::chrono::steady_clock::time_point counted_at_{};
};

}  // namespace qr::local
