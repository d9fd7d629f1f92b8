// The disk ObjectStore: keys cannot leave the objects directory, and its signed URLs bind
// method, key, content type and time.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "local/disk_object_store.hpp"
#include "support/fakes.hpp"

namespace qr::local {
namespace {

namespace fs = std::filesystem;

const std::string id = "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b";
const std::string key = "session-uploads/" + id + "/image-1-ab.png";

class DiskObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = fs::temp_directory_path() /
           ("qr-disk-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::remove_all(dir_);
    auto opened = DiskObjectStore::open(dir_, "http://192.168.1.9:8080/", clock_);
    ASSERT_TRUE(opened) << opened.error().detail;
    store_ = std::move(*opened);
  }

  // The request a client makes from a presigned URL, with the given headers.
  aws::SignableRequest as_received(const std::string& method, const std::string& url,
                                   aws::Pairs headers) {
    const auto path_start = url.find('/', url.find("://") + 3);
    const auto q = url.find('?');
    aws::SignableRequest r{method, url.substr(path_start, q - path_start),
                           aws::parse_query(url.substr(q + 1)), std::move(headers)};
    r.headers.emplace_back("host", "192.168.1.9:8080");
    return r;
  }

  void write_object(const std::string& bytes) {
    const auto temp = store_->temp_path();
    std::ofstream(temp, std::ios::binary) << bytes;
    ASSERT_TRUE(store_->commit(temp, key));
  }

  fs::path dir_;
  testing::FakeClock clock_;
  std::unique_ptr<DiskObjectStore> store_;
};

TEST_F(DiskObjectStoreTest, OnlyUploadLayoutKeysMapToFilesInsideTheObjectsDirectory) {
  ASSERT_TRUE(store_->path_for(key));
  EXPECT_EQ(store_->path_for(key)->parent_path().parent_path().parent_path(), dir_ / "objects");
  for (const std::string& bad : std::vector<std::string>{
           "../secret", "session-uploads/../../secret",
           "session-uploads/" + id + "/../../../secret", "session-uploads/" + id + "/..",
           "session-uploads/" + id + "/.hidden", "session-uploads/" + id + "/a/b",
           "session-uploads/not-a-uuid/x", "/etc/passwd", "session-uploads/" + id + "/a%2Fb",
           "session-uploads/" + id + "/a\\b", ""})
    EXPECT_FALSE(store_->path_for(bad)) << bad;
}

TEST_F(DiskObjectStoreTest, PresignedPutVerifiesOnlyWithTheSignedMethodKeyAndContentType) {
  auto put = store_->presign_put(key, "image/png", std::nullopt, std::chrono::seconds(300));
  ASSERT_TRUE(put);
  EXPECT_TRUE(put->url.starts_with("http://192.168.1.9:8080/objects/" + key + "?"));
  EXPECT_EQ(put->headers.at("Content-Type"), "image/png");
  EXPECT_TRUE(store_->verify(as_received("PUT", put->url, {{"content-type", "image/png"}})));

  auto wrong_type = store_->verify(as_received("PUT", put->url, {{"content-type", "image/jpeg"}}));
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().code, ErrorCode::forbidden);
  EXPECT_FALSE(store_->verify(as_received("PUT", put->url, {})));
  EXPECT_FALSE(store_->verify(as_received("GET", put->url, {{"content-type", "image/png"}})));
  std::string other_key = put->url;
  other_key.replace(other_key.find("image-1-ab"), 10, "image-2-ab");
  EXPECT_FALSE(store_->verify(as_received("PUT", other_key, {{"content-type", "image/png"}})));
  std::string tampered = put->url;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_FALSE(store_->verify(as_received("PUT", tampered, {{"content-type", "image/png"}})));
}

TEST_F(DiskObjectStoreTest, PresignedUrlsExpire) {
  auto put = store_->presign_put(key, "image/png", std::nullopt, std::chrono::seconds(300));
  ASSERT_TRUE(put);
  clock_.advance(std::chrono::seconds(299));
  EXPECT_TRUE(store_->verify(as_received("PUT", put->url, {{"content-type", "image/png"}})));
  clock_.advance(std::chrono::seconds(2));
  auto expired = store_->verify(as_received("PUT", put->url, {{"content-type", "image/png"}}));
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, ErrorCode::forbidden);
}

TEST_F(DiskObjectStoreTest, SignedContentLengthIsEnforced) {
  auto put = store_->presign_put(key, "image/png", 1234, std::chrono::seconds(300));
  ASSERT_TRUE(put);
  EXPECT_TRUE(store_->verify(
      as_received("PUT", put->url, {{"content-type", "image/png"}, {"content-length", "1234"}})));
  EXPECT_FALSE(store_->verify(
      as_received("PUT", put->url, {{"content-type", "image/png"}, {"content-length", "99999"}})));
}

TEST_F(DiskObjectStoreTest, SignaturesSurviveARestartBecauseTheSecretIsKept) {
  auto get = store_->presign_get(key, std::chrono::seconds(900), "");
  ASSERT_TRUE(get);
  const auto secret_file = dir_ / "secret";
  ASSERT_TRUE(fs::exists(secret_file));
  EXPECT_EQ(fs::status(secret_file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  auto reopened = DiskObjectStore::open(dir_, "http://192.168.1.9:8080", clock_);
  ASSERT_TRUE(reopened);
  EXPECT_TRUE((*reopened)->verify(as_received("GET", *get, {})));
}

TEST_F(DiskObjectStoreTest, CommitInspectAndRemove) {
  EXPECT_FALSE(store_->inspect(key, 8)->has_value());
  write_object("\x89PNG\r\n\x1A\nrest-of-file");
  auto info = store_->inspect(key, 8);
  ASSERT_TRUE(info && info->has_value());
  EXPECT_EQ((*info)->size, 20u);
  EXPECT_EQ((*info)->head, "\x89PNG\r\n\x1A\n");
  ASSERT_TRUE(store_->remove(key));
  EXPECT_FALSE(store_->inspect(key, 8)->has_value());
  EXPECT_TRUE(store_->remove(key)) << "removing a missing object succeeds";
}

TEST_F(DiskObjectStoreTest, LeftoverTemporaryFilesAreClearedAtOpen) {
  const auto temp = store_->temp_path();
  std::ofstream(temp) << "partial";
  ASSERT_TRUE(fs::exists(temp));
  auto reopened = DiskObjectStore::open(dir_, "http://x:1", clock_);
  ASSERT_TRUE(reopened);
  EXPECT_FALSE(fs::exists(temp));
}

}  // namespace
}  // namespace qr::local

namespace qr::local {
namespace {

TEST_F(DiskObjectStoreTest, ObjectsAreWriteOnce) {
  write_object("\x89PNG\r\n\x1A\nfirst");
  const auto temp = store_->temp_path();
  std::ofstream(temp, std::ios::binary) << "second";
  auto again = store_->commit(temp, key);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::already_exists);
  EXPECT_EQ((**store_->inspect(key, 64)).head, "\x89PNG\r\n\x1A\nfirst");
}

}  // namespace
}  // namespace qr::local
