#include "aws/config.hpp"

#include <boost/url/parse.hpp>

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
  // Only an IPv6 literal has a ':' in its host; it takes brackets in a URL and a Host header.
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out = ipv6 ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

std::string Endpoint::origin() const {
  return (tls ? "https://" : "http://") + authority();
}

Result<Endpoint> parse_endpoint(std::string_view url) {
  // A bare "host[:port][/base]" (WS_API_ENDPOINT is given without a scheme) means https.
  const std::string full =
      url.find("://") == std::string_view::npos ? "https://" + std::string(url) : std::string(url);
  const auto parsed = boost::urls::parse_uri(full);
  // After an authority the path is empty or starts with '/'; Boost.URL 1.81 lets a port run
  // into a relative path ("host:8x" reads as port 8, path "x"), so that is checked here.
  if (!parsed || (!parsed->encoded_path().empty() && !parsed->encoded_path().starts_with('/'))) {
    return fail(ErrorCode::invalid_input, "malformed URL " + std::string(url));
  }
  const boost::urls::url_view& u = *parsed;

  Endpoint ep;
  const std::string_view scheme = u.scheme();
  if (scheme == "https" || scheme == "wss") {
    ep.tls = true;
  } else if (scheme == "http" || scheme == "ws") {
    ep.tls = false;
  } else {
    return fail(ErrorCode::invalid_input, "unsupported scheme in " + std::string(url));
  }
  // An IPv6 literal comes without its brackets ("::1"); authority() puts them back.
  ep.host = u.host_address();
  if (ep.host.empty()) return fail(ErrorCode::invalid_input, "no host in " + std::string(url));
  ep.port = ep.tls ? 443 : 80;
  // "host:" (an empty port) means the default port, as in a URL.
  if (const std::string_view text = u.port(); !text.empty()) {
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || value == 0 || value > 65535) {
      return fail(ErrorCode::invalid_input, "malformed port in " + std::string(url));
    }
    ep.port = static_cast<std::uint16_t>(value);
  }
  std::string_view path = u.encoded_path();
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  ep.base_path = std::string(path);
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
