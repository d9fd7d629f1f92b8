#include <gtest/gtest.h>

#include "core/s3_key.hpp"

namespace qr {
namespace {

TEST(S3Key, MakesTheSpecsLayout) {
  EXPECT_EQ(make_upload_key("abc", 1234, "0a0b", ".png"),
            "session-uploads/abc/image-1234-0a0b.png");
  EXPECT_EQ(make_upload_key("abc", 5, "", ""), "session-uploads/abc/image-5");
}

TEST(S3Key, DecodesFormUrlEncoding) {
  EXPECT_EQ(decode_event_key("Happy+Face%21.jpg"), "Happy Face!.jpg");
  EXPECT_EQ(decode_event_key("a%2Bb"), "a+b");
  EXPECT_EQ(decode_event_key("%e2%82%ac"), "\xe2\x82\xac");
  EXPECT_FALSE(decode_event_key("bad%2"));
  EXPECT_FALSE(decode_event_key("bad%"));
  EXPECT_FALSE(decode_event_key("bad%zz"));
}

TEST(S3Key, FindsTheSessionOnlyInTheExactLayout) {
  const std::string id = "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b";
  EXPECT_EQ(session_id_from_key("session-uploads/" + id + "/image-1.png"), id);
  EXPECT_FALSE(session_id_from_key("session-uploads/" + id + "/"));
  EXPECT_FALSE(session_id_from_key("session-uploads/" + id + "/a/b"));
  EXPECT_FALSE(session_id_from_key("session-uploads/" + id));
  EXPECT_FALSE(session_id_from_key("other/" + id + "/x"));
  EXPECT_FALSE(session_id_from_key("session-uploads/../x/y"));
}

}  // namespace
}  // namespace qr
