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
  // The server's own files are private (umask 077); this folder is the user's, so what is made
  // here gets the usual modes: a folder 0755, photos 0644, as a file manager would make them.
  if (fs::create_directories(dir, ec) && !ec)
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec,
                    ec);
  if (ec) return fail(ErrorCode::invalid_input, "cannot create " + dir.string() + ": " + ec.message());
  if (!fs::is_directory(dir, ec))
    return fail(ErrorCode::invalid_input, dir.string() + " is not a folder");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return fail(ErrorCode::invalid_input, "cannot write into " + dir.string());
  return SaveDir(fs::absolute(dir, ec));
}

Result<fs::path> SaveDir::save(const fs::path& source, std::string_view file_name) const {
  Fd in{::open(source.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) return std::unexpected(os_error("cannot read " + source.string()));
  // The temporary name is hidden and unique to this process and call.
  static std::atomic<unsigned> counter{0};
  const fs::path temp = dir_ / (".qr-upload-" + std::to_string(::getpid()) + "-" +
                                std::to_string(counter++) + ".part");
  Fd out{::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)};
  if (out.fd < 0) return std::unexpected(os_error("cannot create a file in " + dir_.string()));
  ::fchmod(out.fd, 0644);
  auto discard = [&](Error e) -> Result<fs::path> {
    ::unlink(temp.c_str());
    return std::unexpected(std::move(e));
  };
  if (!copy_all(in.fd, out.fd)) return discard(os_error("cannot write " + temp.string()));
  if (::fsync(out.fd) != 0) return discard(os_error("cannot flush " + temp.string()));
  for (int attempt = 0; attempt < 10000; ++attempt) {
    const std::string name = unused_name(file_name, [&](std::string_view candidate) {
      std::error_code ec;
      return fs::exists(dir_ / std::string(candidate), ec);
    });
    const fs::path target = dir_ / name;
    if (::link(temp.c_str(), target.c_str()) == 0) {
      ::unlink(temp.c_str());
      return target;
    }
    // Taken between our look and our link (another upload of the same name): look again.
    if (errno != EEXIST) return discard(os_error("cannot name " + target.string()));
  }
  return discard(Error{ErrorCode::internal, "no free name for " + std::string(file_name)});
}

}  // namespace qr::local
