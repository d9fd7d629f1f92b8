#include "core/session.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>

#include "core/constants.hpp"

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
  static constexpr std::array<SessionStatus, 2> to_completed{SessionStatus::awaiting_scan,
                                                             SessionStatus::upload_requested};
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

const UploadSlot* find_slot(const Session& session, std::string_view key) {
  for (const auto& slot : session.uploads)
    if (slot.key == key) return &slot;
  return nullptr;
}

std::string short_code_of(std::string_view session_id) {
  std::uint32_t bits = 0;
  int digits = 0;
  for (const char c : session_id) {
    if (digits == 8) break;
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      continue;  // the UUID's dashes
    bits = bits << 4 | static_cast<std::uint32_t>(v);
    ++digits;
  }
  std::string code(6, '0');
  for (std::uint32_t n = bits % 1'000'000, i = 6; i-- > 0; n /= 10) code[i] = char('0' + n % 10);
  return code;
}

std::size_t max_slots(int max_uploads) {
  return 2 * static_cast<std::size_t>(std::max(max_uploads, 1)) + 10;
}

std::string encode_upload_slots(std::span<const UploadSlot> slots) {
  boost::json::array out;
  out.reserve(slots.size());
  for (const auto& slot : slots) {
    boost::json::object o{{"key", slot.key},
                          {"fileName", slot.file_name},
                          {"contentType", slot.content_type},
                          {"issuedAt", slot.issued_at},
                          {"completed", slot.completed}};
    if (slot.size) o["size"] = *slot.size;
    if (slot.completed_at) o["completedAt"] = *slot.completed_at;
    if (slot.index) o["index"] = *slot.index;
    if (slot.notified_at) o["notifiedAt"] = *slot.notified_at;
    if (slot.notifying_until) o["notifyingUntil"] = *slot.notifying_until;
    out.push_back(std::move(o));
  }
  return boost::json::serialize(out);
}

std::vector<UploadSlot> decode_upload_slots(std::string_view json) {
  std::vector<UploadSlot> out;
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(json, ec);
  if (ec || !parsed.is_array()) return out;
  auto text = [](const boost::json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  auto number = [](const boost::json::object& o,
                   std::string_view name) -> std::optional<std::int64_t> {
    const auto* v = o.if_contains(name);
    if (!v) return std::nullopt;
    boost::system::error_code e;
    const auto n = v->to_number<std::int64_t>(e);
    if (e) return std::nullopt;
    return n;
  };
  for (const auto& entry : parsed.get_array()) {
    const auto* o = entry.if_object();
    if (!o) continue;
    UploadSlot slot;
    slot.key = text(*o, "key");
    if (slot.key.empty()) continue;
    slot.file_name = text(*o, "fileName");
    slot.content_type = text(*o, "contentType");
    slot.issued_at = number(*o, "issuedAt").value_or(0);
    const auto* done = o->if_contains("completed");
    slot.completed = done && done->is_bool() && done->get_bool();
    slot.size = number(*o, "size");
    slot.completed_at = number(*o, "completedAt");
    if (auto index = number(*o, "index")) slot.index = static_cast<int>(*index);
    slot.notified_at = number(*o, "notifiedAt");
    slot.notifying_until = number(*o, "notifyingUntil");
    out.push_back(std::move(slot));
  }
  return out;
}

}  // namespace qr
