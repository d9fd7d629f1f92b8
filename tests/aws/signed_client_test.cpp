// The one signed request path (SignedClient) over a scripted HTTP client: what goes on the wire,
// what is signed (checked against botocore), the payload hash per service, retries signed afresh,
// and presigned URLs that the verifier accepts.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <boost/url/url_view.hpp>

#include "aws/signed_client.hpp"
#include "aws_test_support.hpp"
#include "support/fakes.hpp"

namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using qr::aws::testing::ScriptedHttpClient;

const qr::aws::Credentials credentials{"AKIAEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                       "session/token+="};

std::string header_of(const qr::aws::HttpRequest& req, std::string_view name) {
  for (const auto& [k, v] : req.headers) {
    if (k == name) return v;
  }
  return {};
}

struct SignedClientTest : ::testing::Test {
  qr::testing::FakeClock clock{1704164645};  // 2024-01-02T03:04:05Z
  ScriptedHttpClient* http = nullptr;
  std::vector<std::chrono::milliseconds> sleeps;

  qr::aws::SignedClient client(std::string service, qr::aws::Endpoint endpoint) {
    auto h = std::make_unique<ScriptedHttpClient>();
    http = h.get();
    qr::aws::RetryPolicy retry;
    // A backoff moves the fake clock, so a retry is signed at a later time.
    retry.sleep = [this](std::chrono::milliseconds d) {
      sleeps.push_back(d);
      clock.advance(2s);
    };
    retry.uniform = [] { return 0.5; };
    return qr::aws::SignedClient(std::move(service), credentials, "eu-west-1", std::move(endpoint),
                                 std::move(h), retry, clock);
  }
};

TEST_F(SignedClientTest, BasePathQueryAndHeadersGoOnTheWireAsBotocoreSignsThem) {
  auto aws =
      client("execute-api", {true, "abc123.execute-api.eu-west-1.amazonaws.com", 443, "/prod"});
  http->push_response(200, "{}");
  const std::string body = R"({"hello":"world"})";
  auto res = aws.send({"POST",
                       "/@connections/abc%3D",
                       {{"b", "2 3"}, {"a", "x/y"}},
                       {{"x-amz-target", "Service.Operation"}},
                       body,
                       {}});
  ASSERT_TRUE(res) << res.error().detail;
  EXPECT_EQ(res->status, 200);
  ASSERT_EQ(http->requests.size(), 1u);
  const auto& req = http->requests[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/prod/@connections/abc%3D?b=2%203&a=x%2Fy");
  EXPECT_EQ(req.body, body);
  // The caller's headers first, then the signature's, Authorization last.
  ASSERT_GE(req.headers.size(), 4u);
  EXPECT_EQ(req.headers.front().first, "x-amz-target");
  EXPECT_EQ(req.headers.back().first, "authorization");
  EXPECT_EQ(header_of(req, "x-amz-date"), "20240102T030405Z");
  EXPECT_EQ(header_of(req, "x-amz-security-token"), credentials.session_token);
  EXPECT_EQ(header_of(req, "x-amz-content-sha256"), "") << "only S3 sends the payload hash";

  json::object c{{"kind", "header"},
                 {"service", "execute-api"},
                 {"region", "eu-west-1"},
                 {"access_key", credentials.access_key_id},
                 {"secret_key", credentials.secret_access_key},
                 {"token", credentials.session_token},
                 {"timestamp", "20240102T030405Z"},
                 {"method", "POST"},
                 {"url", "https://abc123.execute-api.eu-west-1.amazonaws.com" + req.target},
                 {"headers", json::array{json::array{"X-Amz-Target", "Service.Operation"}}},
                 {"body", body}};
  const auto out = qr::aws::testing::botocore_sign(json::array{c});
  EXPECT_EQ(header_of(req, "authorization"), out.at(0).at("authorization").as_string().c_str());
}

TEST_F(SignedClientTest, S3SignsTheBodysHashOrTheGivenOne) {
  auto aws = client("s3", {false, "127.0.0.1", 4569, ""});
  for (int i = 0; i < 3; ++i) http->push_response(200, "");
  ASSERT_TRUE(aws.send({"GET", "/bucket/key", {}, {}, {}, {}}));
  ASSERT_TRUE(aws.send({"PUT", "/bucket/key", {}, {}, "abc", {}}));
  ASSERT_TRUE(
      aws.send({"PUT", "/bucket/key", {}, {}, "abc", std::string(qr::aws::unsigned_payload)}));
  EXPECT_EQ(header_of(http->requests[0], "x-amz-content-sha256"), qr::aws::empty_payload_hash);
  EXPECT_EQ(header_of(http->requests[1], "x-amz-content-sha256"), qr::crypto::sha256_hex("abc"));
  EXPECT_EQ(header_of(http->requests[2], "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(http->requests[2].body, "abc");
}

TEST_F(SignedClientTest, EveryRetryIsSignedAfreshWithTheCurrentDate) {
  auto aws = client("dynamodb", {true, "dynamodb.eu-west-1.amazonaws.com", 443, ""});
  http->push_response(500, "");
  http->push_failure("connection reset");
  http->push_response(200, "{}");
  auto res = aws.send({"POST", "/", {}, {}, "{}", {}});
  ASSERT_TRUE(res) << res.error().detail;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(aws.last_attempts(), 3);
  EXPECT_EQ(sleeps.size(), 2u);
  ASSERT_EQ(http->requests.size(), 3u);
  EXPECT_EQ(header_of(http->requests[0], "x-amz-date"), "20240102T030405Z");
  EXPECT_EQ(header_of(http->requests[1], "x-amz-date"), "20240102T030407Z");
  EXPECT_EQ(header_of(http->requests[2], "x-amz-date"), "20240102T030409Z");
  EXPECT_NE(header_of(http->requests[0], "authorization"),
            header_of(http->requests[2], "authorization"));
}

TEST_F(SignedClientTest, TransportFailuresAreRetriedThenUnavailable) {
  auto aws = client("dynamodb", {true, "dynamodb.eu-west-1.amazonaws.com", 443, ""});
  for (int i = 0; i < 3; ++i) http->push_failure("refused");
  auto res = aws.send({"POST", "/", {}, {}, "{}", {}});
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, qr::ErrorCode::unavailable);
  EXPECT_EQ(aws.last_attempts(), 3);
}

TEST_F(SignedClientTest, PresignedUrlPinsItsHeadersAndVerifies) {
  auto aws = client("s3", {false, "127.0.0.1", 4569, "/base"});
  const std::string url = aws.presign({"PUT",
                                       "/bucket/a%20b.jpg",
                                       {},
                                       {{"content-type", "image/jpeg"}},
                                       {},
                                       std::string(qr::aws::unsigned_payload)},
                                      300s);
  EXPECT_TRUE(http->requests.empty()) << "presigning makes no call";
  const boost::urls::url_view u(url);
  EXPECT_EQ(u.scheme(), "http");
  EXPECT_EQ(u.encoded_host_and_port(), "127.0.0.1:4569");
  EXPECT_EQ(u.encoded_path(), "/base/bucket/a%20b.jpg");
  const qr::aws::Pairs query = qr::aws::parse_query(u.encoded_query());
  bool pinned = false;
  for (const auto& [k, v] : query) {
    if (k == "X-Amz-SignedHeaders") pinned = v == "content-type;host";
  }
  EXPECT_TRUE(pinned) << url;

  const qr::aws::Signer verifier(credentials, "eu-west-1", "s3");
  qr::aws::SignableRequest received{"PUT",
                                    "/base/bucket/a%20b.jpg",
                                    query,
                                    {{"Host", "127.0.0.1:4569"}, {"Content-Type", "image/jpeg"}}};
  auto ok = verifier.verify_presigned(received, qr::aws::unsigned_payload, clock.now() + 10s);
  EXPECT_TRUE(ok) << ok.error().detail;
  received.headers[1].second = "image/png";
  EXPECT_FALSE(verifier.verify_presigned(received, qr::aws::unsigned_payload, clock.now()));
}

}  // namespace
