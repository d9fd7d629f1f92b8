#include "local/disk_object_store.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <system_error>

#include "core/file_name.hpp"
#include "core/s3_key.hpp"
#include "crypto/crypto.hpp"

namespace qr::local {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view access_key = "qr-upload-local";

bool plain_file_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.size() > 128) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'))
      return false;
  return true;
}

// The secret is made once and kept, so URLs stay valid across restarts.
Result<std::string> load_or_create_secret(const fs::path& file) {
  if (std::ifstream in(file); in) {
    std::string secret;
    std::getline(in, secret);
    if (secret.size() >= 32) return secret;
    return fail(ErrorCode::internal,
                file.string() + " is not a valid secret; delete it to make a new one");
  }
  unsigned char bytes[32];
  crypto::OsRandom().fill(std::as_writable_bytes(std::span(bytes)));
  const std::string secret = crypto::hex(bytes);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0)
    return fail(ErrorCode::internal,
                "cannot create " + file.string() + ": " + std::strerror(errno));
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return fail(ErrorCode::internal, "cannot write " + file.string());
  return secret;
}

std::string host_of(std::string_view url) {
  auto start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  const auto end = url.find('/', start);
  return std::string(url.substr(start, end == std::string_view::npos ? url.npos : end - start));
}

}  // namespace

Result<std::unique_ptr<DiskObjectStore>> DiskObjectStore::open(const fs::path& data_dir,
                                                               std::string public_url,
                                                               Clock& clock) {
  std::error_code ec;
  const fs::path root = data_dir / "objects";
  const fs::path tmp = data_dir / "tmp";
  for (const auto& dir : {root, tmp}) {
    fs::create_directories(dir, ec);
    if (ec) return fail(ErrorCode::internal, "cannot create " + dir.string() + ": " + ec.message());
    // Photos are the user's own: no other local account may list or read them, whatever the umask.
    fs::permissions(dir, fs::perms::owner_all, ec);
    if (ec) return fail(ErrorCode::internal, "cannot chmod " + dir.string() + ": " + ec.message());
  }
  // Leftovers of uploads cut off by a crash or kill never became objects: remove them.
  for (const auto& entry : fs::directory_iterator(tmp, ec)) fs::remove(entry.path(), ec);
  auto secret = load_or_create_secret(data_dir / "secret");
  if (!secret) return std::unexpected(secret.error());
  while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  const std::string host = host_of(public_url);
  return std::unique_ptr<DiskObjectStore>(
      new DiskObjectStore(root, tmp, std::move(public_url), host, std::move(*secret), clock));
}

DiskObjectStore::DiskObjectStore(fs::path root, fs::path tmp, std::string public_url,
                                 std::string host, std::string secret, Clock& clock)
    : root_(std::move(root)),
      tmp_(std::move(tmp)),
      public_url_(std::move(public_url)),
      host_(std::move(host)),
      signer_({std::string(access_key), std::move(secret), ""}, "local", "s3"),
      clock_(clock) {}

std::optional<fs::path> DiskObjectStore::path_for(std::string_view key) const {
  const auto session_id = session_id_from_key(key);
  if (!session_id) return std::nullopt;
  const std::string_view name = key.substr(key.rfind('/') + 1);
  if (!plain_file_name(name)) return std::nullopt;
  return root_ / "session-uploads" / *session_id / std::string(name);
}

aws::SignableRequest DiskObjectStore::request_for(std::string method, std::string_view key) const {
  // Keys are of the upload layout (checked by the callers), so they need no percent-encoding.
  return aws::SignableRequest{
      std::move(method), std::string(url_prefix) + std::string(key), {}, {{"host", host_}}};
}

Result<PresignedRequest> DiskObjectStore::presign_put(std::string_view key,
                                                      std::string_view content_type,
                                                      std::optional<std::uint64_t> content_length,
                                                      std::chrono::seconds expires_in) {
  if (!path_for(key)) return fail(ErrorCode::invalid_input, "key outside the upload layout");
  auto request = request_for("PUT", key);
  request.headers.emplace_back("content-type", std::string(content_type));
  PresignedRequest out;
  out.method = "PUT";
  out.headers["Content-Type"] = std::string(content_type);
  if (content_length) {
    request.headers.emplace_back("content-length", std::to_string(*content_length));
    out.headers["Content-Length"] = std::to_string(*content_length);
  }
  const auto signature = signer_.presign(request, aws::unsigned_payload, expires_in, clock_.now());
  out.url = public_url_ + request.path + "?" + signature.query_string;
  return out;
}

Result<std::string> DiskObjectStore::presign_get(std::string_view key,
                                                 std::chrono::seconds expires_in,
                                                 std::string_view download_name) {
  if (!path_for(key)) return fail(ErrorCode::invalid_input, "key outside the upload layout");
  auto request = request_for("GET", key);
  // As S3 does: the signed query names the Content-Disposition the download answers with.
  if (!download_name.empty())
    request.query.emplace_back("response-content-disposition", content_disposition(download_name));
  const auto signature = signer_.presign(request, aws::unsigned_payload, expires_in, clock_.now());
  return public_url_ + request.path + "?" + signature.query_string;
}

Result<std::optional<ObjectInfo>> DiskObjectStore::inspect(std::string_view key,
                                                           std::size_t head_bytes) {
  const auto path = path_for(key);
  if (!path) return fail(ErrorCode::invalid_input, "key outside the upload layout");
  std::ifstream in(*path, std::ios::binary);
  if (!in) return std::optional<ObjectInfo>{};
  ObjectInfo info;
  std::error_code ec;
  info.size = fs::file_size(*path, ec);
  if (ec) return fail(ErrorCode::internal, "stat " + path->string() + ": " + ec.message());
  info.head.resize(head_bytes);
  in.read(info.head.data(), static_cast<std::streamsize>(head_bytes));
  info.head.resize(static_cast<std::size_t>(in.gcount()));
  return std::optional<ObjectInfo>{std::move(info)};
}

Result<void> DiskObjectStore::remove(std::string_view key) {
  const auto path = path_for(key);
  if (!path) return fail(ErrorCode::invalid_input, "key outside the upload layout");
  std::error_code ec;
  fs::remove(*path, ec);
  if (ec) return fail(ErrorCode::internal, "remove " + path->string() + ": " + ec.message());
  fs::remove(*preview_path_for(key), ec);
  return {};
}

std::optional<fs::path> DiskObjectStore::preview_path_for(std::string_view key) const {
  const auto path = path_for(key);
  if (!path) return std::nullopt;
  return fs::path(path->string() + std::string(preview_suffix));
}

std::optional<std::string> DiskObjectStore::preview_url(std::string_view key,
                                                        std::chrono::seconds expires_in) {
  const auto preview = preview_path_for(key);
  std::error_code ec;
  if (!preview || !fs::exists(*preview, ec)) return std::nullopt;
  auto url = presign_get(std::string(key) + std::string(preview_suffix), expires_in, "");
  if (!url) return std::nullopt;
  return *url;
}

Result<void> DiskObjectStore::verify(const aws::SignableRequest& received) const {
  return signer_.verify_presigned(received, aws::unsigned_payload, clock_.now());
}

fs::path DiskObjectStore::temp_path() const {
  static std::atomic<unsigned> counter{0};
  unsigned char bytes[8];
  crypto::OsRandom().fill(std::as_writable_bytes(std::span(bytes)));
  return tmp_ / (crypto::hex(bytes) + "-" + std::to_string(counter++) + ".part");
}

Result<void> DiskObjectStore::commit(const fs::path& temp, std::string_view key) {
  const auto path = path_for(key);
  if (!path) return fail(ErrorCode::invalid_input, "key outside the upload layout");
  std::error_code ec;
  fs::create_directories(path->parent_path(), ec);
  if (ec)
    return fail(ErrorCode::internal, "mkdir " + path->parent_path().string() + ": " + ec.message());
  // Private whatever the umask: the session's folder 0700, the photo 0600.
  fs::permissions(path->parent_path(), fs::perms::owner_all, ec);
  fs::permissions(temp, fs::perms::owner_read | fs::perms::owner_write, ec);
  // link() then unlink(): atomic like rename(), but never replaces an existing object.
  if (::link(temp.c_str(), path->c_str()) != 0) {
    const int err = errno;
    if (err == EEXIST) return fail(ErrorCode::already_exists, path->string());
    return fail(ErrorCode::internal, "link into " + path->string() + ": " + std::strerror(err));
  }
  fs::remove(temp, ec);
  return {};
}

void DiskObjectStore::remove_session(std::string_view session_id) {
  std::error_code ec;
  fs::remove_all(root_ / "session-uploads" / std::string(session_id), ec);
}

void DiskObjectStore::limit_space(std::uint64_t quota_bytes, std::uint64_t min_free_bytes) {
  std::lock_guard lock(space_mutex_);
  quota_bytes_ = quota_bytes;
  min_free_bytes_ = min_free_bytes;
  counted_at_ = {};
}

Result<void> DiskObjectStore::check_space(std::uint64_t bytes) {
  std::lock_guard lock(space_mutex_);
  if (quota_bytes_ == 0 && min_free_bytes_ == 0) return {};
  const auto now = std::chrono::steady_clock::now();
  // Counting walks the objects: at most once a second. What was let in meanwhile is added, so a
  // burst of uploads cannot each see the same room.
  if (quota_bytes_ != 0 && now - counted_at_ >= std::chrono::seconds(1)) {
    std::uint64_t used = 0;
    std::error_code ec;
    for (const auto& dir : {root_, tmp_})
      for (auto it = fs::recursive_directory_iterator(dir, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (std::error_code size_ec; it->is_regular_file(size_ec)) used += it->file_size(size_ec);
    used_bytes_ = used;
    granted_bytes_ = 0;
    counted_at_ = now;
  }
  if (quota_bytes_ != 0 && used_bytes_ + granted_bytes_ + bytes > quota_bytes_)
    return fail(ErrorCode::unavailable,
                "photo quota reached: " + std::to_string(used_bytes_ + granted_bytes_) + " of " +
                    std::to_string(quota_bytes_) + " bytes used, " + std::to_string(bytes) +
                    " more asked");
  if (min_free_bytes_ != 0) {
    struct statvfs vfs {};
    if (::statvfs(root_.c_str(), &vfs) != 0)
      return fail(ErrorCode::internal, "statvfs " + root_.string() + ": " + std::strerror(errno));
    const std::uint64_t free = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (free < bytes || free - bytes < min_free_bytes_)
      return fail(ErrorCode::unavailable, "disk nearly full: " + std::to_string(free) +
                                              " bytes free, " + std::to_string(bytes) +
                                              " more asked, " + std::to_string(min_free_bytes_) +
                                              " kept free");
  }
  granted_bytes_ += bytes;
  return {};
}

}  // namespace qr::local
