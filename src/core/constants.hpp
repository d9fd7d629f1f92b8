#pragma once
// The spec's constants (shared/constants.py) and the few this project adds.

#include <array>
#include <cstdint>
#include <string_view>

namespace qr::constants {

inline constexpr std::int64_t session_expiry_minutes = 30;  ///< SESSION_EXPIRY_MINUTES
inline constexpr std::int64_t session_expiry_seconds = session_expiry_minutes * 60;
inline constexpr std::int64_t presigned_url_expiry_seconds = 300;  ///< PRESIGNED_URL_EXPIRY_SECONDS
/// Lifetime of the download URL given to a token-bound desktop.
inline constexpr std::int64_t download_url_expiry_seconds = 900;
/// Default cap on an upload's size; deployments may configure another.
inline constexpr std::uint64_t default_max_upload_bytes = 25ull * 1024 * 1024;
/// How many leading bytes the upload check reads to recognise the image type.
inline constexpr std::size_t sniff_bytes = 64;
/// Prefix of every upload key: session-uploads/{sessionId}/image-{millis}-{hex}[.ext]
inline constexpr std::string_view upload_prefix = "session-uploads/";

/// How long the delivery of an S3 event that counted a photo holds the telling of the desktop
/// (the slot's notifyingUntil) before another delivery of the event may take it over: the event
/// function's timeout (the spec's 60 s, deploy/template.yaml), so the holder has ended by then.
inline constexpr std::int64_t notify_lease_seconds = 60;

/// The most photos one session takes (POST /sessions {"maxUploads"}).
inline constexpr int max_uploads_limit = 100;

/// WEBSOCKET_ACTIONS, and the actions multi-photo sessions add.
inline constexpr std::string_view action_upload_completed = "UPLOAD_COMPLETED";
inline constexpr std::string_view action_error = "ERROR";
inline constexpr std::string_view action_phone_connected = "PHONE_CONNECTED";
inline constexpr std::string_view action_session_completed = "SESSION_COMPLETED";

/// The spec's content type when the phone does not say which image it sends.
inline constexpr std::string_view wildcard_image_type = "image/*";

}  // namespace qr::constants
