// Unit tests of the AWS adapters with no network: configuration, retries, request shapes.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>

#include "aws/adapters.hpp"
#include "aws/apigw_notifier.hpp"
#include "aws/config.hpp"
#include "aws/dynamodb_session_store.hpp"
#include "aws/retry.hpp"
#include "aws/s3_object_store.hpp"
#include "aws_test_support.hpp"
#include "functions/http_api_handler.hpp"
#include "functions/websocket_event_handler.hpp"
#include "support/fakes.hpp"

namespace {

using namespace std::chrono_literals;
using qr::ErrorCode;
using qr::aws::testing::ScriptedHttpClient;

qr::aws::EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::map<std::string, std::string> base_env() {
  return {{"AWS_ACCESS_KEY_ID", "AKID"},
          {"AWS_SECRET_ACCESS_KEY", "SECRET"},
          {"AWS_SESSION_TOKEN", "TOKEN"},
          {"AWS_REGION", "eu-west-1"},
          {"SESSIONS_TABLE_NAME", "Sessions"},
          {"UPLOAD_BUCKET_NAME", "uploads"},
          {"WS_API_ENDPOINT", "abc123.execute-api.eu-west-1.amazonaws.com/prod"}};
}

TEST(AwsConfig, ReadsEverySettingWithAwsDefaults) {
  auto cfg = qr::aws::load_config(env_of(base_env()), {true, true, true});
  ASSERT_TRUE(cfg) << cfg.error().detail;
  EXPECT_EQ(cfg->credentials.session_token, "TOKEN");
  EXPECT_EQ(cfg->region, "eu-west-1");
  EXPECT_EQ(cfg->dynamodb.origin(), "https://dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(cfg->s3.origin(), "https://s3.eu-west-1.amazonaws.com");
  EXPECT_FALSE(cfg->s3_path_style);
  ASSERT_TRUE(cfg->apigw);
  EXPECT_EQ(cfg->apigw->origin(), "https://abc123.execute-api.eu-west-1.amazonaws.com");
  EXPECT_EQ(cfg->apigw->base_path, "/prod");
  EXPECT_EQ(cfg->sessions_table, "Sessions");
  EXPECT_EQ(cfg->upload_bucket, "uploads");
}

TEST(AwsConfig, ServiceEndpointWinsOverGeneralOne) {
  auto env = base_env();
  env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4566";
  env["AWS_ENDPOINT_URL_DYNAMODB"] = "http://127.0.0.1:8000/";
  env.erase("AWS_REGION");
  env["AWS_DEFAULT_REGION"] = "us-east-1";
  auto cfg = qr::aws::load_config(env_of(env));
  ASSERT_TRUE(cfg) << cfg.error().detail;
  EXPECT_EQ(cfg->region, "us-east-1");
  EXPECT_EQ(cfg->dynamodb.origin(), "http://127.0.0.1:8000");
  EXPECT_EQ(cfg->dynamodb.base_path, "");
  EXPECT_EQ(cfg->s3.origin(), "http://127.0.0.1:4566");
  EXPECT_TRUE(cfg->s3_path_style);
}

TEST(AwsConfig, MissingRequiredSettingIsNamed) {
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "SESSIONS_TABLE_NAME",
                           "UPLOAD_BUCKET_NAME", "WS_API_ENDPOINT", "AWS_REGION"}) {
    auto env = base_env();
    env.erase(name);
    auto cfg = qr::aws::load_config(env_of(env), {true, true, true});
    ASSERT_FALSE(cfg) << name;
    EXPECT_EQ(cfg.error().code, ErrorCode::invalid_input);
    EXPECT_NE(cfg.error().detail.find(name), std::string::npos) << cfg.error().detail;
  }
  auto env = base_env();
  env.erase("AWS_SESSION_TOKEN");  // optional outside Lambda
  EXPECT_TRUE(qr::aws::load_config(env_of(env)));
}

TEST(AwsConfig, MalformedEndpointIsNamed) {
  auto env = base_env();
  env["AWS_ENDPOINT_URL_S3"] = "ftp://x";
  auto cfg = qr::aws::load_config(env_of(env));
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().detail.find("AWS_ENDPOINT_URL_S3"), std::string::npos);
}

TEST(AwsEndpoint, ParsesPortsPathsAndIpv6) {
  auto a = qr::aws::parse_endpoint("http://[::1]:9000/base/");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 9000);
  EXPECT_EQ(a->base_path, "/base");
  EXPECT_EQ(a->authority(), "[::1]:9000");
  auto b = qr::aws::parse_endpoint("wss://x.execute-api.us-east-1.amazonaws.com/dev");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->authority(), "x.execute-api.us-east-1.amazonaws.com");
  EXPECT_FALSE(qr::aws::parse_endpoint("http://host:99999"));
  EXPECT_FALSE(qr::aws::parse_endpoint("http://:80"));
}

TEST(AwsEndpoint, BareHostMeansHttpsAndAnEmptyPortTheDefault) {
  auto bare = qr::aws::parse_endpoint("localhost:4566/stage/");
  ASSERT_TRUE(bare) << bare.error().detail;
  EXPECT_TRUE(bare->tls);
  EXPECT_EQ(bare->host, "localhost");
  EXPECT_EQ(bare->port, 4566);
  EXPECT_EQ(bare->base_path, "/stage");
  auto empty_port = qr::aws::parse_endpoint("http://127.0.0.1:/");
  ASSERT_TRUE(empty_port) << empty_port.error().detail;
  EXPECT_EQ(empty_port->origin(), "http://127.0.0.1");
  EXPECT_FALSE(qr::aws::parse_endpoint("http://host:8x"));
}

TEST(AwsCaBundle, SslCertFileWins) {
  EXPECT_EQ(qr::aws::default_ca_file(env_of({{"SSL_CERT_FILE", "/x/ca.pem"}})), "/x/ca.pem");
}

// ---- retries ----

struct RetryProbe {
  std::vector<std::chrono::milliseconds> sleeps;
  qr::aws::RetryPolicy policy() {
    qr::aws::RetryPolicy p;
    p.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
    p.uniform = [] { return 0.999; };
    return p;
  }
};

qr::Result<qr::aws::HttpResponse> respond(int status, std::string body = "",
                                          qr::aws::Pairs headers = {}) {
  return qr::aws::HttpResponse{status, std::move(headers), std::move(body)};
}

TEST(AwsRetry, ThrottlingIsRetriedWithGrowingJitteredBackoff) {
  RetryProbe probe;
  int calls = 0;
  auto out = qr::aws::run_with_retries(probe.policy(), [&] {
    ++calls;
    return respond(400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException"})");
  });
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(out.attempts, 3);
  ASSERT_EQ(probe.sleeps.size(), 2u);
  EXPECT_EQ(probe.sleeps[0], 49ms);  // 0.999 * 50
  EXPECT_EQ(probe.sleeps[1], 99ms);  // 0.999 * 100
  ASSERT_TRUE(out.result);
  const auto err = qr::aws::error_from_response(*out.result, "op");
  EXPECT_EQ(err.code, ErrorCode::throttled);
}

TEST(AwsRetry, TransientFailuresRecover) {
  RetryProbe probe;
  int calls = 0;
  auto out = qr::aws::run_with_retries(probe.policy(), [&]() -> qr::Result<qr::aws::HttpResponse> {
    ++calls;
    if (calls == 1) return qr::fail(ErrorCode::unavailable, "reset");
    if (calls == 2) return respond(503);
    return respond(200, "{}");
  });
  EXPECT_EQ(calls, 3);
  ASSERT_TRUE(out.result);
  EXPECT_EQ(out.result->status, 200);
}

TEST(AwsRetry, NeverRetriesConditionalCheckValidationOrOther4xx) {
  for (const char* type :
       {"ConditionalCheckFailedException", "ValidationException", "ResourceNotFoundException"}) {
    RetryProbe probe;
    int calls = 0;
    auto out = qr::aws::run_with_retries(probe.policy(), [&] {
      ++calls;
      return respond(400,
                     std::string(R"({"__type":"com.amazonaws.dynamodb.v20120810#)") + type + "\"}");
    });
    EXPECT_EQ(calls, 1) << type;
    EXPECT_TRUE(probe.sleeps.empty());
  }
  int calls = 0;
  RetryProbe probe;
  qr::aws::run_with_retries(probe.policy(), [&] {
    ++calls;
    return respond(403, "<Error><Code>AccessDenied</Code></Error>");
  });
  EXPECT_EQ(calls, 1);
}

TEST(AwsRetry, StopsWhenTheDeadlineLeavesNoRoom) {
  RetryProbe probe;
  auto policy = probe.policy();
  policy.time_remaining = [] { return 150ms; };  // less than backoff + min_attempt_time
  int calls = 0;
  auto out = qr::aws::run_with_retries(policy, [&] {
    ++calls;
    return respond(500);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(probe.sleeps.empty());
  EXPECT_EQ(qr::aws::error_from_response(*out.result, "op").code, ErrorCode::unavailable);
}

TEST(AwsRetry, ErrorCodesAreReadFromHeaderJsonAndXml) {
  EXPECT_EQ(qr::aws::aws_error_code({400, {{"X-Amzn-ErrorType", "GoneException:http://x"}}, ""}),
            "GoneException");
  EXPECT_EQ(qr::aws::aws_error_code({400, {}, R"({"__type":"a.b#ValidationException"})"}),
            "ValidationException");
  EXPECT_EQ(qr::aws::aws_error_code({503, {}, "<Error><Code>SlowDown</Code></Error>"}), "SlowDown");
  EXPECT_EQ(qr::aws::classify({503, {}, "<Error><Code>SlowDown</Code></Error>"}),
            qr::aws::Retryability::throttled);
  EXPECT_EQ(qr::aws::classify({429, {}, ""}), qr::aws::Retryability::throttled);
  EXPECT_EQ(qr::aws::classify({404, {}, ""}), qr::aws::Retryability::permanent);
}

TEST(AwsDeadline, UnsetIsUnboundedAndAPassedDeadlineLeavesNothing) {
  qr::aws::Deadline d;
  EXPECT_GT(d.remaining(), std::chrono::hours(24));
  d.set_epoch_ms(1);  // long past
  EXPECT_EQ(d.remaining(), 0ms);
  d.clear();
  EXPECT_GT(d.remaining(), std::chrono::hours(24));
}

// ---- request shapes ----

struct DdbHarness {
  qr::testing::FakeClock clock;
  ScriptedHttpClient* http = nullptr;
  std::shared_ptr<qr::aws::DynamoDbClient> client;
  std::unique_ptr<qr::aws::DynamoDbSessionStore> store;
  DdbHarness() {
    auto h = std::make_unique<ScriptedHttpClient>();
    http = h.get();
    qr::aws::RetryPolicy p;
    p.sleep = [](auto) {};
    p.uniform = [] { return 0.0; };
    client = std::make_shared<qr::aws::DynamoDbClient>(
        qr::aws::Credentials{"AKID", "SECRET", "TOKEN"}, "eu-west-1",
        qr::aws::Endpoint{true, "dynamodb.eu-west-1.amazonaws.com", 443, ""}, std::move(h), p,
        clock);
    store = std::make_unique<qr::aws::DynamoDbSessionStore>(client, "Sessions");
  }
  boost::json::object body(std::size_t i) const {
    return boost::json::parse(http->requests.at(i).body).as_object();
  }
  std::string header(std::size_t i, std::string_view name) const {
    for (const auto& [k, v] : http->requests.at(i).headers) {
      if (k == name) return v;
    }
    return {};
  }
};

TEST(DynamoDbRequests, UpdateClearsConnectionWithRemoveAndChecksConditions) {
  DdbHarness h;
  h.http->push_response(200,
                        R"({"Attributes":{"sessionId":{"S":"id"},"status":{"S":"UPLOAD_REQUESTED"},
    "createdAt":{"N":"1"},"expiresAt":{"N":"2"},"wsTokenBound":{"BOOL":false}}})");
  qr::SessionUpdate changes;
  changes.status = qr::SessionStatus::upload_requested;
  changes.ws_connection_id = std::optional<std::string>{};
  qr::UpdateCondition cond;
  cond.status_in = {qr::SessionStatus::awaiting_scan, qr::SessionStatus::upload_requested};
  cond.connection_is = std::optional<std::string>{"c1="};
  cond.connection_not_token_bound = true;
  auto s = h.store->update("id", changes, cond);
  ASSERT_TRUE(s) << s.error().detail;
  EXPECT_EQ(s->status, qr::SessionStatus::upload_requested);
  EXPECT_FALSE(s->ws_connection_id);

  const auto req = h.body(0);
  EXPECT_EQ(h.header(0, "x-amz-target"), "DynamoDB_20120810.UpdateItem");
  EXPECT_EQ(req.at("UpdateExpression").as_string(), "SET #st = :st REMOVE #ws");
  EXPECT_EQ(req.at("ConditionExpression").as_string(),
            "attribute_exists(#id) AND #st IN (:cst0, :cst1) AND #ws = :cws AND "
            "(attribute_not_exists(#tb) OR #tb = :false)");
  EXPECT_EQ(req.at("ReturnValues").as_string(), "ALL_NEW");
  EXPECT_EQ(req.at("ExpressionAttributeNames").as_object().at("#st").as_string(), "status");
  // Never a NULL anywhere: the connection id keys the GSI.
  EXPECT_EQ(boost::json::serialize(req).find("NULL"), std::string::npos);
}

TEST(DynamoDbRequests, SaveLeavesOutAbsentConnection) {
  DdbHarness h;
  h.http->push_response(200, "{}");
  h.http->push_response(200, "{}");
  qr::Session s;
  s.session_id = "id";
  s.created_at = 1;
  s.expires_at = 1801;
  ASSERT_TRUE(h.store->save(s));
  // First the short code's item ("id" reads as hex 0xd: code 000013), taken only if no live
  // session holds it; then the session.
  const auto code = h.body(0);
  EXPECT_EQ(code.at("Item").as_object().at("sessionId").as_object().at("S").as_string(),
            "code#000013");
  EXPECT_EQ(code.at("Item").as_object().at("codeFor").as_object().at("S").as_string(), "id");
  EXPECT_EQ(code.at("Item").as_object().at("expiresAt").as_object().at("N").as_string(), "1801");
  EXPECT_EQ(code.at("ConditionExpression").as_string(),
            "attribute_not_exists(sessionId) OR expiresAt <= :created OR codeFor = :id");
  const auto req = h.body(1);
  EXPECT_FALSE(req.at("Item").as_object().contains("wsConnectionId"));
  EXPECT_EQ(req.at("Item").as_object().at("expiresAt").as_object().at("N").as_string(), "1801");
  EXPECT_EQ(req.at("ConditionExpression").as_string(), "attribute_not_exists(sessionId)");
  EXPECT_EQ(h.header(0, "x-amz-security-token"), "TOKEN");
}

TEST(DynamoDbRequests, ThrottledSaveIsRetriedThenReported) {
  DdbHarness h;
  for (int i = 0; i < 3; ++i) {
    h.http->push_response(
        400,
        R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"})");
  }
  qr::Session s;
  s.session_id = "id";
  auto saved = h.store->save(s);
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code, ErrorCode::throttled);
  EXPECT_EQ(h.http->requests.size(), 3u);
}

TEST(DynamoDbRequests, ConditionFailureIsToldApartFromMissingSession) {
  DdbHarness h;
  const char* ccf =
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"})";
  h.http->push_response(400, ccf);
  h.http->push_response(200, "{}");  // consistent GetItem: no item
  auto missing = h.store->update("id", {}, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_EQ(h.body(1).at("ConsistentRead").as_bool(), true);
}

TEST(DynamoDbRequests, FindByConnectionQueriesTheIndexNeverScans) {
  DdbHarness h;
  h.http->push_response(200, R"({"Items":[],"Count":0})");
  auto found = h.store->find_by_connection("c1=");
  ASSERT_TRUE(found);
  EXPECT_FALSE(*found);
  EXPECT_EQ(h.header(0, "x-amz-target"), "DynamoDB_20120810.Query");
  EXPECT_EQ(h.body(0).at("IndexName").as_string(), "wsConnectionId-index");
}

// GetItem is strongly consistent unless the caller says a stale answer will do.
TEST(DynamoDbRequests, GetReadsStronglyUnlessAskedForAnEventualRead) {
  DdbHarness h;
  h.http->push_response(200, "{}");
  h.http->push_response(200, "{}");
  h.http->push_response(200, "{}");
  qr::SessionStore& store = *h.store;
  ASSERT_TRUE(store.get("id"));
  ASSERT_TRUE(store.get("id", qr::Consistency::strong));
  ASSERT_TRUE(store.get("id", qr::Consistency::eventual));
  EXPECT_EQ(h.header(0, "x-amz-target"), "DynamoDB_20120810.GetItem");
  EXPECT_EQ(h.body(0).at("ConsistentRead"), true);
  EXPECT_EQ(h.body(1).at("ConsistentRead"), true);
  EXPECT_EQ(h.body(2).at("ConsistentRead"), false);
}

// Through the routers on the DynamoDB store: the desktop's status poll reads eventually; the
// completion of an upload, whose conditional write depends on what it read, strongly.
TEST(DynamoDbRequests, TheStatusPollReadsEventuallyTheCompletionStrongly) {
  DdbHarness h;
  qr::testing::FakeObjectStore objects;
  qr::testing::FakeNotifier notifier;
  qr::testing::CountingRandom random;
  qr::Logger log{[](std::string_view) {}};
  qr::handlers::Settings settings;
  qr::handlers::Context ctx{*h.store, objects, notifier, h.clock, random, log, settings};
  const std::string id = "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b";
  const std::string item = R"({"Item":{"sessionId":{"S":")" + id + R"("},
    "status":{"S":"AWAITING_SCAN"},"createdAt":{"N":"1700000000"},"expiresAt":{"N":"1700001800"}}})";

  h.http->push_response(200, item);
  boost::json::object event{
      {"version", "2.0"},
      {"rawPath", "/sessions/" + id},
      {"requestContext", {{"http", {{"method", "GET"}, {"path", "/sessions/" + id}}}}}};
  auto poll = qr::functions::http_api_handler(event, ctx).as_object();
  EXPECT_EQ(poll.at("statusCode").as_int64(), 200) << boost::json::serialize(poll);
  ASSERT_EQ(h.http->requests.size(), 1u);
  EXPECT_EQ(h.body(0).at("ConsistentRead"), false);

  h.http->push_response(200, item);  // the session never issued this key: refused
  const std::string key = "session-uploads/" + id + "/image-1.jpg";
  objects.objects[key] = {"\xFF\xD8\xFF", "image/jpeg"};
  boost::json::object s3{
      {"Records",
       boost::json::array{boost::json::object{
           {"eventName", "ObjectCreated:Put"},
           {"s3", {{"bucket", {{"name", "b"}}}, {"object", {{"key", key}, {"size", 3}}}}}}}}};
  qr::functions::websocket_event_handler(s3, ctx);
  ASSERT_EQ(h.http->requests.size(), 2u);
  EXPECT_EQ(h.body(1).at("ConsistentRead"), true);
}

// S3 answers a missing key with 404 NoSuchKey when the role may s3:ListBucket, and with 403
// AccessDenied when it may not: only 404 or NoSuchKey is a missing object, any other 403 is an
// error (HEAD answers have no body, so a GET asks again for the code).
struct S3Harness {
  qr::testing::FakeClock clock;
  ScriptedHttpClient* http = nullptr;
  std::unique_ptr<qr::aws::S3ObjectStore> store;
  S3Harness() {
    auto h = std::make_unique<ScriptedHttpClient>();
    http = h.get();
    qr::aws::RetryPolicy p;
    p.sleep = [](auto) {};
    p.uniform = [] { return 0.0; };
    store = std::make_unique<qr::aws::S3ObjectStore>(
        qr::aws::Credentials{"AKID", "SECRET", "TOKEN"}, "eu-west-1",
        qr::aws::s3_addressing({true, "s3.eu-west-1.amazonaws.com", 443, ""}, "bkt", false),
        std::move(h), p, clock);
  }
  static std::string error_xml(std::string_view code) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
           "</Code><Message>m</Message><RequestId>r</RequestId></Error>";
  }
};

TEST(S3Inspect, NotFoundIsAMissingObject) {
  S3Harness h;
  h.http->push_response(404, "");
  auto info = h.store->inspect("session-uploads/x/a.jpg", 64);
  ASSERT_TRUE(info) << info.error().detail;
  EXPECT_FALSE(*info);
  ASSERT_EQ(h.http->requests.size(), 1u);
  EXPECT_EQ(h.http->requests[0].method, "HEAD");
}

TEST(S3Inspect, AForbiddenHeadIsAskedAgainAndNoSuchKeyIsMissing) {
  S3Harness h;
  h.http->push_response(403, "");
  h.http->push_response(403, S3Harness::error_xml("NoSuchKey"));
  auto info = h.store->inspect("session-uploads/x/a.jpg", 64);
  ASSERT_TRUE(info) << info.error().detail;
  EXPECT_FALSE(*info);
  ASSERT_EQ(h.http->requests.size(), 2u);
  EXPECT_EQ(h.http->requests[1].method, "GET");
  h.http->push_response(403, "");
  h.http->push_response(404, S3Harness::error_xml("NoSuchKey"));
  auto again = h.store->inspect("session-uploads/x/a.jpg", 64);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
}

TEST(S3Inspect, AccessDeniedIsAnErrorNeverAMissingObject) {
  S3Harness h;
  h.http->push_response(403, "");
  h.http->push_response(403, S3Harness::error_xml("AccessDenied"));
  auto denied = h.store->inspect("session-uploads/x/a.jpg", 64);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::forbidden);
  EXPECT_NE(denied.error().detail.find("AccessDenied"), std::string::npos) << denied.error().detail;
  EXPECT_EQ(h.http->requests.size(), 2u) << "403 is not retried";
  // The same after a HEAD that succeeded (the object's bytes may not be read).
  h.http->push_response(200, "", {{"Content-Length", "10"}, {"Content-Type", "image/jpeg"}});
  h.http->push_response(403, S3Harness::error_xml("AccessDenied"));
  auto after_head = h.store->inspect("session-uploads/x/a.jpg", 64);
  ASSERT_FALSE(after_head);
  EXPECT_EQ(after_head.error().code, ErrorCode::forbidden);
  // A 403 without a body after a HEAD 403: no code says missing, so it is an error.
  h.http->push_response(403, "");
  h.http->push_response(403, "");
  auto bare = h.store->inspect("session-uploads/x/a.jpg", 64);
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error().code, ErrorCode::forbidden);
}

TEST(S3Inspect, AnObjectDeletedBetweenHeadAndGetIsMissing) {
  S3Harness h;
  h.http->push_response(200, "", {{"Content-Length", "10"}, {"Content-Type", "image/jpeg"}});
  h.http->push_response(404, S3Harness::error_xml("NoSuchKey"));
  auto info = h.store->inspect("session-uploads/x/a.jpg", 64);
  ASSERT_TRUE(info);
  EXPECT_FALSE(*info);
  h.http->push_response(200, "", {{"Content-Length", "10"}, {"Content-Type", "image/jpeg"}});
  h.http->push_response(403, S3Harness::error_xml("NoSuchKey"));
  auto info403 = h.store->inspect("session-uploads/x/a.jpg", 64);
  ASSERT_TRUE(info403);
  EXPECT_FALSE(*info403);
}

TEST(S3Inspect, AnExistingObjectGivesItsSizeTypeAndFirstBytes) {
  S3Harness h;
  h.http->push_response(200, "", {{"Content-Length", "12345"}, {"Content-Type", "image/jpeg"}});
  h.http->push_response(206, "\xFF\xD8\xFF", {{"Content-Range", "bytes 0-2/12345"}});
  auto info = h.store->inspect("session-uploads/x/a.jpg", 64);
  ASSERT_TRUE(info && *info);
  EXPECT_EQ((*info)->size, 12345u);
  EXPECT_EQ((*info)->content_type, "image/jpeg");
  EXPECT_EQ((*info)->head, "\xFF\xD8\xFF");
  ASSERT_EQ(h.http->requests.size(), 2u);
  std::string range;
  for (const auto& [k, v] : h.http->requests[1].headers)
    if (k == "range") range = v;
  EXPECT_EQ(range, "bytes=0-63");
}

TEST(S3Addressing, VirtualHostedOnAwsPathStyleOnOverrides) {
  qr::testing::FakeClock clock;
  const qr::aws::Endpoint aws{true, "s3.eu-west-1.amazonaws.com", 443, ""};
  auto virt = qr::aws::s3_addressing(aws, "bkt", false);
  qr::aws::S3ObjectStore store({"AKID", "SECRET", ""}, "eu-west-1", virt,
                               std::make_unique<ScriptedHttpClient>(), {}, clock);
  auto put = store.presign_put("session-uploads/a b/image-1.jpg", "image/jpeg", 1234, 300s);
  ASSERT_TRUE(put);
  EXPECT_EQ(put->url.rfind(
                "https://bkt.s3.eu-west-1.amazonaws.com/session-uploads/a%20b/image-1.jpg?", 0),
            0u)
      << put->url;
  EXPECT_NE(put->url.find("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"),
            std::string::npos);
  EXPECT_NE(put->url.find("X-Amz-Expires=300"), std::string::npos);
  EXPECT_EQ(put->headers.at("Content-Type"), "image/jpeg");

  auto path = qr::aws::s3_addressing({false, "127.0.0.1", 4569, ""}, "bkt", true);
  qr::aws::S3ObjectStore local({"S3RVER", "S3RVER", ""}, "us-east-1", path,
                               std::make_unique<ScriptedHttpClient>(), {}, clock);
  auto get = local.presign_get("k.jpg", 60s, "");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->rfind("http://127.0.0.1:4569/bkt/k.jpg?", 0), 0u) << *get;
  EXPECT_FALSE(local.presign_get("k.jpg", 0s, ""));
}

TEST(ApiGatewayNotifierRequests, GoneIsReportedAndThrottlingRetried) {
  qr::testing::FakeClock clock;
  auto h = std::make_unique<ScriptedHttpClient>();
  auto* http = h.get();
  qr::aws::RetryPolicy p;
  p.sleep = [](auto) {};
  qr::aws::ApiGatewayNotifier n({"AKID", "SECRET", "TOKEN"}, "eu-west-1",
                                {true, "x.execute-api.eu-west-1.amazonaws.com", 443, "/prod"},
                                std::move(h), p, clock);
  http->push_response(410, R"({"message":"GoneException"})");
  auto gone = n.send("abc=", "{}");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::gone);
  EXPECT_EQ(http->requests.at(0).target, "/prod/@connections/abc%3D");

  http->push_response(429, "");
  http->push_response(500, "");
  http->push_response(200, "");
  EXPECT_TRUE(n.send("abc=", "{}"));
  EXPECT_EQ(http->requests.size(), 4u);

  for (int i = 0; i < 3; ++i) http->push_response(500, "");
  auto down = n.send("abc=", "{}");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, ErrorCode::unavailable);
}

}  // namespace
