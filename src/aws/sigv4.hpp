#pragma once
// AWS Signature Version 4: header signing (Authorization), query signing (presigned URLs) and the
// verification of a presigned request.
//
// Paths. `SignableRequest::path` is the path exactly as it goes on the wire, already
// percent-encoded where the URL needs it (for a key "a b.jpg": "/bucket/a%20b.jpg"). The canonical
// URI is then derived per service:
//   - every service but S3 normalises the path (removes "." and ".." segments and empty segments)
//     and URI-encodes it once more ("double encoding": "/@connections/abc%3D" is signed as
//     "/%40connections/abc%253D");
//   - S3 signs the wire path as it is (no normalisation, "single encoding").
// `SigningOptions::for_service` picks the right flags; the test suite sets them per case.
//
// Query parameters are given decoded (name, value); the signer encodes them (RFC 3986 unreserved
// characters kept, everything else %XX) and sorts them. `encode_query` renders the same encoding
// for the URL, so what is sent is what was signed.
//
// Headers are the ones to sign, "host" among them. Names are matched case-insensitively;
// repeated names are joined with "," in the order given.
//
// Presigning and verifying, e.g. for the local server's signed URLs (service "s3"):
//
//   Signer signer({"local", secret, ""}, "us-east-1", "s3");
//   SignableRequest r{"PUT", "/objects/k.jpg", {}, {{"host", "10.0.0.2:8080"},
//                                                  {"content-type", "image/jpeg"}}};
//   QuerySignature q = signer.presign(r, unsigned_payload, 300s, now);
//   std::string url = "http://10.0.0.2:8080/objects/k.jpg?" + q.query_string;
//   ...
//   // on arrival: query parsed with parse_query(), headers as received:
//   Result<void> ok = signer.verify_presigned(received, unsigned_payload, now);

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "crypto/crypto.hpp"

namespace qr::aws {

/// An access key, its secret and (inside Lambda, always) a session token.
struct Credentials {
  std::string access_key_id;      ///< AWS_ACCESS_KEY_ID
  std::string secret_access_key;  ///< AWS_SECRET_ACCESS_KEY
  std::string session_token;      ///< AWS_SESSION_TOKEN; empty when there is none
};

/// Ordered (name, value) pairs, used for query parameters and headers.
using Pairs = std::vector<std::pair<std::string, std::string>>;

/// The parts of an HTTP request that SigV4 covers.
struct SignableRequest {
  std::string method;  ///< "GET", "PUT", "POST", ...
  std::string path;    ///< the wire path, percent-encoded as sent ("/" when empty)
  Pairs query;         ///< decoded query parameters
  Pairs headers;       ///< headers to sign; must include "host"
};

/// Hex SHA-256 of the empty payload.
inline constexpr std::string_view empty_payload_hash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The payload hash S3 accepts for presigned URLs, whose body is not known when signing.
inline constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";
/// Longest validity SigV4 allows for a presigned URL (7 days).
inline constexpr std::chrono::seconds max_presign_expiry{604800};

/// How a service wants requests canonicalised.
struct SigningOptions {
  bool normalize_path = true;          ///< remove ".", ".." and empty segments before signing
  bool double_encode_path = true;      ///< URI-encode the (already encoded) wire path once more
  bool omit_session_token = false;     ///< sign without the token and add it afterwards (IoT style)
  bool content_sha256_header = false;  ///< header mode: add and sign x-amz-content-sha256

  /// The options AWS uses for `service`: S3 neither normalises nor double-encodes and wants
  /// x-amz-content-sha256; every other service does the opposite.
  static SigningOptions for_service(std::string_view service);
};

/// The result of header signing.
struct HeaderSignature {
  Pairs headers;                  ///< headers to add to the request, Authorization last
  std::string canonical_request;  ///< for debugging and the test suite
  std::string string_to_sign;     ///< for debugging and the test suite
  std::string signature;          ///< lowercase hex
};

/// The result of query signing.
struct QuerySignature {
  Pairs query;               ///< the request's query plus the X-Amz-* parameters, signature last
  std::string query_string;  ///< `query` encoded, ready to follow the "?" of the URL
  std::string canonical_request;  ///< for debugging and the test suite
  std::string string_to_sign;     ///< for debugging and the test suite
  std::string signature;          ///< lowercase hex
};

/// Signs and verifies requests for one set of credentials, region and service.
/// Thread-safe: the derived signing key is cached per date under a mutex.
class Signer {
 public:
  /// A signer with the service's default options.
  Signer(Credentials credentials, std::string region, std::string service);
  /// A signer with explicit options (the test suite uses this).
  Signer(Credentials credentials, std::string region, std::string service, SigningOptions options);

  /// Header signing: returns x-amz-date, x-amz-security-token (when there is a token),
  /// x-amz-content-sha256 (when the options ask for it) and Authorization, to add to the request.
  /// `payload_hash` is the hex SHA-256 of the body.
  HeaderSignature sign(const SignableRequest& request, std::string_view payload_hash,
                       std::chrono::system_clock::time_point now) const;

  /// Query signing: the request's query plus X-Amz-Algorithm, -Credential, -Date, -Expires,
  /// -SignedHeaders, -Security-Token and finally -Signature. `payload_hash` is
  /// unsigned_payload for S3 and the body's hash elsewhere. Only `request.headers` are signed
  /// (so a presigned PUT pins exactly those headers).
  QuerySignature presign(const SignableRequest& request, std::string_view payload_hash,
                         std::chrono::seconds expires_in,
                         std::chrono::system_clock::time_point now) const;

  /// Checks a presigned request as received: `request.query` holds all received parameters
  /// (decoded, X-Amz-Signature among them) and `request.headers` all received headers.
  /// Verifies algorithm, access key, scope (date, region, service), that "host" is signed,
  /// the expiry (X-Amz-Date <= now + 5 min clock skew, now <= X-Amz-Date + X-Amz-Expires,
  /// X-Amz-Expires <= 7 days), the session token when the signer has one, and the signature
  /// (compared in constant time). ErrorCode::forbidden with the reason otherwise.
  Result<void> verify_presigned(const SignableRequest& request, std::string_view payload_hash,
                                std::chrono::system_clock::time_point now) const;

  /// The credentials this signer uses.
  const Credentials& credentials() const { return credentials_; }
  /// The region in the credential scope.
  const std::string& region() const { return region_; }
  /// The service in the credential scope.
  const std::string& service() const { return service_; }

 private:
  crypto::Digest signing_key(std::string_view date) const;
  std::string signature_for(std::string_view date, std::string_view string_to_sign) const;

  Credentials credentials_;
  std::string region_;
  std::string service_;
  SigningOptions options_;
  mutable std::mutex key_mutex_;
  mutable std::string key_date_;  // the date of the cached key ("20150830")
  mutable crypto::Digest key_{};
};

/// RFC 3986 encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~) kept,
/// '/' kept when `keep_slash`, every other byte as %XX with uppercase hex.
std::string uri_encode(std::string_view text, bool keep_slash = false);
/// Decodes %XX escapes ('+' stays '+'); malformed escapes are kept as they are.
std::string percent_decode(std::string_view text);
/// Splits a raw query string ("a=1&b=%20") into decoded pairs; a bare name gets an empty value.
Pairs parse_query(std::string_view raw);
/// Encodes pairs into a query string, in the order given, with uri_encode.
std::string encode_query(const Pairs& query);

/// The canonical URI of a wire path under `options` (see the top of this file).
std::string canonical_uri(std::string_view path, const SigningOptions& options);
/// The canonical query string: pairs encoded, sorted by name then value, joined with '&'.
std::string canonical_query(const Pairs& query);
/// Removes "." and ".." segments and empty segments; keeps a trailing '/'.
std::string normalize_path(std::string_view path);

/// "20150830T123600Z" for a time point.
std::string amz_date(std::chrono::system_clock::time_point t);
/// Parses "20150830T123600Z"; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view text);

}  // namespace qr::aws
