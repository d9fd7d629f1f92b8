#include "aws/s3_object_store.hpp"

#include "core/file_name.hpp"

#include <algorithm>
#include <charconv>

namespace qr::aws {
namespace {

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

Result<void> check_expiry(std::chrono::seconds expires_in) {
  if (expires_in.count() < 1 || expires_in > max_presign_expiry) {
    return fail(ErrorCode::invalid_input, "presign expiry must be 1 s to 7 days");
  }
  return {};
}

// 403 is worth telling apart: a missing s3:GetObject/ListBucket grant or a bad key, not a bug.
Error s3_error(const HttpResponse& res, std::string_view operation) {
  return error_from_response(res, operation,
                             res.status == 403 ? ErrorCode::forbidden : ErrorCode::internal);
}

// Whether a failed GetObject says the key does not exist. S3 answers 404 NoSuchKey when the
// caller may s3:ListBucket the bucket, and 403 AccessDenied when it may not, the same as for a
// key it may not read: only NoSuchKey (or a bare 404) means missing. Any other 403 is an error
// (a policy, a key or a signature problem) and must not pass for a deleted upload.
bool says_missing(const HttpResponse& res) {
  if (res.status == 404) return true;
  return res.status == 403 && aws_error_code(res) == "NoSuchKey";
}

// The object's total size from a ranged answer ("Content-Range: bytes 0-63/12345"), else its
// Content-Length (a 200 that ignored the range).
std::uint64_t total_size(const HttpResponse& res) {
  const std::string range = res.header("content-range").value_or("");
  if (const auto slash = range.rfind('/'); slash != std::string::npos)
    if (auto total = parse_u64(std::string_view(range).substr(slash + 1))) return *total;
  return parse_u64(res.header("content-length").value_or("0")).value_or(0);
}

}  // namespace

S3Addressing s3_addressing(const Endpoint& s3_endpoint, std::string_view bucket, bool path_style) {
  if (path_style) return {s3_endpoint, "/" + std::string(bucket)};
  Endpoint ep = s3_endpoint;
  ep.host = std::string(bucket) + "." + s3_endpoint.host;
  return {ep, ""};
}

S3ObjectStore::S3ObjectStore(Credentials credentials, std::string region, S3Addressing addressing,
                             std::unique_ptr<HttpClient> http, RetryPolicy retry, Clock& clock)
    : prefix_(std::move(addressing.prefix)),
      aws_("s3", std::move(credentials), std::move(region), std::move(addressing.endpoint),
           std::move(http), std::move(retry), clock) {}

std::string S3ObjectStore::object_path(std::string_view key) const {
  // S3 signs the wire path as it is (single encoding), so the key is encoded exactly once here.
  return prefix_ + "/" + uri_encode(key, true);
}

Result<PresignedRequest> S3ObjectStore::presign_put(std::string_view key,
                                                    std::string_view content_type,
                                                    std::optional<std::uint64_t> content_length,
                                                    std::chrono::seconds expires_in) {
  if (auto ok = check_expiry(expires_in); !ok) return std::unexpected(ok.error());
  if (key.empty()) return fail(ErrorCode::invalid_input, "empty object key");
  AwsRequest req{"PUT", object_path(key), {}, {}, {}, std::string(unsigned_payload)};
  // A presigned PUT pins exactly the headers it signs: the type the phone will send, and the
  // length when known (the only way to cap the size of a presigned PUT).
  req.headers.emplace_back("content-type", std::string(content_type));
  if (content_length) req.headers.emplace_back("content-length", std::to_string(*content_length));
  PresignedRequest out;
  out.method = "PUT";
  out.url = aws_.presign(req, expires_in);
  out.headers["Content-Type"] = std::string(content_type);
  return out;
}

Result<std::string> S3ObjectStore::presign_get(std::string_view key,
                                               std::chrono::seconds expires_in,
                                               std::string_view download_name) {
  if (auto ok = check_expiry(expires_in); !ok) return std::unexpected(ok.error());
  if (key.empty()) return fail(ErrorCode::invalid_input, "empty object key");
  Pairs query;
  if (!download_name.empty())
    query.emplace_back("response-content-disposition", content_disposition(download_name));
  return aws_.presign(
      {"GET", object_path(key), std::move(query), {}, {}, std::string(unsigned_payload)},
      expires_in);
}

Result<std::optional<ObjectInfo>> S3ObjectStore::inspect(std::string_view key,
                                                         std::size_t head_bytes) {
  // HEAD, GET and DELETE carry no body: the signed payload is the hash of the empty string.
  auto head = aws_.send({"HEAD", object_path(key), {}, {}, {}, {}});
  if (!head) return std::unexpected(head.error());
  if (head->status == 404) return std::optional<ObjectInfo>{};
  // A HEAD answer has no body, so a 403 cannot say whether the key is missing (NoSuchKey) or
  // may not be read (AccessDenied): the ranged GET below asks again and its error says which.
  const bool head_denied = head->status == 403;
  if (head->status != 200 && !head_denied) return std::unexpected(s3_error(*head, "S3 HeadObject"));
  ObjectInfo info;
  if (!head_denied) {
    info.size = parse_u64(head->header("content-length").value_or("0")).value_or(0);
    info.content_type = head->header("content-type").value_or("");
    if (head_bytes == 0 || info.size == 0) return std::optional<ObjectInfo>{std::move(info)};
  }

  // Only the first bytes: enough to check the image's magic number without downloading it.
  auto get =
      aws_.send({"GET",
                 object_path(key),
                 {},
                 {{"range", "bytes=0-" + std::to_string(std::max<std::size_t>(head_bytes, 1) - 1)}},
                 {},
                 {}});
  if (!get) return std::unexpected(get.error());
  // Missing: deleted in between, or (after a 403 HEAD) never there.
  if (says_missing(*get)) return std::optional<ObjectInfo>{};
  if (get->status != 200 && get->status != 206) {
    return std::unexpected(s3_error(*get, "S3 GetObject"));
  }
  if (head_denied) {
    info.size = total_size(*get);
    info.content_type = get->header("content-type").value_or("");
  }
  info.head = std::move(get->body);
  // A server that ignores Range answers 200 with everything: keep only what was asked for.
  if (info.head.size() > head_bytes) info.head.resize(head_bytes);
  return std::optional<ObjectInfo>{std::move(info)};
}

Result<void> S3ObjectStore::remove(std::string_view key) {
  auto res = aws_.send({"DELETE", object_path(key), {}, {}, {}, {}});
  if (!res) return std::unexpected(res.error());
  // S3 answers 204 whether or not the key existed; some stand-ins answer 404 for a missing key.
  if (res->status / 100 == 2 || res->status == 404) return {};
  return std::unexpected(s3_error(*res, "S3 DeleteObject"));
}

}  // namespace qr::aws
