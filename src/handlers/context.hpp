#pragma once
// What every handler is given: the ports and the settings. Built once per process by an entry
// point.

#include <cstdint>

#include "core/constants.hpp"
#include "core/image_type.hpp"
#include "core/log.hpp"
#include "ports/clock.hpp"
#include "ports/notifier.hpp"
#include "ports/object_store.hpp"
#include "ports/random.hpp"
#include "ports/session_store.hpp"

namespace qr::handlers {

/// Deployment settings the handlers obey.
struct Settings {
  /// Largest upload accepted, in bytes.
  std::uint64_t max_upload_bytes = constants::default_max_upload_bytes;
  /// The image types a phone may upload (every known one unless the deployment narrows it: the
  /// AWS stack's ALLOWED_CONTENT_TYPES).
  AllowedImageTypes allowed_types;
  /// Session lifetime (the spec's 30 minutes; tests shorten it).
  std::int64_t session_ttl_seconds = constants::session_expiry_seconds;
  /// Lifetime of the presigned upload URL.
  std::int64_t upload_url_ttl_seconds = constants::presigned_url_expiry_seconds;
  /// Lifetime of the download URL sent to a token-bound desktop.
  std::int64_t download_url_ttl_seconds = constants::download_url_expiry_seconds;
  /// Where GET /c/{code} sends a browser: the phone page (serve: the public URL's /phone.html;
  /// AWS: PHONE_PAGE_URL). Empty: it answers JSON only.
  std::string phone_page_url;
};

/// The ports and settings for one invocation. `log` carries the request id.
struct Context {
  SessionStore& sessions;
  ObjectStore& objects;
  Notifier& notifier;
  Clock& clock;
  Random& random;
  Logger& log;
  const Settings& settings;
};

}  // namespace qr::handlers
