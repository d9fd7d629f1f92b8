// The spec's whole flow through the real routers and the real AWS adapters, against loopback
// peers: dynalite (sessions), s3rver (uploads), the Management API stand-in (botocore checks every
// signature). Configuration comes from an environment map, exactly as a Lambda reads it.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <boost/url/url_view.hpp>

#include <map>

#include "aws/adapters.hpp"
#include "aws/dynamodb_session_store.hpp"
#include "aws_test_support.hpp"
#include "core/log.hpp"
#include "crypto/crypto.hpp"
#include "functions/http_api_handler.hpp"
#include "functions/websocket_event_handler.hpp"

namespace {

namespace json = boost::json;
using qr::aws::testing::PeerProcess;

constexpr const char* bucket_name = "uploads";
constexpr const char* table_name = "Sessions";
// s3rver knows only this key pair; dynalite and the stand-in accept what they are given.
const qr::aws::Credentials stack_credentials{"S3RVER", "S3RVER", "stack-session-token"};

// The request target (path and query) of a URL, as a client sends it.
std::string target_of(const std::string& url) {
  return std::string(boost::urls::url_view(url).encoded_target());
}

class AwsStack : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dynalite_ = qr::aws::testing::start_node_peer("dynalite.js");
    s3rver_ = qr::aws::testing::start_node_peer("s3rver.js", {bucket_name});
    apigw_ = std::make_unique<PeerProcess>(
        std::vector<std::string>{qr::aws::testing::python,
                                 (qr::aws::testing::test_dir / "py" / "apigw_standin.py").string(),
                                 stack_credentials.access_key_id,
                                 stack_credentials.secret_access_key,
                                 stack_credentials.session_token, "us-east-1"},
        std::chrono::seconds(20));
  }
  static void TearDownTestSuite() {
    apigw_.reset();
    s3rver_.reset();
    dynalite_.reset();
  }

  static std::string local(std::uint16_t port, std::string path = "") {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }

  qr::aws::EnvLookup env() const {
    std::map<std::string, std::string> vars{
        {"AWS_ACCESS_KEY_ID", stack_credentials.access_key_id},
        {"AWS_SECRET_ACCESS_KEY", stack_credentials.secret_access_key},
        {"AWS_SESSION_TOKEN", stack_credentials.session_token},
        {"AWS_REGION", "us-east-1"},
        {"AWS_ENDPOINT_URL_DYNAMODB", local(dynalite_->port())},
        {"AWS_ENDPOINT_URL_S3", local(s3rver_->port())},
        {"WS_API_ENDPOINT", local(apigw_->port(), "/prod")},
        {"SESSIONS_TABLE_NAME", table_name},
        {"UPLOAD_BUCKET_NAME", bucket_name}};
    return [vars](std::string_view name) -> std::optional<std::string> {
      auto it = vars.find(std::string(name));
      return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
  }

  void SetUp() override {
    auto cfg = qr::aws::load_config(env(), {true, true, true});
    ASSERT_TRUE(cfg) << cfg.error().detail;
    config_ = *cfg;
    auto ddb = std::make_shared<qr::aws::DynamoDbClient>(
        config_.credentials, config_.region, config_.dynamodb,
        qr::aws::make_http_client(config_.dynamodb), qr::aws::default_retry_policy(), clock_);
    qr::aws::testing::create_sessions_table(*ddb, table_name);
    admin_ = ddb;
  }

  static json::value http_event(std::string method, std::string path, json::object query = {},
                                json::object headers = {}) {
    json::object e{{"version", "2.0"},
                   {"routeKey", "$default"},
                   {"rawPath", path},
                   {"headers", headers},
                   {"requestContext",
                    {{"requestId", "req-1"},
                     {"http", {{"method", method}, {"path", path}, {"sourceIp", "1.2.3.4"}}}}},
                   {"isBase64Encoded", false}};
    if (!query.empty()) e["queryStringParameters"] = query;
    return e;
  }

  static json::object body_of(const json::value& response) {
    return json::parse(response.at("body").as_string()).as_object();
  }

  qr::aws::AwsConfig config_;
  qr::SystemClock clock_;
  qr::crypto::OsRandom random_;
  std::string log_;
  qr::Logger logger_{[this](std::string_view line) { log_.append(line).append("\n"); }};
  qr::handlers::Settings settings_;
  std::shared_ptr<qr::aws::DynamoDbClient> admin_;

  static std::unique_ptr<PeerProcess> dynalite_;
  static std::unique_ptr<PeerProcess> s3rver_;
  static std::unique_ptr<PeerProcess> apigw_;
};

std::unique_ptr<PeerProcess> AwsStack::dynalite_;
std::unique_ptr<PeerProcess> AwsStack::s3rver_;
std::unique_ptr<PeerProcess> AwsStack::apigw_;

TEST_F(AwsStack, SessionUploadAndNotificationFlowEndToEnd) {
  auto deadline = std::make_shared<qr::aws::Deadline>();
  auto adapters = qr::aws::make_aws_adapters(config_, clock_, deadline, /*warm_up=*/true);
  ASSERT_TRUE(adapters.notifier);
  qr::handlers::Context ctx{
      *adapters.sessions, *adapters.objects, *adapters.notifier, clock_, random_, logger_,
      settings_};

  // 1. The desktop asks for a session.
  auto created = qr::functions::http_api_handler(http_event("POST", "/sessions"), ctx);
  ASSERT_EQ(created.at("statusCode").to_number<int>(), 200) << created << log_;
  const auto session = body_of(created);
  const std::string id = session.at("sessionId").as_string().c_str();
  const std::string token = session.at("desktopToken").as_string().c_str();

  // 2. Its WebSocket connects with the token.
  const std::string connection = "Fm9vYmFyQ29ubg=";
  json::object connect{
      {"requestContext",
       {{"routeKey", "$connect"}, {"connectionId", connection}, {"requestId", "r2"}}},
      {"queryStringParameters", {{"sessionId", id}, {"token", token}}}};
  auto connected = qr::functions::websocket_event_handler(connect, ctx);
  ASSERT_EQ(connected.at("statusCode").to_number<int>(), 200) << connected << log_;

  // 3. The phone asks for an upload URL and PUTs the photo straight to storage.
  auto url = qr::functions::http_api_handler(
      http_event("GET", "/upload-url", {{"sessionId", id}, {"contentType", "image/jpeg"}}), ctx);
  ASSERT_EQ(url.at("statusCode").to_number<int>(), 200) << url << log_;
  const auto upload = body_of(url);
  const std::string upload_url = upload.at("uploadUrl").as_string().c_str();
  const std::string key = upload.at("uploadKey").as_string().c_str();
  const std::string origin = local(s3rver_->port());
  ASSERT_EQ(upload_url.rfind(origin + "/" + bucket_name + "/", 0), 0u) << upload_url;
  std::string jpeg("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
  jpeg += std::string(2000, 'x');
  jpeg += "\xFF\xD9";
  qr::aws::Pairs headers;
  for (const auto& [k, v] : upload.at("headers").as_object())
    headers.emplace_back(k, v.as_string().c_str());
  auto phone = qr::aws::make_http_client({false, "127.0.0.1", s3rver_->port(), ""});
  auto put = phone->send({"PUT", target_of(upload_url), headers, jpeg});
  ASSERT_TRUE(put && put->status == 200) << (put ? put->body : put.error().detail);

  // 4. S3 announces the object (keys arrive form-URL-encoded); the desktop is told.
  json::object record{
      {"eventName", "ObjectCreated:Put"},
      {"s3",
       {{"bucket", {{"name", bucket_name}}}, {"object", {{"key", key}, {"size", jpeg.size()}}}}}};
  auto done =
      qr::functions::websocket_event_handler(json::object{{"Records", json::array{record}}}, ctx);
  ASSERT_EQ(done.at("statusCode").to_number<int>(), 200) << done << log_;

  auto stored = adapters.sessions->get(id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->status, qr::SessionStatus::completed);
  EXPECT_EQ((*stored)->upload_size, static_cast<std::int64_t>(jpeg.size()));

  auto standin = qr::aws::make_http_client({false, "127.0.0.1", apigw_->port(), ""});
  auto seen = standin->send({"GET", "/_control/requests", {}, {}});
  ASSERT_TRUE(seen);
  const auto requests = json::parse(seen->body).as_array();
  // The photo, then the end of the (single-photo, so now full) session, both to the desktop.
  ASSERT_GE(requests.size(), 2u);
  const auto& last = requests.back().as_object();
  EXPECT_TRUE(last.at("error").is_null()) << last.at("error");
  EXPECT_EQ(last.at("connectionId").as_string(), connection);
  EXPECT_EQ(json::parse(last.at("body").as_string()).at("action").as_string(), "SESSION_COMPLETED");
  const auto& photo = requests[requests.size() - 2].as_object();
  EXPECT_TRUE(photo.at("error").is_null()) << photo.at("error");
  EXPECT_EQ(photo.at("connectionId").as_string(), connection);
  const auto message = json::parse(photo.at("body").as_string()).as_object();
  EXPECT_EQ(message.at("action").as_string(), "UPLOAD_COMPLETED");
  EXPECT_EQ(message.at("uploadKey").as_string(), key);
  // The token-bound desktop gets a download URL that returns the photo.
  const std::string download = message.at("downloadUrl").as_string().c_str();
  ASSERT_EQ(download.rfind(origin + "/", 0), 0u) << download;
  auto got = phone->send({"GET", target_of(download), {}, {}});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->body, jpeg);
}

TEST_F(AwsStack, ThrottledDynamoDbBecomesA500WithNoHalfWrittenSession) {
  auto scripted = std::make_unique<qr::aws::testing::ScriptedHttpClient>(
      qr::aws::make_http_client(config_.dynamodb));
  for (int i = 0; i < 3; ++i) {
    scripted->push_response(
        400,
        R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"})");
  }
  qr::aws::RetryPolicy retry = qr::aws::default_retry_policy();
  retry.sleep = [](auto) {};
  const std::string table = "Throttled";
  qr::aws::testing::create_sessions_table(*admin_, table);
  qr::aws::DynamoDbSessionStore sessions(std::make_shared<qr::aws::DynamoDbClient>(
                                             config_.credentials, config_.region, config_.dynamodb,
                                             std::move(scripted), retry, clock_),
                                         table);
  auto adapters = qr::aws::make_aws_adapters(config_, clock_);
  qr::handlers::Context ctx{sessions, *adapters.objects, *adapters.notifier, clock_,
                            random_,  logger_,           settings_};
  auto created = qr::functions::http_api_handler(http_event("POST", "/sessions"), ctx);
  EXPECT_EQ(created.at("statusCode").to_number<int>(), 500) << created;
  // A Scan is fine in a test: the table must be empty.
  auto scan = admin_->call("Scan", {{"TableName", table}});
  ASSERT_TRUE(scan) << scan.error().error.detail;
  EXPECT_EQ(scan->at("Count").to_number<int>(), 0);
}

}  // namespace
