#include "core/session.hpp"

#include <algorithm>
#include <array>

namespace qr {

std::string_view to_string(SessionStatus status) {
  switch (status) {
    case SessionStatus::awaiting_scan:
      return "AWAITING_SCAN";
    case SessionStatus::upload_requested:
      return "UPLOAD_REQUESTED";
    case SessionStatus::completed:
      return "COMPLETED";
  }
  return "AWAITING_SCAN";
}

std::optional<SessionStatus> parse_session_status(std::string_view text) {
  if (text == "AWAITING_SCAN") return SessionStatus::awaiting_scan;
  if (text == "UPLOAD_REQUESTED") return SessionStatus::upload_requested;
  if (text == "COMPLETED") return SessionStatus::completed;
  return std::nullopt;
}

std::span<const SessionStatus> allowed_sources(SessionStatus to) {
  static constexpr std::array<SessionStatus, 2> to_upload_requested{
      SessionStatus::awaiting_scan, SessionStatus::upload_requested};
  static constexpr std::array<SessionStatus, 1> to_completed{SessionStatus::upload_requested};
  switch (to) {
    case SessionStatus::upload_requested:
      return to_upload_requested;
    case SessionStatus::completed:
      return to_completed;
    case SessionStatus::awaiting_scan:
      return {};
  }
  return {};
}

bool transition_allowed(SessionStatus from, SessionStatus to) {
  const auto sources = allowed_sources(to);
  return std::ranges::find(sources, from) != sources.end();
}

}  // namespace qr
