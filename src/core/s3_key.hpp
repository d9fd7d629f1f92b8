#pragma once
// Upload keys: how they are made, and how an S3 event's key is decoded and read back.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qr {

/// session-uploads/{sessionId}/image-{millis}-{nonce}{extension}. The spec's key is
/// image-{timestamp}; the nonce keeps two URLs issued in one millisecond apart, so an event for a
/// rejected or superseded upload can never be taken for the current one.
std::string make_upload_key(std::string_view session_id, std::int64_t millis,
                            std::string_view nonce, std::string_view extension);

/// Decodes an S3 event key, which is form-URL-encoded: '+' becomes a space, then %XX.
/// nullopt for a malformed escape.
std::optional<std::string> decode_event_key(std::string_view key);

/// The sessionId of a key under session-uploads/{uuid}/{one file name}, or nullopt.
std::optional<std::string> session_id_from_key(std::string_view key);

}  // namespace qr
