#pragma once
// What every connection of one server shares: the ports, the settings, the WebSocket hub and the
// page configuration. Built once by Server::start; sessions hold it by shared_ptr.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "crypto/crypto.hpp"
#include "handlers/context.hpp"
#include "local/disk_object_store.hpp"
#include "local/hub_notifier.hpp"
#include "local/local_events.hpp"
#include "local/save_dir.hpp"
#include "local/server.hpp"
#include "local/sqlite_session_store.hpp"

namespace qr::local {

/// The verdict on a finished upload, as the PUT answers it.
struct UploadVerdict {
  unsigned status = 500;
  boost::json::object body;
};

/// The state of one server. Thread-safe: the stores and the hub lock inside.
struct SharedState {
  ServerOptions options;
  SystemClock clock;
  crypto::OsRandom random;
  std::unique_ptr<SqliteSessionStore> sessions;
  std::unique_ptr<DiskObjectStore> objects;
  HubNotifier hub;
  handlers::Settings settings;
  std::optional<SaveDir> save_dir;  ///< --save-dir: where accepted photos are also written
  /// In-process desktops (`receive`): kept alive here, since the hub holds weak references.
  std::vector<std::shared_ptr<HubConnection>> local_connections;
  std::string config_js;  ///< web/config.js as served: same-origin API, the phone's URL
  Logger log;             ///< server-level events; requests get their own Logger

  /// A fresh random id (connection ids, request ids).
  std::string new_id();

  /// Runs one event through a router with a Logger of its own and reads its answer.
  template <class Router>
  RouterAnswer call(Router router, const boost::json::value& event) {
    Logger request_log;
    handlers::Context ctx{*sessions, *objects, hub, clock, random, request_log, settings};
    return read_router_answer(router(event, ctx));
  }

  /// Moves a finished upload (`temp`, `size` bytes) into place under `key` and announces it as S3
  /// would; the router's check decides the answer, before the PUT is answered. An accepted photo
  /// is then also written into the save folder, if there is one, and the desktop told where.
  /// `temp` is gone afterwards either way, and so is any object that did not count.
  UploadVerdict store_upload(const std::filesystem::path& temp, const std::string& key,
                             std::uint64_t size);

  /// Writes a JPEG preview beside a HEIC/HEIF upload (logged, not fatal, when it cannot).
  void make_preview(const std::string& key);

  /// Writes an accepted photo into the save folder and tells the desktop (UPLOAD_SAVED); the path
  /// written, or nullopt (logged) when it could not be.
  std::optional<std::filesystem::path> save_to_folder(const AcceptedUpload& photo);
};

}  // namespace qr::local
