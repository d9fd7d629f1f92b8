#pragma once
// Settings of the AWS deployment, read from the environment once at start-up.
//
//   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN   credentials (token optional)
//   AWS_REGION, else AWS_DEFAULT_REGION                            region
//   AWS_ENDPOINT_URL                                               endpoint for every service
//   AWS_ENDPOINT_URL_DYNAMODB / _S3 / _APIGATEWAYMANAGEMENTAPI     per-service endpoint (wins)
//   SESSIONS_TABLE_NAME, UPLOAD_BUCKET_NAME, WS_API_ENDPOINT       the spec's settings
//
// The environment is a parameter (an EnvLookup), so tests never touch the process environment.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "aws/sigv4.hpp"
#include "core/error.hpp"

namespace qr::aws {

/// Looks a variable up; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// The real process environment (getenv). Empty values count as unset.
EnvLookup process_environment();

/// Where a service is reached: scheme, host, port and an optional base path.
struct Endpoint {
  bool tls = true;           ///< https (true) or plain http (false)
  std::string host;          ///< host name or IP address, without brackets or port
  std::uint16_t port = 443;  ///< TCP port
  std::string base_path;     ///< a path prefix without trailing '/' (e.g. "/prod"); often empty

  /// The Host header value: host, plus ":port" when it is not the scheme's default.
  std::string authority() const;
  /// "https://host[:port]" (no base path).
  std::string origin() const;
  bool operator==(const Endpoint&) const = default;
};

/// Parses "http(s)://host[:port][/base]" (a bare "host[/base]" means https); wss:// is read as
/// https:// because the Management API of a WebSocket API is reached over HTTPS.
Result<Endpoint> parse_endpoint(std::string_view url);

/// Which of the spec's settings a function needs; a missing one is a start-up error.
struct ConfigNeeds {
  bool sessions_table = true;  ///< SESSIONS_TABLE_NAME
  bool upload_bucket = true;   ///< UPLOAD_BUCKET_NAME
  bool ws_api = false;         ///< WS_API_ENDPOINT (or AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI)
};

/// Everything the AWS adapters need to start.
struct AwsConfig {
  Credentials credentials;        ///< signing credentials
  std::string region;             ///< e.g. "eu-west-1"
  Endpoint dynamodb;              ///< DynamoDB endpoint
  Endpoint s3;                    ///< S3 endpoint (regional, or the override)
  bool s3_path_style = false;     ///< true when S3 is overridden (s3rver): /{bucket}/{key}
  std::optional<Endpoint> apigw;  ///< Management API endpoint (https://{WS_API_ENDPOINT})
  std::string sessions_table;     ///< SESSIONS_TABLE_NAME
  std::string upload_bucket;      ///< UPLOAD_BUCKET_NAME
};

/// Reads the configuration; ErrorCode::invalid_input naming the first missing or malformed
/// setting (e.g. "missing required setting AWS_REGION (or AWS_DEFAULT_REGION)").
Result<AwsConfig> load_config(const EnvLookup& env, const ConfigNeeds& needs = {});

}  // namespace qr::aws
