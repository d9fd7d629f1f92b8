// The Notifier against a loopback stand-in of the API Gateway Management API that verifies every
// request's SigV4 signature with botocore and answers scripted statuses.

#include <gtest/gtest.h>

#include "aws/apigw_notifier.hpp"
#include "aws_test_support.hpp"

namespace {

using qr::aws::testing::PeerProcess;

const qr::aws::Credentials standin_credentials{"AKIDSTANDIN", "standin/secret+key",
                                               "session-token/abc=="};

class ManagementApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    peer_ = std::make_unique<PeerProcess>(
        std::vector<std::string>{qr::aws::testing::python,
                                 (qr::aws::testing::test_dir / "py" / "apigw_standin.py").string(),
                                 standin_credentials.access_key_id,
                                 standin_credentials.secret_access_key,
                                 standin_credentials.session_token, "eu-west-1"},
        std::chrono::seconds(20));
  }
  static void TearDownTestSuite() { peer_.reset(); }

  qr::aws::Endpoint endpoint() const { return {false, "127.0.0.1", peer_->port(), "/prod"}; }

  qr::aws::ApiGatewayNotifier notifier() {
    qr::aws::RetryPolicy p = qr::aws::default_retry_policy();
    p.sleep = [](auto) {};
    return qr::aws::ApiGatewayNotifier(standin_credentials, "eu-west-1", endpoint(),
                                       qr::aws::make_http_client(endpoint()), p, clock_);
  }

  void script(std::string statuses) {
    auto http = qr::aws::make_http_client(endpoint());
    auto r = http->send({"POST", "/_control/script", {}, R"({"statuses":)" + statuses + "}"});
    ASSERT_TRUE(r && r->status == 200);
  }

  boost::json::array requests() {
    auto http = qr::aws::make_http_client(endpoint());
    auto r = http->send({"GET", "/_control/requests", {}, {}});
    EXPECT_TRUE(r && r->status == 200);
    return boost::json::parse(r->body).as_array();
  }

  static std::unique_ptr<PeerProcess> peer_;
  qr::SystemClock clock_;
};

std::unique_ptr<PeerProcess> ManagementApiTest::peer_;

TEST_F(ManagementApiTest, SignedPostIsAcceptedByBotocoreAndDeliversTheMessage) {
  script("[]");
  const std::size_t before = requests().size();
  auto n = notifier();
  const std::string message = R"({"action":"UPLOAD_COMPLETED","sessionId":"s1"})";
  auto sent = n.send("L0SM9cOFvHcCIhw=", message);
  ASSERT_TRUE(sent) << sent.error().detail;
  const auto seen = requests();
  ASSERT_EQ(seen.size(), before + 1);
  const auto& last = seen.back().as_object();
  EXPECT_TRUE(last.at("error").is_null()) << last.at("error");
  EXPECT_EQ(last.at("path").as_string(), "/prod/@connections/L0SM9cOFvHcCIhw%3D");
  EXPECT_EQ(last.at("connectionId").as_string(), "L0SM9cOFvHcCIhw=");
  EXPECT_EQ(last.at("body").as_string(), message);
}

TEST_F(ManagementApiTest, GoneConnectionIsReportedAsGone) {
  script("[410]");
  auto n = notifier();
  auto sent = n.send("deadConn=", "{}");
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, qr::ErrorCode::gone);
}

TEST_F(ManagementApiTest, ThrottlingAndServerErrorsAreRetriedThenSucceed) {
  script("[429, 500]");
  const std::size_t before = requests().size();
  auto n = notifier();
  auto sent = n.send("busy=", "{}");
  ASSERT_TRUE(sent) << sent.error().detail;
  const auto seen = requests();
  ASSERT_EQ(seen.size(), before + 3);
  for (std::size_t i = before; i < seen.size(); ++i) {
    EXPECT_TRUE(seen[i].at("error").is_null()) << "every attempt signed validly";
  }
}

TEST_F(ManagementApiTest, PersistentFailuresAreReportedAfterTheRetries) {
  script("[500, 500, 500]");
  auto n = notifier();
  auto sent = n.send("down=", "{}");
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, qr::ErrorCode::unavailable);
  script("[429, 429, 429]");
  auto throttled = n.send("down=", "{}");
  ASSERT_FALSE(throttled);
  EXPECT_EQ(throttled.error().code, qr::ErrorCode::throttled);
}

TEST_F(ManagementApiTest, WrongSecretIsRefusedByTheStandIn) {
  script("[]");
  qr::aws::ApiGatewayNotifier bad(
      {standin_credentials.access_key_id, "wrong", standin_credentials.session_token}, "eu-west-1",
      endpoint(), qr::aws::make_http_client(endpoint()), {}, clock_);
  auto sent = bad.send("x=", "{}");
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, qr::ErrorCode::forbidden);
}

}  // namespace
