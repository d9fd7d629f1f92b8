#pragma once
// Builds the AWS implementations of the ports from an AwsConfig, once, at start-up.
//
//   auto cfg = qr::aws::load_config(qr::aws::process_environment(), {true, true, false});
//   if (!cfg) { log cfg.error().detail; exit(1); }        // names the missing setting
//   auto deadline = std::make_shared<qr::aws::Deadline>();
//   auto adapters = qr::aws::make_aws_adapters(*cfg, clock, deadline);
//   // per invocation: deadline->set(deadline from Lambda-Runtime-Deadline-Ms)

#include <atomic>
#include <chrono>
#include <memory>

#include "aws/config.hpp"
#include "aws/retry.hpp"
#include "ports/clock.hpp"
#include "ports/notifier.hpp"
#include "ports/object_store.hpp"
#include "ports/session_store.hpp"

namespace qr::aws {

/// The deadline of the invocation being handled, read by every adapter's retry policy so no
/// retry outlives the Lambda. Unset: no deadline.
class Deadline {
 public:
  /// Sets the deadline (epoch milliseconds, as in the Runtime API's Lambda-Runtime-Deadline-Ms).
  void set_epoch_ms(std::int64_t epoch_ms) { epoch_ms_.store(epoch_ms); }
  /// Removes the deadline.
  void clear() { epoch_ms_.store(0); }
  /// Time left; a very large value when unset, zero when passed.
  std::chrono::milliseconds remaining() const;

 private:
  std::atomic<std::int64_t> epoch_ms_{0};
};

/// The three adapters of the AWS deployment. `notifier` is null when no Management API
/// endpoint is configured (the HTTP API function does not need one).
struct AwsAdapters {
  std::unique_ptr<SessionStore> sessions;  ///< DynamoDB
  std::unique_ptr<ObjectStore> objects;    ///< S3
  std::unique_ptr<Notifier> notifier;      ///< API Gateway Management API, or null
};

/// Creates the adapters, each with its own kept-alive connection. With `warm_up`, the DynamoDB
/// and S3 connections are opened now (every event of both functions uses them) rather than on
/// first use. `clock` must outlive them; `deadline` may be null.
AwsAdapters make_aws_adapters(const AwsConfig& config, Clock& clock,
                              std::shared_ptr<Deadline> deadline = nullptr, bool warm_up = false);

}  // namespace qr::aws
