#include <gtest/gtest.h>

#include "core/image_type.hpp"

namespace qr {
namespace {

using namespace std::string_literals;

TEST(ImageType, AllowListMapsToExtensions) {
  EXPECT_EQ(allowed_image_type("image/jpeg")->extension, ".jpg");
  EXPECT_EQ(allowed_image_type("Image/HEIC")->mime, "image/heic");
  EXPECT_FALSE(allowed_image_type("image/svg+xml"));
  EXPECT_FALSE(allowed_image_type("image/*"));
}

TEST(ImageType, SniffsEachAllowedFormat) {
  EXPECT_EQ(sniff_image_type("\xFF\xD8\xFF\xE1"s), "image/jpeg");
  EXPECT_EQ(sniff_image_type("\x89PNG\r\n\x1A\n"s), "image/png");
  EXPECT_EQ(sniff_image_type("GIF89a.."s), "image/gif");
  EXPECT_EQ(sniff_image_type("RIFF\x10\0\0\0WEBPVP8 "s), "image/webp");
  EXPECT_EQ(sniff_image_type("\0\0\0\x18"
                             "ftypheic\0\0\0\0"s),
            "image/heic");
  EXPECT_EQ(sniff_image_type("\0\0\0\x18"
                             "ftypmif1\0\0\0\0"s),
            "image/heif");
  EXPECT_FALSE(
      sniff_image_type("\0\0\0\x18"
                       "ftypisom\0\0\0\0"s))
      << "an MP4 is not an image";
  EXPECT_FALSE(sniff_image_type("<svg xmlns=..."));
  EXPECT_FALSE(sniff_image_type(""));
  EXPECT_FALSE(sniff_image_type("RIFF\x10\0\0\0WAVE"s));
}

TEST(ImageType, HeadMustMatchTheSignedType) {
  EXPECT_TRUE(head_matches_type("image/png", "\x89PNG\r\n\x1A\n"s));
  EXPECT_FALSE(head_matches_type("image/png", "\xFF\xD8\xFF"s));
  EXPECT_TRUE(head_matches_type("image/*", "\xFF\xD8\xFF"s));
  EXPECT_FALSE(head_matches_type("image/*", "hello"));
  EXPECT_TRUE(head_matches_type("image/heif",
                                "\0\0\0\x18"
                                "ftypheic"s));
}

}  // namespace
}  // namespace qr
