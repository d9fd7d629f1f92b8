// SigV4 presigned-URL verification, as the local server runs it on every signed upload and
// download. The input is "METHOD\nTARGET\nheader lines" (TARGET: path and query as sent). Any
// input: verify_presigned answers, never crashes. And a property: whatever the method, path,
// query and headers, a request presigned by the signer verifies, and the same request with its
// signature changed does not.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "aws/sigv4.hpp"
#include "common.hpp"

namespace {

using namespace std::chrono;
namespace aws = qr::aws;

const aws::Signer& signer() {
  static const aws::Signer s({"qr-upload-local", std::string(64, 'a'), ""}, "local", "s3");
  return s;
}
// 2026-01-01T00:00:00Z: a fixed clock, so a finding replays.
const system_clock::time_point now = system_clock::time_point(seconds(1767225600));

aws::SignableRequest parse(std::string_view input) {
  const auto parts = qr::fuzz::split(input, 3);
  aws::SignableRequest request;
  request.method = std::string(parts[0]);
  const auto q = parts[1].find('?');
  request.path = std::string(parts[1].substr(0, q));
  if (q != std::string_view::npos) request.query = aws::parse_query(parts[1].substr(q + 1));
  for (std::string_view rest = parts[2]; !rest.empty();) {
    const auto nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers.emplace_back(std::move(name), std::string(line.substr(colon + 1)));
  }
  return request;
}

// Names and values SigV4 can carry as a header: a token, and a value without control bytes.
bool plain_headers(const aws::SignableRequest& r) {
  bool host = false;
  for (std::size_t i = 0; i < r.headers.size(); ++i) {
    const auto& [name, value] = r.headers[i];
    if (name.empty() ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
      return false;
    for (unsigned char c : value)
      if (c < 0x20 || c == 0x7f) return false;
    for (std::size_t j = 0; j < i; ++j)
      if (r.headers[j].first == name) return false;
    host = host || name == "host";
  }
  return host;
}

}  // namespace

// QR_FUZZ_WRITE_SEEDS=DIR writes the seed corpus (valid presigned requests) and exits.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* dir = std::getenv("QR_FUZZ_WRITE_SEEDS");
  if (!dir) return 0;
  int n = 0;
  for (const auto& [method, path, extra] :
       {std::tuple{"PUT",
                   "/objects/session-uploads/0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b/"
                   "image-1767225600000-0011223344556677.png",
                   "content-type:image/png\n"},
        {"PUT", "/objects/session-uploads/0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b/image-1.jpg",
         "content-type:image/jpeg\ncontent-length:12345\n"},
        {"GET", "/objects/session-uploads/0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b/image-1.jpg", ""}}) {
    aws::SignableRequest request{method, path, {}, {{"host", "192.168.1.20:8080"}}};
    for (const auto& line : {std::string(extra)}) {
      for (std::string_view rest = line; !rest.empty();) {
        const auto nl = rest.find('\n');
        const auto h = rest.substr(0, nl);
        rest = rest.substr(nl + 1);
        const auto colon = h.find(':');
        request.headers.emplace_back(std::string(h.substr(0, colon)),
                                     std::string(h.substr(colon + 1)));
      }
    }
    if (std::string_view(method) == "GET")
      request.query.emplace_back("response-content-disposition",
                                 "attachment; filename=\"IMG_1.jpg\"; filename*=UTF-8''IMG_1.jpg");
    const auto signature = signer().presign(request, aws::unsigned_payload, seconds(300), now);
    std::string text = std::string(method) + "\n" + path + "?" + signature.query_string + "\n";
    for (const auto& [name, value] : request.headers) text += name + ":" + value + "\n";
    std::ofstream(std::string(dir) + "/seed-" + std::to_string(n++)) << text;
  }
  std::exit(0);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  aws::SignableRequest request = parse(input);
  (void)signer().verify_presigned(request, aws::unsigned_payload, now);

  if (!plain_headers(request)) return 0;
  std::erase_if(request.query, [](const auto& p) { return p.first.starts_with("X-Amz-"); });
  aws::SignableRequest signed_request = request;
  const auto signature = signer().presign(request, aws::unsigned_payload, seconds(300), now);
  signed_request.query = signature.query;
  const auto ok = signer().verify_presigned(signed_request, aws::unsigned_payload, now);
  qr::fuzz::require(ok.has_value(), "a request the signer presigned verifies");
  for (auto& [name, value] : signed_request.query)
    if (name == "X-Amz-Signature") value[0] = value[0] == '0' ? '1' : '0';
  qr::fuzz::require(!signer().verify_presigned(signed_request, aws::unsigned_payload, now),
                    "a changed signature does not verify");
  return 0;
}
