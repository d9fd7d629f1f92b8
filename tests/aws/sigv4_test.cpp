// SigV4 details the AWS suite does not cover: dates at the edges of what the clock can hold.

#include <gtest/gtest.h>

#include "aws/sigv4.hpp"

namespace {

using namespace std::chrono_literals;

TEST(SigV4Dates, ParsesAndPrintsTheAmzFormat) {
  const auto t = qr::aws::parse_amz_date("20150830T123600Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(qr::aws::amz_date(*t), "20150830T123600Z");
  EXPECT_FALSE(qr::aws::parse_amz_date("2015-08-30T12:36:00Z"));
  EXPECT_FALSE(qr::aws::parse_amz_date("20150230T123600Z"));
}

TEST(SigV4Dates, AFarFutureDateIsMalformedNotAnOverflow) {
  // Found by fuzz/ (fuzz/known/sigv4-x-amz-date-after-2262): system_clock overflows in 2262.
  EXPECT_TRUE(qr::aws::parse_amz_date("22001231T235959Z"));
  EXPECT_FALSE(qr::aws::parse_amz_date("22620412T000000Z"));
  EXPECT_FALSE(qr::aws::parse_amz_date("51200415T000000Z"));
  const qr::aws::Signer signer({"local", "secret", ""}, "local", "s3");
  qr::aws::SignableRequest received{"PUT",
                                    "/objects/k.jpg",
                                    {{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
                                     {"X-Amz-Credential", "local/51200415/local/s3/aws4_request"},
                                     {"X-Amz-Date", "51200415T000000Z"},
                                     {"X-Amz-Expires", "300"},
                                     {"X-Amz-SignedHeaders", "host"},
                                     {"X-Amz-Signature", std::string(64, '0')}},
                                    {{"host", "10.0.0.2:8080"}}};
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'767'225'600));
  auto verdict = signer.verify_presigned(received, qr::aws::unsigned_payload, now);
  ASSERT_FALSE(verdict);
  EXPECT_EQ(verdict.error().code, qr::ErrorCode::forbidden);
  EXPECT_EQ(verdict.error().detail, "malformed X-Amz-Date");
}

}  // namespace
