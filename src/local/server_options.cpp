#include "local/server_options.hpp"

#include <charconv>
#include <cstdlib>

namespace qr::local {
namespace {

template <class T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

struct Setting {
  const char* flag;
  const char* env;
};

constexpr Setting settings[] = {{"--port", "QR_UPLOAD_PORT"},
                                {"--bind", "QR_UPLOAD_BIND"},
                                {"--data-dir", "QR_UPLOAD_DATA_DIR"},
                                {"--public-url", "QR_UPLOAD_PUBLIC_URL"},
                                {"--max-upload-bytes", "QR_UPLOAD_MAX_UPLOAD_BYTES"},
                                {"--session-ttl-seconds", "QR_UPLOAD_SESSION_TTL_SECONDS"},
                                {"--upload-url-ttl-seconds", "QR_UPLOAD_URL_TTL_SECONDS"},
                                {"--idle-timeout-seconds", "QR_UPLOAD_IDLE_TIMEOUT_SECONDS"},
                                {"--web-dir", "QR_UPLOAD_WEB_DIR"},
                                {"--threads", "QR_UPLOAD_THREADS"},
                                {"--tls-cert", "QR_UPLOAD_TLS_CERT"},
                                {"--tls-key", "QR_UPLOAD_TLS_KEY"},
                                {"--allowed-origin", "QR_UPLOAD_ALLOWED_ORIGINS"},
                                {"--allowed-host", "QR_UPLOAD_ALLOWED_HOSTS"},
                                {"--max-connections", "QR_UPLOAD_MAX_CONNECTIONS"},
                                {"--max-sockets-per-session", "QR_UPLOAD_MAX_SOCKETS_PER_SESSION"},
                                {"--max-open-sessions", "QR_UPLOAD_MAX_OPEN_SESSIONS"},
                                {"--rate-limit", "QR_UPLOAD_RATE_LIMIT"},
                                {"--min-upload-rate", "QR_UPLOAD_MIN_UPLOAD_RATE"},
                                {"--upload-deadline-seconds", "QR_UPLOAD_DEADLINE_SECONDS"},
                                {"--disk-quota-bytes", "QR_UPLOAD_DISK_QUOTA_BYTES"},
                                {"--min-free-bytes", "QR_UPLOAD_MIN_FREE_BYTES"},
                                {"--save-dir", "QR_UPLOAD_SAVE_DIR"}};

// Applies one server setting; an error message, or nullopt.
std::optional<std::string> apply(ServerOptions& options, std::string_view flag,
                                 std::string_view value) {
  if (flag == "--port") {
    auto v = parse_number<std::uint16_t>(value);
    if (!v) return "--port must be a number from 0 to 65535";
    options.port = *v;
  } else if (flag == "--bind") {
    options.bind_address = value;
  } else if (flag == "--data-dir") {
    options.data_dir = std::string(value);
  } else if (flag == "--public-url") {
    if (!value.starts_with("http://") && !value.starts_with("https://"))
      return "--public-url must start with http:// or https://";
    options.public_url = value;
  } else if (flag == "--max-upload-bytes") {
    auto v = parse_number<std::uint64_t>(value);
    if (!v || *v == 0) return "--max-upload-bytes must be a positive number";
    options.max_upload_bytes = *v;
  } else if (flag == "--session-ttl-seconds") {
    auto v = parse_number<std::int64_t>(value);
    if (!v || *v <= 0) return "--session-ttl-seconds must be a positive number";
    options.session_ttl_seconds = *v;
  } else if (flag == "--upload-url-ttl-seconds") {
    auto v = parse_number<std::int64_t>(value);
    if (!v || *v <= 0 || *v > 604800) return "--upload-url-ttl-seconds must be from 1 to 604800";
    options.upload_url_ttl_seconds = *v;
  } else if (flag == "--idle-timeout-seconds") {
    auto v = parse_number<int>(value);
    if (!v || *v <= 0) return "--idle-timeout-seconds must be a positive number";
    options.idle_timeout_seconds = *v;
  } else if (flag == "--web-dir") {
    options.web_dir = std::string(value);
  } else if (flag == "--tls-cert") {
    options.tls_cert = std::string(value);
  } else if (flag == "--tls-key") {
    options.tls_key = std::string(value);
  } else if (flag == "--allowed-origin" || flag == "--allowed-host") {
    auto& list = flag == "--allowed-origin" ? options.allowed_origins : options.allowed_hosts;
    for (std::size_t start = 0; start <= value.size();) {
      const auto comma = std::min(value.find(',', start), value.size());
      if (comma > start) list.emplace_back(value.substr(start, comma - start));
      start = comma + 1;
    }
    if (flag == "--allowed-origin")
      for (const auto& origin : list)
        if (!origin.starts_with("http://") && !origin.starts_with("https://"))
          return "--allowed-origin must start with http:// or https://";
  } else if (flag == "--max-connections" || flag == "--max-open-sessions") {
    auto v = parse_number<std::size_t>(value);
    if (!v || *v == 0) return std::string(flag) + " must be a positive number";
    (flag == "--max-connections" ? options.max_connections : options.max_open_sessions) = *v;
  } else if (flag == "--max-sockets-per-session" || flag == "--rate-limit") {
    auto v = parse_number<unsigned>(value);
    if (!v || (*v == 0 && flag == "--max-sockets-per-session"))
      return std::string(flag) + " must be a number (0 for no rate limit)";
    (flag == "--rate-limit" ? options.rate_limit_per_minute : options.max_sockets_per_session) = *v;
  } else if (flag == "--min-upload-rate" || flag == "--disk-quota-bytes" ||
             flag == "--min-free-bytes") {
    auto v = parse_number<std::uint64_t>(value);
    if (!v) return std::string(flag) + " must be a number of bytes (0: none)";
    (flag == "--min-upload-rate"    ? options.min_upload_rate
     : flag == "--disk-quota-bytes" ? options.disk_quota_bytes
                                    : options.min_free_bytes) = *v;
  } else if (flag == "--upload-deadline-seconds") {
    auto v = parse_number<int>(value);
    if (!v || *v <= 0) return "--upload-deadline-seconds must be a positive number";
    options.upload_deadline_seconds = *v;
  } else if (flag == "--threads") {
    auto v = parse_number<int>(value);
    if (!v || *v < 1 || *v > 64) return "--threads must be from 1 to 64";
    options.threads = *v;
  } else if (flag == "--save-dir") {
    options.save_dir = std::string(value);
  } else {
    return "unknown option " + std::string(flag) + " (see --help)";
  }
  return std::nullopt;
}

}  // namespace

std::filesystem::path default_web_dir() {
  return QR_DEFAULT_WEB_DIR;
}

const char* const server_options_help =
    R"(  --port N               port to listen on; 0 picks a free one   QR_UPLOAD_PORT (8080)
  --bind ADDRESS         address to listen on                     QR_UPLOAD_BIND (0.0.0.0)
  --data-dir DIR         sessions.db, images, signing secret      QR_UPLOAD_DATA_DIR (./data)
  --public-url URL       base URL the phone uses (QR code and     QR_UPLOAD_PUBLIC_URL
                         signed URLs); default http://<LAN IP>:<port>
  --save-dir DIR         also write every accepted photo here,    QR_UPLOAD_SAVE_DIR
                         under its own name, never overwriting
  --max-upload-bytes N   largest accepted photo                   QR_UPLOAD_MAX_UPLOAD_BYTES (26214400)
  --session-ttl-seconds N  how long a session lasts               QR_UPLOAD_SESSION_TTL_SECONDS (1800)
  --upload-url-ttl-seconds N  lifetime of a signed upload URL    QR_UPLOAD_URL_TTL_SECONDS (300)
  --idle-timeout-seconds N    an upload silent this long is cut  QR_UPLOAD_IDLE_TIMEOUT_SECONDS (30)
  --web-dir DIR          the web pages                            QR_UPLOAD_WEB_DIR (built-in path)
  --threads N            I/O threads                              QR_UPLOAD_THREADS (2)
  --tls-cert FILE        serve HTTPS and WSS with this PEM        QR_UPLOAD_TLS_CERT
                         certificate (chain); needs --tls-key
  --tls-key FILE         the certificate's PEM private key        QR_UPLOAD_TLS_KEY
  --allowed-origin URL   another origin whose pages may use the   QR_UPLOAD_ALLOWED_ORIGINS
                         API (repeat, or commas in the variable)
  --allowed-host NAME    another host name to answer to besides   QR_UPLOAD_ALLOWED_HOSTS
                         the public URL's and localhost (repeat)
  --max-connections N    open connections; 503 past it            QR_UPLOAD_MAX_CONNECTIONS (16384)
  --max-sockets-per-session N  WebSockets per session             QR_UPLOAD_MAX_SOCKETS_PER_SESSION (4)
  --max-open-sessions N  sessions not yet expired; 503 past it   QR_UPLOAD_MAX_OPEN_SESSIONS (1000)
  --rate-limit N         POST /sessions and GET /upload-url per   QR_UPLOAD_RATE_LIMIT (120)
                         client address a minute (each); 0: none
  --min-upload-rate N    bytes/s an upload must average after     QR_UPLOAD_MIN_UPLOAD_RATE (1024)
                         its first idle timeout; 0: none
  --upload-deadline-seconds N  longest one upload may take        QR_UPLOAD_DEADLINE_SECONDS (900)
  --disk-quota-bytes N   room for photos and uploads; 0: none     QR_UPLOAD_DISK_QUOTA_BYTES (10737418240)
  --min-free-bytes N     free disk space always left; 0: none     QR_UPLOAD_MIN_FREE_BYTES (268435456)
)";

Result<CommandLine> parse_command_line(std::span<char* const> args, ServerOptions defaults,
                                       std::span<const ExtraFlag> extra,
                                       std::size_t max_positional) {
  CommandLine out{std::move(defaults), {}, false};
  for (const Setting& s : settings) {
    if (const char* v = std::getenv(s.env); v && *v)
      if (auto err = apply(out.options, s.flag, v))
        return fail(ErrorCode::invalid_input, std::string(s.env) + ": " + *err);
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      return out;
    }
    if (!arg.starts_with("-") || arg == "-") {
      if (out.positional.size() >= max_positional)
        return fail(ErrorCode::invalid_input,
                    "unexpected argument " + std::string(arg) + " (see --help)");
      out.positional.emplace_back(arg);
      continue;
    }
    std::string flag(arg), value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    const ExtraFlag* own = nullptr;
    for (const auto& e : extra)
      if (e.name == flag) own = &e;
    if (own && !own->takes_value) {
      if (has_value) return fail(ErrorCode::invalid_input, flag + " takes no value");
      if (auto err = own->apply("")) return fail(ErrorCode::invalid_input, *err);
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size())
        return fail(ErrorCode::invalid_input, "missing value for " + flag + " (see --help)");
      value = args[++i];
    }
    if (auto err = own ? own->apply(value) : apply(out.options, flag, value))
      return fail(ErrorCode::invalid_input, *err);
  }
  return out;
}

}  // namespace qr::local
