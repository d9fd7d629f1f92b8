#include "aws/config.hpp"

#include <charconv>
#include <cstdlib>

namespace qr::aws {
namespace {

Result<std::string> required(const EnvLookup& env, std::string_view name) {
  auto v = env(name);
  if (!v || v->empty()) {
    return fail(ErrorCode::invalid_input, "missing required setting " + std::string(name));
  }
  return *v;
}

std::optional<std::string> optional_setting(const EnvLookup& env, std::string_view name) {
  auto v = env(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

// A per-service override wins over AWS_ENDPOINT_URL, as in the AWS SDKs.
Result<std::optional<Endpoint>> endpoint_override(const EnvLookup& env, std::string_view service) {
  const std::string specific = "AWS_ENDPOINT_URL_" + std::string(service);
  std::optional<std::string> url = optional_setting(env, specific);
  std::string_view name = specific;
  if (!url) {
    url = optional_setting(env, "AWS_ENDPOINT_URL");
    name = "AWS_ENDPOINT_URL";
  }
  if (!url) return std::optional<Endpoint>{};
  auto ep = parse_endpoint(*url);
  if (!ep) {
    return fail(ErrorCode::invalid_input,
                "malformed setting " + std::string(name) + ": " + ep.error().detail);
  }
  return std::optional<Endpoint>{*ep};
}

}  // namespace

EnvLookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

std::string Endpoint::authority() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out = ipv6 ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

std::string Endpoint::origin() const {
  return (tls ? "https://" : "http://") + authority();
}

Result<Endpoint> parse_endpoint(std::string_view url) {
  Endpoint ep;
  std::string_view rest = url;
  if (const std::size_t p = rest.find("://"); p != std::string_view::npos) {
    const std::string_view scheme = rest.substr(0, p);
    if (scheme == "https" || scheme == "wss") {
      ep.tls = true;
    } else if (scheme == "http" || scheme == "ws") {
      ep.tls = false;
    } else {
      return fail(ErrorCode::invalid_input, "unsupported scheme in " + std::string(url));
    }
    rest = rest.substr(p + 3);
  }
  ep.port = ep.tls ? 443 : 80;
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  ep.base_path = std::string(path);

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return fail(ErrorCode::invalid_input, "malformed host in " + std::string(url));
    }
    ep.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      port_text = authority.substr(close + 2);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (ep.host.empty()) return fail(ErrorCode::invalid_input, "no host in " + std::string(url));
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [ptr, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return fail(ErrorCode::invalid_input, "malformed port in " + std::string(url));
    }
    ep.port = static_cast<std::uint16_t>(value);
  }
  return ep;
}

Result<AwsConfig> load_config(const EnvLookup& env, const ConfigNeeds& needs) {
  AwsConfig cfg;
  auto key = required(env, "AWS_ACCESS_KEY_ID");
  if (!key) return std::unexpected(key.error());
  auto secret = required(env, "AWS_SECRET_ACCESS_KEY");
  if (!secret) return std::unexpected(secret.error());
  cfg.credentials = {*key, *secret, optional_setting(env, "AWS_SESSION_TOKEN").value_or("")};

  auto region = optional_setting(env, "AWS_REGION");
  if (!region) region = optional_setting(env, "AWS_DEFAULT_REGION");
  if (!region) {
    return fail(ErrorCode::invalid_input,
                "missing required setting AWS_REGION (or AWS_DEFAULT_REGION)");
  }
  cfg.region = *region;

  auto ddb = endpoint_override(env, "DYNAMODB");
  if (!ddb) return std::unexpected(ddb.error());
  cfg.dynamodb =
      ddb->value_or(Endpoint{true, "dynamodb." + cfg.region + ".amazonaws.com", 443, ""});

  auto s3 = endpoint_override(env, "S3");
  if (!s3) return std::unexpected(s3.error());
  // Overridden endpoints (s3rver, MinIO) take the bucket in the path; AWS in the host name.
  cfg.s3_path_style = s3->has_value();
  cfg.s3 = s3->value_or(Endpoint{true, "s3." + cfg.region + ".amazonaws.com", 443, ""});

  auto apigw = endpoint_override(env, "APIGATEWAYMANAGEMENTAPI");
  if (!apigw) return std::unexpected(apigw.error());
  // A specific override wins; otherwise the spec's WS_API_ENDPOINT ("id.execute-api...../stage").
  const bool specific_apigw =
      optional_setting(env, "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI").has_value();
  if (auto ws = optional_setting(env, "WS_API_ENDPOINT"); ws && !specific_apigw) {
    auto ep = parse_endpoint(*ws);
    if (!ep) {
      return fail(ErrorCode::invalid_input,
                  "malformed setting WS_API_ENDPOINT: " + ep.error().detail);
    }
    cfg.apigw = *ep;
  } else if (apigw->has_value()) {
    cfg.apigw = **apigw;
  }
  if (needs.ws_api && !cfg.apigw) {
    return fail(ErrorCode::invalid_input, "missing required setting WS_API_ENDPOINT");
  }

  if (needs.sessions_table) {
    auto t = required(env, "SESSIONS_TABLE_NAME");
    if (!t) return std::unexpected(t.error());
    cfg.sessions_table = *t;
  }
  if (needs.upload_bucket) {
    auto b = required(env, "UPLOAD_BUCKET_NAME");
    if (!b) return std::unexpected(b.error());
    cfg.upload_bucket = *b;
  }
  return cfg;
}

}  // namespace qr::aws
