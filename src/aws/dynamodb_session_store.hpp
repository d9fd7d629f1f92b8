#pragma once
// SessionStore over DynamoDB: conditional PutItem/UpdateItem, GetItem (strongly consistent unless
// the caller asks for less), and the connection lookup as a Query on the GSI
// "wsConnectionId-index" (never a Scan).
//
// Item layout (attribute names are the spec's): sessionId S (hash key), status S, createdAt N,
// expiresAt N (the TTL attribute, epoch seconds), wsConnectionId S (absent when there is none,
// never NULL: it keys the GSI), uploadKey S, completedAt N, contentType S, desktopTokenHash S,
// wsTokenBound BOOL, uploadSize N, maxUploads N, uploadCount N, uploaderTokenHash S, uploads M
// (uploadKey -> {fileName, contentType, issuedAt, completed, size, completedAt, index,
// notifiedAt, notifyingUntil}).

#include <memory>
#include <string>

#include <boost/json/object.hpp>

#include "aws/dynamodb_client.hpp"
#include "ports/session_store.hpp"

namespace qr::aws {

/// Name of the GSI keyed by wsConnectionId.
inline constexpr std::string_view connection_index = "wsConnectionId-index";

/// The SessionStore of the AWS deployment.
class DynamoDbSessionStore final : public SessionStore {
 public:
  /// Uses `client` for table `table_name`.
  DynamoDbSessionStore(std::shared_ptr<DynamoDbClient> client, std::string table_name);

  /// The table this store reads and writes.
  const std::string& table_name() const { return table_; }

  Result<void> save(const Session& session) override;
  /// GetItem with ConsistentRead true.
  Result<std::optional<Session>> get(std::string_view session_id) override;
  /// GetItem with ConsistentRead as asked (false for Consistency::eventual).
  Result<std::optional<Session>> get(std::string_view session_id, Consistency consistency) override;
  Result<Session> update(std::string_view session_id, const SessionUpdate& changes,
                         const UpdateCondition& condition) override;
  Result<std::optional<Session>> find_by_connection(std::string_view connection_id) override;
  Result<std::optional<Session>> find_by_short_code(std::string_view code,
                                                    std::int64_t now) override;

 private:
  std::shared_ptr<DynamoDbClient> client_;
  std::string table_;
};

/// The DynamoDB item of a session (wsConnectionId left out when there is none).
boost::json::object session_to_item(const Session& session);
/// The session of a DynamoDB item; ErrorCode::internal naming the bad attribute if malformed.
Result<Session> session_from_item(const boost::json::object& item);

/// The CreateTable request for the sessions table with its GSI (used by tests and tooling;
/// the deployment creates the table from its template).
boost::json::object sessions_table_definition(std::string_view table_name);

}  // namespace qr::aws
