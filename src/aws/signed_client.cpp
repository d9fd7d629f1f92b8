#include "aws/signed_client.hpp"

#include "crypto/crypto.hpp"

namespace qr::aws {

SignedClient::SignedClient(std::string service, Credentials credentials, std::string region,
                           Endpoint endpoint, std::unique_ptr<HttpClient> http, RetryPolicy retry,
                           Clock& clock)
    : signer_(std::move(credentials), std::move(region), std::move(service)),
      endpoint_(std::move(endpoint)),
      host_(endpoint_.authority()),
      http_(std::move(http)),
      retry_(std::move(retry)),
      clock_(clock) {}

SignableRequest SignedClient::signable(const AwsRequest& request) const {
  SignableRequest out{request.method, endpoint_.base_path + request.path, request.query, {}};
  if (out.path.empty()) out.path = "/";
  out.headers.reserve(request.headers.size() + 1);
  out.headers.emplace_back("host", host_);
  out.headers.insert(out.headers.end(), request.headers.begin(), request.headers.end());
  return out;
}

Result<HttpResponse> SignedClient::send(const AwsRequest& request) {
  const SignableRequest sreq = signable(request);
  const std::string payload_hash = !request.payload_hash.empty() ? request.payload_hash
                                   : request.body.empty()        ? std::string(empty_payload_hash)
                                                                 : crypto::sha256_hex(request.body);
  std::string target = sreq.path;
  if (!sreq.query.empty()) target += '?' + encode_query(sreq.query);

  auto attempt = [&]() -> Result<HttpResponse> {
    const HeaderSignature sig = signer_.sign(sreq, payload_hash, clock_.now());
    // Host is added by the HTTP client; the caller's headers go first, then the signature's.
    HttpRequest req{request.method, target, request.headers, request.body};
    req.headers.insert(req.headers.end(), sig.headers.begin(), sig.headers.end());
    return http_->send(req);
  };
  RetryOutcome outcome = run_with_retries(retry_, attempt);
  last_attempts_ = outcome.attempts;
  return std::move(outcome.result);
}

std::string SignedClient::presign(const AwsRequest& request,
                                  std::chrono::seconds expires_in) const {
  const SignableRequest sreq = signable(request);
  const std::string payload_hash =
      request.payload_hash.empty() ? crypto::sha256_hex(request.body) : request.payload_hash;
  const QuerySignature q = signer_.presign(sreq, payload_hash, expires_in, clock_.now());
  return endpoint_.origin() + sreq.path + '?' + q.query_string;
}

}  // namespace qr::aws
