// The original names of photos: every sanitising rule of the multi-photo issue, one case each.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/file_name.hpp"

namespace qr {
namespace {

TEST(FileName, KeepsAnOrdinaryNameAsItIs) {
  EXPECT_EQ(sanitize_file_name("IMG_4821.JPG"), "IMG_4821.JPG");
  EXPECT_EQ(sanitize_file_name("Sommer am See (1).jpeg"), "Sommer am See (1).jpeg");
}

TEST(FileName, KeepsOnlyTheLastPathComponent) {
  EXPECT_EQ(sanitize_file_name("../../etc/passwd"), "passwd");
  EXPECT_EQ(sanitize_file_name("C:\\Users\\me\\DCIM\\IMG_1.jpg"), "IMG_1.jpg");
  EXPECT_EQ(sanitize_file_name("/"), "photo");
  EXPECT_EQ(sanitize_file_name(".."), "photo");
  EXPECT_EQ(sanitize_file_name("a/.."), "photo");
}

TEST(FileName, DropsControlCharactersAndNul) {
  EXPECT_EQ(sanitize_file_name(std::string("IMG\0_1.jpg", 10)), "IMG_1.jpg");
  EXPECT_EQ(sanitize_file_name("IMG\r\n\t_1\x7f.jpg"), "IMG_1.jpg");
  EXPECT_EQ(sanitize_file_name("IMG\xc2\x85_1.jpg"), "IMG_1.jpg") << "C1 control U+0085";
}

TEST(FileName, DropsBidiControlsSoANameCannotDisguiseItsExtension) {
  // "photo<RLO>gpj.exe" shows as "photoexe.jpg" in a right-to-left override.
  EXPECT_EQ(sanitize_file_name("photo\u202Egpj.exe"), "photogpj.exe");
  EXPECT_EQ(sanitize_file_name("a\u2066b\u2069\u200Ec\u200F\u061C\uFEFF.png"), "abc.png");
}

TEST(FileName, KeepsEmojiAndOtherScriptsButNotBrokenUtf8) {
  EXPECT_EQ(sanitize_file_name("\xF0\x9F\x93\xB7 Urlaub 日本.heic"),
            "\xF0\x9F\x93\xB7 Urlaub 日本.heic");
  EXPECT_EQ(sanitize_file_name("bad\xff\xfe name\xc3.jpg"), "bad name.jpg");
  EXPECT_EQ(sanitize_file_name("\xed\xa0\x80x.jpg"), "x.jpg") << "a UTF-16 surrogate";
  EXPECT_EQ(sanitize_file_name("\xc0\xafx.jpg"), "x.jpg") << "an overlong '/'";
}

TEST(FileName, AnEmptyOrDotOnlyNameBecomesPhoto) {
  EXPECT_EQ(sanitize_file_name(""), "photo");
  EXPECT_EQ(sanitize_file_name("   "), "photo");
  EXPECT_EQ(sanitize_file_name("..."), "photo");
  EXPECT_EQ(sanitize_file_name(".jpg"), "jpg") << "a leading dot is trimmed (no hidden files)";
  EXPECT_EQ(sanitize_file_name(" .hidden.png "), "hidden.png");
  EXPECT_EQ(sanitize_file_name("\u202E"), "photo");
}

TEST(FileName, LongNamesAreCutOnACharacterBoundaryKeepingTheExtension) {
  const std::string thousand(1000, 'a');
  const std::string cut = sanitize_file_name(thousand + ".jpg");
  EXPECT_EQ(cut.size(), max_file_name_bytes);
  EXPECT_TRUE(cut.ends_with("a.jpg"));
  std::string umlauts;
  for (int i = 0; i < 500; ++i) umlauts += "\xC3\xBC";  // ü, two bytes each
  const std::string cut_utf8 = sanitize_file_name(umlauts + ".png");
  EXPECT_LE(cut_utf8.size(), max_file_name_bytes);
  EXPECT_TRUE(cut_utf8.ends_with("\xC3\xBC.png")) << "no half character before the extension";
  EXPECT_EQ(sanitize_file_name(std::string(1000, 'b')).size(), max_file_name_bytes);
}

TEST(FileName, TheExtensionFollowsTheCheckedType) {
  EXPECT_EQ(name_for_type("IMG_1.png", "image/jpeg"), "IMG_1.jpg") << "another image type's";
  EXPECT_EQ(name_for_type("IMG_4821.JPG", "image/jpeg"), "IMG_4821.JPG") << "as written";
  EXPECT_EQ(name_for_type("scan.jpeg", "image/jpeg"), "scan.jpeg");
  EXPECT_EQ(name_for_type("photo", "image/png"), "photo.png");
  EXPECT_EQ(name_for_type("notes.final", "image/webp"), "notes.final.webp");
  EXPECT_EQ(name_for_type("IMG_9.HEIC", "image/heif"), "IMG_9.HEIC") << "one container";
  EXPECT_EQ(name_for_type("x.exe", "image/gif"), "x.exe.gif");
  EXPECT_EQ(name_for_type("pic.gif", "image/avif"), "pic.avif");
  EXPECT_EQ(name_for_type("pic.gif", "application/pdf"), "pic.gif") << "not an image type";
}

TEST(FileName, ContentDispositionCarriesTheNameForEveryBrowser) {
  EXPECT_EQ(content_disposition("IMG_4821.JPG"),
            "attachment; filename=\"IMG_4821.JPG\"; filename*=UTF-8''IMG_4821.JPG");
  EXPECT_EQ(content_disposition("Übung \"1\";x.jpg"),
            "attachment; filename=\"_bung _1__x.jpg\"; "
            "filename*=UTF-8''%C3%9Cbung%20%221%22%3Bx.jpg");
}

TEST(FileName, UnusedNameCountsUpBeforeTheExtension) {
  std::set<std::string> taken{"IMG_1.JPG", "IMG_1 (2).JPG", "photo"};
  auto exists = [&](std::string_view n) { return taken.contains(std::string(n)); };
  EXPECT_EQ(unused_name("new.jpg", exists), "new.jpg");
  EXPECT_EQ(unused_name("IMG_1.JPG", exists), "IMG_1 (3).JPG");
  EXPECT_EQ(unused_name("photo", exists), "photo (2)");
}

}  // namespace
}  // namespace qr
