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

// ALLOWED_CONTENT_TYPES: the AWS stack's AllowedContentTypes, a subset of the known types.
TEST(AllowedImageTypes, DefaultsToEveryKnownTypeTheStacksDefaultList) {
  const AllowedImageTypes all;
  EXPECT_EQ(all.joined(),
            "image/jpeg,image/png,image/gif,image/webp,image/heic,image/heif,image/avif");
  EXPECT_EQ(all.types().size(), known_image_types().size());
  EXPECT_EQ(all.find("IMAGE/AVIF")->extension, ".avif");
  auto parsed = AllowedImageTypes::parse(all.joined());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->joined(), all.joined());
}

TEST(AllowedImageTypes, ParsesASubsetInTheOrderGiven) {
  auto two = AllowedImageTypes::parse(" image/png , Image/JPEG,image/png,");
  ASSERT_TRUE(two) << two.error().detail;
  EXPECT_EQ(two->joined(), "image/png,image/jpeg");
  EXPECT_EQ(two->find("image/jpeg")->extension, ".jpg");
  EXPECT_FALSE(two->find("image/gif"));
  EXPECT_FALSE(two->find("image/*"));
}

TEST(AllowedImageTypes, RefusesTypesTheCheckCannotRecogniseAndAnEmptyList) {
  for (std::string_view bad : {"image/jpeg,text/html", "image/svg+xml", "image/*", "jpeg"}) {
    auto parsed = AllowedImageTypes::parse(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::invalid_input);
    EXPECT_NE(parsed.error().detail.find("unsupported image type"), std::string::npos);
  }
  for (std::string_view empty : {"", " ", ",", " , "}) {
    auto parsed = AllowedImageTypes::parse(empty);
    ASSERT_FALSE(parsed) << "'" << empty << "'";
    EXPECT_EQ(parsed.error().detail, "no image type given");
  }
}

}  // namespace
}  // namespace qr
