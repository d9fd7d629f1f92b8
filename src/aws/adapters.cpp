#include "aws/adapters.hpp"

#include <limits>

#include "aws/apigw_notifier.hpp"
#include "aws/dynamodb_session_store.hpp"
#include "aws/http_client.hpp"
#include "aws/s3_object_store.hpp"

namespace qr::aws {

std::chrono::milliseconds Deadline::remaining() const {
  const std::int64_t at = epoch_ms_.load();
  if (at == 0) return std::chrono::milliseconds{std::numeric_limits<std::int32_t>::max()};
  // The deadline is wall-clock time from the Runtime API, so it is compared with the wall clock.
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return std::chrono::milliseconds{std::max<std::int64_t>(0, at - now)};
}

AwsAdapters make_aws_adapters(const AwsConfig& config, Clock& clock,
                              std::shared_ptr<Deadline> deadline, bool warm_up) {
  RetryPolicy retry = default_retry_policy();
  if (deadline) retry.time_remaining = [deadline] { return deadline->remaining(); };

  AwsAdapters out;
  auto ddb_http = make_http_client(config.dynamodb);
  // A failed warm-up is not an error: the first request connects (and retries) again.
  if (warm_up) (void)ddb_http->warm_up();
  auto ddb = std::make_shared<DynamoDbClient>(config.credentials, config.region, config.dynamodb,
                                              std::move(ddb_http), retry, clock);
  out.sessions = std::make_unique<DynamoDbSessionStore>(std::move(ddb), config.sessions_table);

  const S3Addressing s3 = s3_addressing(config.s3, config.upload_bucket, config.s3_path_style);
  auto s3_http = make_http_client(s3.endpoint);
  if (warm_up) (void)s3_http->warm_up();
  out.objects = std::make_unique<S3ObjectStore>(config.credentials, config.region, s3,
                                                std::move(s3_http), retry, clock);
  if (config.apigw) {
    out.notifier =
        std::make_unique<ApiGatewayNotifier>(config.credentials, config.region, *config.apigw,
                                             make_http_client(*config.apigw), retry, clock);
  }
  return out;
}

}  // namespace qr::aws
