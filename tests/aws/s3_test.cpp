// The S3 ObjectStore against s3rver on loopback: a URL presigned by the adapter uploads through a
// plain HTTP client, the presigned GET returns the same bytes, and HEAD, ranged GET and delete
// work. (s3rver does not check signatures; botocore_test.cpp compares them with botocore.)

#include <gtest/gtest.h>

#include <boost/url/url_view.hpp>

#include "aws/s3_object_store.hpp"
#include "aws_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using qr::aws::testing::PeerProcess;

constexpr const char* bucket_name = "uploads";

class S3rverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    peer_ = qr::aws::testing::start_node_peer("s3rver.js", {bucket_name});
  }
  static void TearDownTestSuite() { peer_.reset(); }

  qr::aws::Endpoint endpoint() const { return {false, "127.0.0.1", peer_->port(), ""}; }

  std::unique_ptr<qr::aws::S3ObjectStore> store() {
    auto addressing = qr::aws::s3_addressing(endpoint(), bucket_name, true);
    qr::aws::RetryPolicy p = qr::aws::default_retry_policy();
    p.sleep = [](auto) {};
    return std::make_unique<qr::aws::S3ObjectStore>(
        qr::aws::Credentials{"S3RVER", "S3RVER", ""}, "us-east-1", addressing,
        qr::aws::make_http_client(addressing.endpoint), p, clock_);
  }

  // A plain client, as the phone's browser would be: only the URL and the listed headers.
  qr::Result<qr::aws::HttpResponse> fetch(std::string method, const std::string& url,
                                          qr::aws::Pairs headers = {}, std::string body = {}) {
    const std::string origin = endpoint().origin();
    EXPECT_EQ(url.rfind(origin, 0), 0u) << url;
    auto http = qr::aws::make_http_client(endpoint());
    return http->send({std::move(method), std::string(boost::urls::url_view(url).encoded_target()),
                       std::move(headers), std::move(body)});
  }

  static std::unique_ptr<PeerProcess> peer_;
  qr::SystemClock clock_;
};

std::unique_ptr<PeerProcess> S3rverTest::peer_;

std::string jpeg_bytes() {
  std::string b = "\xFF\xD8\xFF\xE0";
  b += std::string("\x00\x10JFIF\x00", 8);
  for (int i = 0; i < 5000; ++i) b += static_cast<char>(i * 7);
  return b;
}

TEST_F(S3rverTest, PresignedPutUploadsAndPresignedGetReturnsTheSameBytes) {
  auto s3 = store();
  const std::string key = "session-uploads/0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b/image-1.jpg";
  const std::string bytes = jpeg_bytes();
  auto put = s3->presign_put(key, "image/jpeg", bytes.size(), 300s);
  ASSERT_TRUE(put);
  qr::aws::Pairs headers(put->headers.begin(), put->headers.end());
  auto uploaded = fetch("PUT", put->url, headers, bytes);
  ASSERT_TRUE(uploaded) << uploaded.error().detail;
  EXPECT_EQ(uploaded->status, 200) << uploaded->body;

  auto url = s3->presign_get(key, 60s, "");
  ASSERT_TRUE(url);
  auto got = fetch("GET", *url);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, bytes);
}

TEST_F(S3rverTest, InspectReadsSizeTypeAndOnlyTheFirstBytes) {
  auto s3 = store();
  const std::string key = "session-uploads/x/image 2.jpg";  // a space: encoded once on the wire
  const std::string bytes = jpeg_bytes();
  auto put = s3->presign_put(key, "image/jpeg", std::nullopt, 300s);
  ASSERT_TRUE(put);
  auto uploaded = fetch("PUT", put->url, {{"Content-Type", "image/jpeg"}}, bytes);
  ASSERT_TRUE(uploaded && uploaded->status == 200);

  auto info = s3->inspect(key, 12);
  ASSERT_TRUE(info) << info.error().detail;
  ASSERT_TRUE(info->has_value());
  EXPECT_EQ((*info)->size, bytes.size());
  EXPECT_EQ((*info)->content_type, "image/jpeg");
  EXPECT_EQ((*info)->head, bytes.substr(0, 12));
}

TEST_F(S3rverTest, InspectOfMissingKeyIsEmptyAndRemoveDeletes) {
  auto s3 = store();
  auto none = s3->inspect("session-uploads/none/image-1.jpg", 12);
  ASSERT_TRUE(none) << none.error().detail;
  EXPECT_FALSE(none->has_value());

  const std::string key = "session-uploads/x/image-3.png";
  auto put = s3->presign_put(key, "image/png", std::nullopt, 300s);
  ASSERT_TRUE(put);
  ASSERT_TRUE(fetch("PUT", put->url, {{"Content-Type", "image/png"}}, "\x89PNG\r\n\x1a\n"));
  ASSERT_TRUE(s3->inspect(key, 8)->has_value());
  ASSERT_TRUE(s3->remove(key));
  EXPECT_FALSE(s3->inspect(key, 8)->has_value());
  EXPECT_TRUE(s3->remove(key));  // deleting a missing key succeeds
}

TEST_F(S3rverTest, UnknownAccessKeyIsAnErrorNotAMissingObject) {
  // s3rver checks the access key of a signed request: a refusal must not read as "no object".
  auto addressing = qr::aws::s3_addressing(endpoint(), bucket_name, true);
  qr::aws::S3ObjectStore stranger({"NOTS3RVER", "secret", ""}, "us-east-1", addressing,
                                  qr::aws::make_http_client(addressing.endpoint), {}, clock_);
  auto info = stranger.inspect("session-uploads/x/image-1.jpg", 12);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, qr::ErrorCode::forbidden) << info.error().detail;
}

}  // namespace
