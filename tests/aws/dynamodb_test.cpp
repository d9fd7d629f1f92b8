// The DynamoDB SessionStore against dynalite (DynamoDB's wire protocol on loopback): the shared
// SessionStore contract, the GSI lookup, and fault injection.

#include <gtest/gtest.h>

#include "aws/dynamodb_session_store.hpp"
#include "aws_test_support.hpp"
#include "support/session_store_contract.hpp"

namespace {

using qr::aws::testing::PeerProcess;
using qr::aws::testing::ScriptedHttpClient;

// One dynalite per test process, started on first use and stopped at exit.
PeerProcess& dynalite() {
  static std::unique_ptr<PeerProcess> peer = qr::aws::testing::start_node_peer("dynalite.js");
  return *peer;
}

qr::aws::Endpoint dynalite_endpoint() {
  return {false, "127.0.0.1", dynalite().port(), ""};
}

qr::SystemClock& clock() {
  static qr::SystemClock c;
  return c;
}

qr::aws::RetryPolicy fast_retries() {
  qr::aws::RetryPolicy p = qr::aws::default_retry_policy();
  p.sleep = [](std::chrono::milliseconds) {};  // never really sleep in tests
  return p;
}

std::shared_ptr<qr::aws::DynamoDbClient> make_client(
    std::unique_ptr<qr::aws::HttpClient> http = nullptr) {
  if (!http) http = qr::aws::make_http_client(dynalite_endpoint());
  // dynalite accepts any credentials; the signature itself is checked against botocore elsewhere.
  return std::make_shared<qr::aws::DynamoDbClient>(qr::aws::Credentials{"AKID", "SECRET", "TOKEN"},
                                                   "us-east-1", dynalite_endpoint(),
                                                   std::move(http), fast_retries(), clock());
}

std::string fresh_table() {
  static int n = 0;
  const std::string name = "sessions-" + std::to_string(++n);
  qr::aws::testing::create_sessions_table(*make_client(), name);
  return name;
}

struct DynamoDbFactory {
  static std::unique_ptr<qr::SessionStore> make() {
    return std::make_unique<qr::aws::DynamoDbSessionStore>(make_client(), fresh_table());
  }
  // A client of its own per thread (clients are not thread-safe), on the same table.
  static std::unique_ptr<qr::SessionStore> another(qr::SessionStore& store) {
    auto& ddb = dynamic_cast<qr::aws::DynamoDbSessionStore&>(store);
    return std::make_unique<qr::aws::DynamoDbSessionStore>(make_client(), ddb.table_name());
  }
};

qr::Session session(std::string id) {
  qr::Session s;
  s.session_id = std::move(id);
  s.created_at = 1'700'000'000;
  s.expires_at = 1'700'001'800;
  return s;
}

TEST(DynamoDbStore, TableHasTheConnectionIndexAndStoresNoNullConnection) {
  const std::string table = fresh_table();
  auto client = make_client();
  auto described = client->call("DescribeTable", {{"TableName", table}});
  ASSERT_TRUE(described) << described.error().error.detail;
  const auto& gsis = described->at("Table").at("GlobalSecondaryIndexes").as_array();
  ASSERT_EQ(gsis.size(), 1u);
  EXPECT_EQ(gsis[0].at("IndexName").as_string(), "wsConnectionId-index");

  qr::aws::DynamoDbSessionStore store(client, table);
  ASSERT_TRUE(store.save(session("a")));
  auto raw = client->call(
      "GetItem",
      {{"TableName", table}, {"Key", {{"sessionId", {{"S", "a"}}}}}, {"ConsistentRead", true}});
  ASSERT_TRUE(raw);
  EXPECT_FALSE(raw->at("Item").as_object().contains("wsConnectionId"));
}

TEST(DynamoDbStore, ManyCallsShareOneKeptAliveClient) {
  // Many calls over one client: every one succeeds whether or not dynalite keeps the socket.
  const std::string table = fresh_table();
  qr::aws::DynamoDbSessionStore store(make_client(), table);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store.save(session("k" + std::to_string(i))));
  auto got = store.get("k19");
  ASSERT_TRUE(got && *got);
}

TEST(DynamoDbStore, ThrottlesAndServerErrorsAreRetriedWithinTheBudget) {
  const std::string table = fresh_table();
  auto scripted =
      std::make_unique<ScriptedHttpClient>(qr::aws::make_http_client(dynalite_endpoint()));
  auto* faults = scripted.get();
  faults->push_response(400,
                        R"({"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException"})");
  faults->push_response(500,
                        R"({"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError"})");
  auto client = make_client(std::move(scripted));
  qr::aws::DynamoDbSessionStore store(client, table);
  // A save puts the short code's item, then the session's: the first put reaches dynalite on its
  // third attempt, the second on its first.
  ASSERT_TRUE(store.save(session("r")));
  EXPECT_EQ(faults->requests.size(), 4u);
  EXPECT_EQ(client->last_attempts(), 1);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_NE(faults->requests[i].body.find("\"code#"), std::string::npos) << i;
  EXPECT_EQ(faults->requests[3].body.find("\"code#"), std::string::npos);
}

TEST(DynamoDbStore, ExhaustedRetriesSurfaceAsErrorsWithNoHalfWrittenSession) {
  const std::string table = fresh_table();
  auto scripted =
      std::make_unique<ScriptedHttpClient>(qr::aws::make_http_client(dynalite_endpoint()));
  auto* faults = scripted.get();
  for (int i = 0; i < 3; ++i) {
    faults->push_response(
        400,
        R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"})");
  }
  for (int i = 0; i < 3; ++i) faults->push_response(503, "");
  qr::aws::DynamoDbSessionStore store(make_client(std::move(scripted)), table);
  auto throttled = store.save(session("t"));
  ASSERT_FALSE(throttled);
  EXPECT_EQ(throttled.error().code, qr::ErrorCode::throttled);
  auto down = store.save(session("t"));
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, qr::ErrorCode::unavailable);
  // Nothing reached the table.
  auto got = store.get("t");
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
}

TEST(DynamoDbStore, TransportFailuresAreRetriedThenUnavailable) {
  // A port nobody listens on: connection refused on every attempt.
  auto client = std::make_shared<qr::aws::DynamoDbClient>(
      qr::aws::Credentials{"AKID", "SECRET", ""}, "us-east-1",
      qr::aws::Endpoint{false, "127.0.0.1", 1, ""},
      qr::aws::make_http_client({false, "127.0.0.1", 1, ""}), fast_retries(), clock());
  qr::aws::DynamoDbSessionStore store(client, "none");
  auto got = store.get("x");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, qr::ErrorCode::unavailable);
  EXPECT_EQ(client->last_attempts(), 3);
}

}  // namespace

namespace qr::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(DynamoDb, SessionStoreContract, ::testing::Types<DynamoDbFactory>);
}  // namespace qr::testing
