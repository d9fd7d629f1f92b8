// The S3 key decoder. Any bytes: decode_event_key and session_id_from_key never crash; a key the
// local server announces (uri_encode'd, as object_created_event does) decodes back to itself; a
// session id read from a key is a UUID.
#include <string>

#include "aws/sigv4.hpp"
#include "common.hpp"
#include "core/s3_key.hpp"
#include "core/validators.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto decoded = qr::decode_event_key(input)) {
    if (auto id = qr::session_id_from_key(*decoded))
      qr::fuzz::require(qr::is_uuid(*id), "a key's session id is a UUID");
  }
  const std::string encoded = qr::aws::uri_encode(input, true);
  const auto back = qr::decode_event_key(encoded);
  qr::fuzz::require(back && *back == input, "decode_event_key(uri_encode(k)) == k");
  if (auto id = qr::session_id_from_key(input)) {
    qr::fuzz::require(qr::is_uuid(*id), "a key's session id is a UUID");
    qr::fuzz::require(input.starts_with("session-uploads/" + *id + "/"),
                      "the id is the key's second segment");
  }
  return 0;
}
