#include "local/server.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>

#include <thread>
#include <vector>

#include "core/validators.hpp"
#include "local/lan_address.hpp"
#include "local/listener.hpp"
#include "local/local_desktop.hpp"
#include "local/shared_state.hpp"

namespace qr::local {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

constexpr auto sweep_interval = std::chrono::seconds(60);
// Expired sessions (and their images) are kept this long before they are swept.
constexpr std::int64_t sweep_grace_seconds = 3600;

// Runs the I/O threads and sweeps expired sessions.
class ServerImpl final : public Server {
 public:
  ServerImpl(std::shared_ptr<SharedState> shared, std::shared_ptr<Edge> edge,
             std::shared_ptr<asio::ssl::context> tls, tcp::acceptor acceptor, asio::io_context& io)
      : shared_(shared),
        listener_(io, std::move(acceptor), std::move(shared), std::move(edge), std::move(tls)),
        io_(io),
        sweep_timer_(io) {}

  std::uint16_t port() const override { return port_; }
  const std::string& public_url() const override { return shared_->options.public_url; }
  Result<LocalDesktop> open_desktop(int max_uploads,
                                    std::function<void(std::string_view)> on_message) override {
    return open_local_desktop(*shared_, max_uploads, std::move(on_message));
  }

  void set_port(std::uint16_t port) { port_ = port; }

  void run() override {
    listener_.start();
    schedule_sweep(std::chrono::seconds(0));
    std::vector<std::thread> threads;
    for (int i = 1; i < shared_->options.threads; ++i)
      threads.emplace_back([this] { run_io_thread(); });
    run_io_thread();
    for (auto& t : threads) t.join();
  }

  void stop() override { io_.stop(); }

 private:
  // This thread's one catch-all: whatever a handler throws is logged, and the thread goes back to
  // serving (Asio lets run() be called again after an exception left it). Only stop() ends it.
  void run_io_thread() {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        shared_->log.error("unhandled exception on an I/O thread", {{"error", e.what()}});
      } catch (...) {
        shared_->log.error("unhandled exception on an I/O thread", {{"error", "unknown"}});
      }
    }
  }

  void schedule_sweep(std::chrono::seconds after) {
    sweep_timer_.expires_after(after);
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      const auto cutoff = shared_->clock.now_seconds() - sweep_grace_seconds;
      if (auto swept = shared_->sessions->sweep_expired(cutoff); swept) {
        for (const auto& id : *swept)
          if (is_uuid(id)) shared_->objects->remove_session(id);
        if (!swept->empty())
          shared_->log.info("swept expired sessions", {{"count", swept->size()}});
      } else {
        shared_->log.error("sweeping expired sessions failed", {{"error", swept.error().detail}});
      }
      schedule_sweep(sweep_interval);
    });
  }

  std::shared_ptr<SharedState> shared_;
  Listener listener_;
  asio::io_context& io_;
  asio::steady_timer sweep_timer_;
  std::uint16_t port_ = 0;
};

// Owns the io_context so that it outlives every object that refers to it.
class OwningServer final : public Server {
 public:
  std::uint16_t port() const override { return impl_->port(); }
  const std::string& public_url() const override { return impl_->public_url(); }
  void run() override { impl_->run(); }
  void stop() override { impl_->stop(); }
  Result<LocalDesktop> open_desktop(int max_uploads,
                                    std::function<void(std::string_view)> on_message) override {
    return impl_->open_desktop(max_uploads, std::move(on_message));
  }

  asio::io_context io_{2};
  std::unique_ptr<ServerImpl> impl_;
};

std::string make_config_js(const ServerOptions& options, std::uint16_t port) {
  // Same-origin API and WebSocket; only the phone's URL must be one a phone can reach.
  json::object config{{"apiBase", ""},
                      {"wsUrl", ""},
                      {"phoneUrl", options.public_url + "/phone.html"},
                      // The short link a person types: {shortLinkBase}/c/483921 (GET /c/{code}).
                      {"shortLinkBase", options.public_url},
                      {"maxUploadBytes", options.max_upload_bytes}};
  // When the phone cannot reach the public URL, the page's troubleshooting list names the other
  // addresses this computer has (a wildcard bind answers on all of them).
  if (options.bind_address == "0.0.0.0" || options.bind_address == "::" ||
      options.bind_address.empty()) {
    const std::string scheme = options.public_url.starts_with("https:") ? "https://" : "http://";
    json::array addresses;
    for (const auto& a : system_interfaces()) {
      const std::string url = scheme + a.address + ":" + std::to_string(port);
      if (a.up && !a.loopback && url != options.public_url) addresses.emplace_back(url);
    }
    config["addresses"] = std::move(addresses);
  }
  // The desktop page says where the photos land.
  if (!options.save_dir.empty()) {
    std::error_code ec;
    config["saveDir"] = fs::absolute(options.save_dir, ec).string();
  }
  return "window.QR_UPLOAD_CONFIG = " + json::serialize(config) + ";\n";
}

// The data directory holds the photos, the sessions and the signing secret: 0700 and every file in
// it 0600, whatever the umask, including what an older version or another umask left behind.
void make_private(const fs::path& data_dir) {
  std::error_code ec;
  fs::permissions(data_dir, fs::perms::owner_all, ec);
  for (auto it = fs::recursive_directory_iterator(data_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code entry_ec;
    const auto status = it->symlink_status(entry_ec);
    if (entry_ec) continue;
    const auto want = fs::is_directory(status)      ? fs::perms::owner_all
                      : fs::is_regular_file(status) ? fs::perms::owner_read | fs::perms::owner_write
                                                    : status.permissions();
    if ((status.permissions() & fs::perms::mask) != want)
      fs::permissions(it->path(), want, entry_ec);
  }
}

// The TLS context of --tls-cert/--tls-key: TLS 1.2 and later, the certificate chain and its key
// (PEM). An error names the file that could not be used.
Result<std::shared_ptr<asio::ssl::context>> tls_context(const ServerOptions& options) {
  if (options.tls_cert.empty() != options.tls_key.empty())
    return fail(ErrorCode::invalid_input, "--tls-cert and --tls-key go together: give both");
  if (options.tls_cert.empty()) return std::shared_ptr<asio::ssl::context>();
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                       ec);
  context->use_certificate_chain_file(options.tls_cert.string(), ec);
  if (ec)
    return fail(ErrorCode::invalid_input, "cannot use the TLS certificate " +
                                              options.tls_cert.string() + ": " + ec.message() +
                                              " (a PEM certificate, or chain, is needed)");
  context->use_private_key_file(options.tls_key.string(), asio::ssl::context::pem, ec);
  if (ec)
    return fail(ErrorCode::invalid_input, "cannot use the TLS key " + options.tls_key.string() +
                                              ": " + ec.message() +
                                              " (the PEM private key of the certificate)");
  return context;
}

// The connection cap, within the descriptors this process may open (each connection is one, an
// upload two; SQLite, the log and the listener need a few).
std::size_t connection_cap(std::size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return wanted;
  const auto usable = limit.rlim_cur > 256 ? limit.rlim_cur - 256 : limit.rlim_cur / 2;
  return std::min<std::size_t>(wanted, usable);
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(ServerOptions options) {
  // Everything this process creates is the user's alone (SQLite's files, uploads, folders).
  ::umask(077);
  std::error_code fs_ec;
  fs::create_directories(options.data_dir, fs_ec);
  if (fs_ec)
    return fail(ErrorCode::internal, "cannot create data directory " + options.data_dir.string() +
                                         ": " + fs_ec.message());
  if (::access(options.data_dir.c_str(), W_OK) != 0)
    return fail(ErrorCode::internal,
                "data directory " + options.data_dir.string() + " is not writable");
  if (!fs::exists(options.web_dir / "index.html"))
    return fail(ErrorCode::internal, "web pages not found in " + options.web_dir.string() +
                                         " (set --web-dir or QR_UPLOAD_WEB_DIR)");
  auto tls = tls_context(options);
  if (!tls) return std::unexpected(tls.error());
  if (*tls && options.public_url.starts_with("http://"))
    return fail(ErrorCode::invalid_input,
                "--public-url must start with https:// when the server has --tls-cert");

  auto server = std::make_unique<OwningServer>();
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.bind_address, ec);
  if (ec) return fail(ErrorCode::invalid_input, "invalid bind address " + options.bind_address);
  tcp::acceptor acceptor(server->io_);
  const tcp::endpoint endpoint(address, options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (ec) {
    std::string hint = ec == asio::error::address_in_use
                           ? " (another program uses it; choose another with --port)"
                       : ec == asio::error::access_denied ? " (ports below 1024 need privileges)"
                                                          : "";
    return fail(ErrorCode::unavailable, "cannot listen on " + options.bind_address + ":" +
                                            std::to_string(options.port) + ": " + ec.message() +
                                            hint);
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ErrorCode::unavailable, "cannot listen: " + ec.message());
  const auto port = acceptor.local_endpoint().port();
  if (options.public_url.empty()) {
    options.public_url = default_public_url(options.bind_address, port, system_interfaces());
    // The QR code, the page's configuration and the signed URLs then all say https.
    if (*tls && options.public_url.starts_with("http://"))
      options.public_url.replace(0, 4, "https");
  }
  while (options.public_url.ends_with('/')) options.public_url.pop_back();

  auto shared = std::make_shared<SharedState>();
  shared->options = options;
  shared->settings.max_upload_bytes = options.max_upload_bytes;
  shared->settings.session_ttl_seconds = options.session_ttl_seconds;
  shared->settings.upload_url_ttl_seconds = options.upload_url_ttl_seconds;
  shared->settings.phone_page_url = options.public_url + "/phone.html";
  if (!options.save_dir.empty()) {
    auto folder = SaveDir::open(options.save_dir);
    if (!folder) return std::unexpected(folder.error());
    shared->save_dir = std::move(*folder);
  }
  shared->config_js = make_config_js(options, port);
  auto sessions = SqliteSessionStore::open(options.data_dir / "sessions.db");
  if (!sessions) return std::unexpected(sessions.error());
  shared->sessions = std::move(*sessions);
  // No WebSocket survives a restart: forget the connections the database remembers.
  if (auto cleared = shared->sessions->clear_connections(); !cleared)
    return std::unexpected(cleared.error());
  auto objects = DiskObjectStore::open(options.data_dir, options.public_url, shared->clock);
  if (!objects) return std::unexpected(objects.error());
  shared->objects = std::move(*objects);
  shared->objects->limit_space(options.disk_quota_bytes, options.min_free_bytes);
  make_private(options.data_dir);

  auto edge = std::make_shared<Edge>(EdgePolicy(options.public_url, options.allowed_hosts,
                                                options.allowed_origins, *tls != nullptr),
                                     connection_cap(options.max_connections),
                                     options.max_sockets_per_session, options.max_open_sessions,
                                     options.rate_limit_per_minute);
  // The cap on open sessions counts those a previous run left open too: a restart must not be a
  // way around it.
  for (const std::int64_t expires_at : shared->sessions->live_expiries(shared->clock.now_seconds()))
    edge->open_sessions.created(expires_at);

  server->impl_ = std::make_unique<ServerImpl>(shared, std::move(edge), std::move(*tls),
                                               std::move(acceptor), server->io_);
  server->impl_->set_port(port);
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace qr::local
