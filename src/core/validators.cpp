#include "core/validators.hpp"

#include <algorithm>
#include <cctype>

#include "core/ascii.hpp"

namespace qr {

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i])))
      return false;
  }
  return true;
}

bool is_short_code(std::string_view text) {
  return text.size() == 6 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string normalize_uuid(std::string_view uuid) {
  return ascii::lower(uuid);
}

std::optional<Rejection> validate_session_id(std::optional<std::string_view> session_id) {
  if (!session_id || session_id->empty()) return Rejection{400, "sessionId is required"};
  if (!is_uuid(*session_id)) return Rejection{404, "Invalid sessionId format"};
  return std::nullopt;
}

std::optional<Rejection> validate_session(const std::optional<Session>& session, std::int64_t now,
                                          CompletedSessions completed) {
  if (!session) return Rejection{404, "Session not found"};
  if (now > session->expires_at) return Rejection{400, "Session expired"};
  if (completed == CompletedSessions::rejected && session->status == SessionStatus::completed)
    return Rejection{400, "Session already completed"};
  return std::nullopt;
}

std::string make_uuid4(const unsigned char (&bytes)[16]) {
  unsigned char b[16];
  for (int i = 0; i < 16; ++i) b[i] = bytes[i];
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += ascii::hex_digit(b[i] >> 4);
    out += ascii::hex_digit(b[i]);
  }
  return out;
}

}  // namespace qr
