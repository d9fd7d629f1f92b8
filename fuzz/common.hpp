#pragma once
// What the harnesses share: every port faked (tests/support/fakes.hpp), one session that exists
// in the store so that inputs can reach past "Session not found", and the input split in parts.

#include <boost/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "handlers/context.hpp"
#include "handlers/handlers.hpp"
#include "support/fakes.hpp"

namespace qr::fuzz {

/// The session every input may name; its desktop token is "desktop-token".
inline constexpr std::string_view known_session = "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b";

/// Fresh fakes for one input, so that each run is reproducible on its own.
struct World {
  testing::FakeSessionStore sessions;
  testing::FakeObjectStore objects;
  testing::FakeNotifier notifier;
  testing::FakeClock clock;
  testing::CountingRandom random;
  Logger log{[](std::string_view) {}};
  handlers::Settings settings;
  handlers::Context ctx{sessions, objects, notifier, clock, random, log, settings};

  World() {
    settings.phone_page_url = "http://192.168.1.20:8080/phone.html";  // GET /c/{code} redirects
    Session s;
    s.session_id = std::string(known_session);
    s.status = SessionStatus::awaiting_scan;
    s.created_at =
        std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
    s.expires_at = s.created_at + 1800;
    s.desktop_token_hash = handlers::hash_token("desktop-token");
    (void)sessions.save(s);
    // A photo under the key the S3 seeds name, so that the completion's check reads real bytes.
    objects.objects["session-uploads/" + std::string(known_session) +
                    "/image-1767225600000-0011223344556677.png"] = {
        std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + std::string(64, 'x'), "image/png"};
  }
};

/// Splits `data` at '\n' into at most `parts` pieces (the last takes the rest).
inline std::vector<std::string_view> split(std::string_view data, std::size_t parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < parts) {
    const auto nl = data.find('\n');
    if (nl == std::string_view::npos) break;
    out.push_back(data.substr(0, nl));
    data.remove_prefix(nl + 1);
  }
  out.push_back(data);
  while (out.size() < parts) out.emplace_back();
  return out;
}

/// A property that must hold for every input: a finding if not.
inline void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "property violated: %s\n", what);
  std::abort();
}

/// The input as an event document, or nullopt when it is not JSON (Boost.JSON's own parser is
/// not under test; what it produces is).
inline std::optional<boost::json::value> parse_event(const std::uint8_t* data, std::size_t size) {
  boost::system::error_code ec;
  auto event = boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec) return std::nullopt;
  return event;
}

/// A router's answer is an object with an HTTP status as its statusCode; returns the object.
inline const boost::json::object& require_answer(const boost::json::value& answer) {
  const auto* doc = answer.if_object();
  require(doc != nullptr, "the answer is an object");
  const auto* status = doc->if_contains("statusCode");
  require(status && status->is_int64() && status->get_int64() >= 100 && status->get_int64() <= 599,
          "statusCode is an HTTP status");
  return *doc;
}

}  // namespace qr::fuzz
