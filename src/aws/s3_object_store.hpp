#pragma once
// ObjectStore over S3: presigned PUT/GET URLs (SigV4 query signing, computed locally with no
// network call), HEAD + ranged GET for the upload check, DeleteObject.

#include <memory>
#include <string>

#include "aws/signed_client.hpp"
#include "ports/clock.hpp"
#include "ports/object_store.hpp"

namespace qr::aws {

/// Where a bucket's objects are addressed.
struct S3Addressing {
  Endpoint endpoint;   ///< the host requests go to (bucket host for virtual-hosted style)
  std::string prefix;  ///< path after the endpoint's base path and before the key: "/{bucket}"
                       ///< (path style) or "" (virtual-hosted)
};

/// Path style ("http://127.0.0.1:4569/{bucket}/{key}") when `path_style` (endpoint overrides
/// such as s3rver), virtual-hosted style ("https://{bucket}.s3.{region}.amazonaws.com/{key}")
/// otherwise.
S3Addressing s3_addressing(const Endpoint& s3_endpoint, std::string_view bucket, bool path_style);

/// The ObjectStore of the AWS deployment.
class S3ObjectStore final : public ObjectStore {
 public:
  /// `http` must talk to `addressing.endpoint`; `clock` dates signatures and must outlive this.
  S3ObjectStore(Credentials credentials, std::string region, S3Addressing addressing,
                std::unique_ptr<HttpClient> http, RetryPolicy retry, Clock& clock);

  /// Signs host and content-type, and content-length when given; the returned headers hold
  /// Content-Type only (a browser sets Content-Length itself, from the body).
  Result<PresignedRequest> presign_put(std::string_view key, std::string_view content_type,
                                       std::optional<std::uint64_t> content_length,
                                       std::chrono::seconds expires_in) override;
  Result<std::string> presign_get(std::string_view key, std::chrono::seconds expires_in,
                                  std::string_view download_name) override;
  /// HEAD, then a ranged GET of the first bytes. Missing (nullopt) is a 404, or a 403 whose error
  /// code is NoSuchKey; any other 403 (AccessDenied: what S3 answers for a missing key too when
  /// the role may not s3:ListBucket) is ErrorCode::forbidden, never a missing object.
  Result<std::optional<ObjectInfo>> inspect(std::string_view key, std::size_t head_bytes) override;
  Result<void> remove(std::string_view key) override;

 private:
  std::string object_path(std::string_view key) const;

  std::string prefix_;
  SignedClient aws_;
};

}  // namespace qr::aws
