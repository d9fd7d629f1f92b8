#include "local/save_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/file_name.hpp"

namespace qr::local {
namespace fs = std::filesystem;

namespace {

// Closes a descriptor when the scope ends.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Error os_error(std::string what) {
  return Error{ErrorCode::internal, what + ": " + std::strerror(errno)};
}

// Copies all of `in` to `out`, in the kernel where it can.
bool copy_all(int in, int out) {
  for (;;) {
    const ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 20, 0);
    if (n == 0) return true;
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) return false;
    // No copy_file_range between these files: plain reads and writes.
    char buffer[1 << 16];
    for (;;) {
      const ssize_t got = ::read(in, buffer, sizeof buffer);
      if (got == 0) return true;
      if (got < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      for (ssize_t done = 0; done < got;) {
        const ssize_t put = ::write(out, buffer + done, static_cast<std::size_t>(got - done));
        if (put < 0) {
          if (errno == EINTR) continue;
          return false;
        }
        done += put;
      }
    }
  }
}

}  // namespace

Result<SaveDir> SaveDir::open(const fs::path& dir) {
  std::error_code ec;
  // The server's own files are private (umask 077); a folder made here for the user gets the
  // usual 0755, while the photos in it stay 0600 (see save()).
  if (fs::create_directories(dir, ec) && !ec)
    fs::permissions(dir,
                    fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                        fs::perms::others_read | fs::perms::others_exec,
                    ec);
  if (ec)
    return fail(ErrorCode::invalid_input, "cannot create " + dir.string() + ": " + ec.message());
  if (!fs::is_directory(dir, ec))
    return fail(ErrorCode::invalid_input, dir.string() + " is not a folder");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return fail(ErrorCode::invalid_input, "cannot write into " + dir.string());
  return SaveDir(fs::absolute(dir, ec));
}

// Gives `from` (a complete file) its name in the folder with link(2), which never replaces a file:
// a name that is taken becomes "name (2).ext"... The path, or an error with link's errno in `err`.
Result<fs::path> SaveDir::name_file(const fs::path& from, std::string_view file_name,
                                    int& err) const {
  for (int attempt = 0; attempt < 10000; ++attempt) {
    const std::string name = unused_name(file_name, [&](std::string_view candidate) {
      std::error_code ec;
      return fs::exists(dir_ / std::string(candidate), ec);
    });
    const fs::path target = dir_ / name;
    if (::link(from.c_str(), target.c_str()) == 0) return target;
    err = errno;
    // Taken between our look and our link (another upload of the same name): look again.
    if (err != EEXIST) return std::unexpected(os_error("cannot name " + target.string()));
  }
  return fail(ErrorCode::internal, "no free name for " + std::string(file_name));
}

Result<fs::path> SaveDir::save(const fs::path& source, std::string_view file_name) const {
  // On the same filesystem the photo is linked, not copied: no second 4 MB write, and as durable
  // as the stored object. It keeps the object's mode (0600: the photos are private to the user).
  int err = 0;
  auto linked = name_file(source, file_name, err);
  if (linked || (err != EXDEV && err != EPERM && err != EMLINK)) return linked;
  Fd in{::open(source.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) return std::unexpected(os_error("cannot read " + source.string()));
  // The temporary name is hidden and unique to this process and call.
  static std::atomic<unsigned> counter{0};
  const fs::path temp = dir_ / (".qr-upload-" + std::to_string(::getpid()) + "-" +
                                std::to_string(counter++) + ".part");
  Fd out{::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)};
  if (out.fd < 0) return std::unexpected(os_error("cannot create a file in " + dir_.string()));
  ::fchmod(out.fd, 0600);
  auto discard = [&](Error e) -> Result<fs::path> {
    ::unlink(temp.c_str());
    return std::unexpected(std::move(e));
  };
  if (!copy_all(in.fd, out.fd)) return discard(os_error("cannot write " + temp.string()));
  if (::fsync(out.fd) != 0) return discard(os_error("cannot flush " + temp.string()));
  auto named = name_file(temp, file_name, err);
  if (!named) return discard(named.error());
  ::unlink(temp.c_str());
  return named;
}

}  // namespace qr::local
