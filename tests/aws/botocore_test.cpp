// botocore (AWS's own signer, Debian's python3-botocore) computes the same Authorization headers
// and presigned URLs as the project's signer for fixed inputs, and the project's verifier accepts
// botocore's presigned URLs.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <boost/url/url.hpp>

#include <map>

#include "aws/apigw_notifier.hpp"
#include "aws/s3_object_store.hpp"
#include "aws/sigv4.hpp"
#include "aws_test_support.hpp"
#include "support/fakes.hpp"

namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using qr::aws::testing::botocore_sign;
using qr::aws::testing::ScriptedHttpClient;

// 2024-01-02T03:04:05Z
constexpr std::int64_t epoch = 1704164645;
constexpr const char* stamp = "20240102T030405Z";
const qr::aws::Credentials credentials{
    "AKIAEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "IQoJb3JpZ2luX2VjEPT//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token="};

json::object base_case(std::string kind, std::string service, std::string method, std::string url) {
  return {{"kind", kind},
          {"service", service},
          {"region", "eu-west-1"},
          {"access_key", credentials.access_key_id},
          {"secret_key", credentials.secret_access_key},
          {"token", credentials.session_token},
          {"timestamp", stamp},
          {"method", method},
          {"url", url},
          {"headers", json::array{}},
          {"body", ""},
          {"expires", 300}};
}

// Splits a URL into (everything before '?', decoded query as a map).
std::pair<std::string, std::map<std::string, std::string>> split_url(const std::string& url) {
  boost::urls::url u(url);
  std::map<std::string, std::string> params;
  // The SigV4 decoding ('+' stays '+'), as a verifier of presigned URLs reads them.
  for (auto& [k, v] : qr::aws::parse_query(u.encoded_query())) params[k] = v;
  u.remove_query();
  return {std::string(u.buffer()), params};
}

std::string authorization_of(const qr::aws::HttpRequest& req) {
  for (const auto& [k, v] : req.headers) {
    if (k == "authorization") return v;
  }
  return {};
}

class BotocoreComparison : public ::testing::Test {
 protected:
  qr::testing::FakeClock clock_{epoch};
};

TEST_F(BotocoreComparison, PostToConnectionWithEqualsSignIsDoubleEncoded) {
  auto http = std::make_unique<ScriptedHttpClient>();
  auto* seen = http.get();
  seen->push_response(200, "");
  qr::aws::ApiGatewayNotifier notifier(
      credentials, "eu-west-1", {true, "abc123.execute-api.eu-west-1.amazonaws.com", 443, "/prod"},
      std::move(http), {}, clock_);
  const std::string message = R"({"action":"UPLOAD_COMPLETED","sessionId":"s"})";
  ASSERT_TRUE(notifier.send("L0SM9cOFvHcCIhw=", message));
  const auto& req = seen->requests.at(0);
  EXPECT_EQ(req.target, "/prod/@connections/L0SM9cOFvHcCIhw%3D");

  json::object c = base_case("header", "execute-api", "POST",
                             "https://abc123.execute-api.eu-west-1.amazonaws.com" + req.target);
  c["body"] = message;
  const auto out = botocore_sign(json::array{c});
  EXPECT_EQ(authorization_of(req), out.at(0).at("authorization").as_string().c_str());
}

TEST_F(BotocoreComparison, DynamoDbPostMatches) {
  const qr::aws::Signer signer(credentials, "eu-west-1", "dynamodb");
  const std::string body = R"({"TableName":"Sessions","Key":{"sessionId":{"S":"x"}}})";
  qr::aws::SignableRequest req{"POST",
                               "/",
                               {},
                               {{"host", "dynamodb.eu-west-1.amazonaws.com"},
                                {"content-type", "application/x-amz-json-1.0"},
                                {"x-amz-target", "DynamoDB_20120810.GetItem"}}};
  const auto sig = signer.sign(req, qr::crypto::sha256_hex(body), clock_.now());
  json::object c =
      base_case("header", "dynamodb", "POST", "https://dynamodb.eu-west-1.amazonaws.com/");
  c["headers"] = json::array{json::array{"Content-Type", "application/x-amz-json-1.0"},
                             json::array{"X-Amz-Target", "DynamoDB_20120810.GetItem"}};
  c["body"] = body;
  const auto out = botocore_sign(json::array{c});
  EXPECT_EQ(sig.headers.back().second, out.at(0).at("authorization").as_string().c_str());
}

struct PresignCase {
  std::string method;
  std::string key;
  std::optional<std::string> content_type;
  std::optional<std::uint64_t> content_length;
  bool path_style;
};

TEST_F(BotocoreComparison, PresignedS3UrlsMatch) {
  const std::vector<PresignCase> cases = {
      {"PUT", "session-uploads/0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b/image-1700000000000.jpg",
       "image/jpeg", std::nullopt, false},
      {"PUT", "session-uploads/x/image-1.png", "image/png", 2'000'000, false},
      {"PUT", "session-uploads/x/image 2.jpg", "image/*", std::nullopt, true},
      {"GET", "session-uploads/x/image-1.jpg", std::nullopt, std::nullopt, false},
      {"GET", "session-uploads/x/image-1.jpg", std::nullopt, std::nullopt, true},
  };
  json::array botocore_cases;
  std::vector<std::string> ours;
  for (const auto& pc : cases) {
    const qr::aws::Endpoint aws{true, "s3.eu-west-1.amazonaws.com", 443, ""};
    const qr::aws::Endpoint local{false, "127.0.0.1", 4569, ""};
    auto addressing =
        qr::aws::s3_addressing(pc.path_style ? local : aws, "upload-bucket", pc.path_style);
    qr::aws::S3ObjectStore store(credentials, "eu-west-1", addressing,
                                 std::make_unique<ScriptedHttpClient>(), {}, clock_);
    std::string url;
    if (pc.method == "PUT") {
      auto put = store.presign_put(pc.key, *pc.content_type, pc.content_length, 300s);
      ASSERT_TRUE(put);
      url = put->url;
    } else {
      auto get = store.presign_get(pc.key, 300s, "");
      ASSERT_TRUE(get);
      url = *get;
    }
    ours.push_back(url);
    json::object c = base_case("presign", "s3", pc.method, split_url(url).first);
    json::array headers;
    if (pc.content_type) headers.push_back(json::array{"Content-Type", *pc.content_type});
    if (pc.content_length) {
      headers.push_back(json::array{"Content-Length", std::to_string(*pc.content_length)});
    }
    c["headers"] = headers;
    botocore_cases.push_back(c);
  }
  const auto out = botocore_sign(botocore_cases);
  ASSERT_EQ(out.size(), ours.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const auto theirs = split_url(out[i].at("url").as_string().c_str());
    const auto mine = split_url(ours[i]);
    EXPECT_EQ(mine.first, theirs.first) << i;
    EXPECT_EQ(mine.second, theirs.second)
        << i << "\nours:     " << ours[i] << "\nbotocore: " << out[i].at("url").as_string();
  }
}

TEST_F(BotocoreComparison, S3HeadAndRangedGetHeaderSignaturesMatch) {
  // inspect() signs HEAD and a ranged GET in header mode, with x-amz-content-sha256.
  auto http = std::make_unique<ScriptedHttpClient>();
  auto* seen = http.get();
  seen->push_response(200, "", {{"Content-Length", "5000"}, {"Content-Type", "image/jpeg"}});
  seen->push_response(206, std::string(16, 'x'));
  const qr::aws::Endpoint local{false, "127.0.0.1", 4569, ""};
  qr::aws::S3ObjectStore store(credentials, "eu-west-1",
                               qr::aws::s3_addressing(local, "upload-bucket", true),
                               std::move(http), {}, clock_);
  auto info = store.inspect("session-uploads/x/image 1.jpg", 16);
  ASSERT_TRUE(info && *info);
  ASSERT_EQ(seen->requests.size(), 2u);

  json::array cases;
  for (const auto& req : seen->requests) {
    json::object c = base_case("header", "s3", req.method, "http://127.0.0.1:4569" + req.target);
    json::array headers;
    for (const auto& [k, v] : req.headers) {
      if (k == "range") headers.push_back(json::array{"Range", v});
    }
    c["headers"] = headers;
    cases.push_back(c);
  }
  const auto out = botocore_sign(cases);
  EXPECT_EQ(seen->requests[0].target, "/upload-bucket/session-uploads/x/image%201.jpg");
  EXPECT_EQ(authorization_of(seen->requests[0]), out.at(0).at("authorization").as_string().c_str());
  EXPECT_EQ(authorization_of(seen->requests[1]), out.at(1).at("authorization").as_string().c_str());
}

TEST_F(BotocoreComparison, VerifierAcceptsBotocorePresignedUrlAndRejectsTampering) {
  // The local server's signed-URL scheme: the project's verifier checks what botocore signs.
  json::object c = base_case("presign", "s3", "PUT", "http://192.168.1.20:8080/objects/k%20x.jpg");
  c["token"] = "";
  c["headers"] = json::array{json::array{"Content-Type", "image/jpeg"}};
  const auto out = botocore_sign(json::array{c});
  const auto [base, params] = split_url(out.at(0).at("url").as_string().c_str());
  qr::aws::SignableRequest received{
      "PUT",
      "/objects/k%20x.jpg",
      {},
      {{"Host", "192.168.1.20:8080"}, {"Content-Type", "image/jpeg"}, {"Content-Length", "10"}}};
  for (auto& [k, v] : params) received.query.emplace_back(k, v);
  const qr::aws::Signer verifier({credentials.access_key_id, credentials.secret_access_key, ""},
                                 "eu-west-1", "s3");
  auto ok = verifier.verify_presigned(received, qr::aws::unsigned_payload, clock_.now() + 10s);
  EXPECT_TRUE(ok) << ok.error().detail;

  auto wrong_type = received;
  wrong_type.headers[1].second = "image/png";
  EXPECT_FALSE(verifier.verify_presigned(wrong_type, qr::aws::unsigned_payload, clock_.now()));
  auto other_path = received;
  other_path.path = "/objects/other.jpg";
  EXPECT_FALSE(verifier.verify_presigned(other_path, qr::aws::unsigned_payload, clock_.now()));
  EXPECT_FALSE(verifier.verify_presigned(received, qr::aws::unsigned_payload, clock_.now() + 301s));
  const qr::aws::Signer stranger({credentials.access_key_id, "another-secret", ""}, "eu-west-1",
                                 "s3");
  EXPECT_FALSE(stranger.verify_presigned(received, qr::aws::unsigned_payload, clock_.now()));
}

}  // namespace
