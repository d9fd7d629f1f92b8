#pragma once
// `--save-dir`: every accepted photo is also written into a folder of the user's, under its
// original name, atomically and never over another file.

#include <filesystem>
#include <string_view>

#include "core/error.hpp"

namespace qr::local {

/// A folder photos are saved into.
class SaveDir {
 public:
  /// Uses `dir`, creating it if needed; a clear error when it cannot be written.
  static Result<SaveDir> open(const std::filesystem::path& dir);

  /// Puts `source` (a complete file) into the folder as `file_name` (already sanitised: no path in
  /// it): a hard link on the same filesystem, otherwise a copy into a hidden temporary file that
  /// is flushed before it gets its name. Names are given with link(2), which never replaces a
  /// file: a name that is taken becomes "name (2).ext", "name (3).ext"... Returns the path
  /// written. Nothing is left behind on failure.
  Result<std::filesystem::path> save(const std::filesystem::path& source,
                                     std::string_view file_name) const;

  const std::filesystem::path& path() const { return dir_; }

 private:
  explicit SaveDir(std::filesystem::path dir) : dir_(std::move(dir)) {}
  Result<std::filesystem::path> name_file(const std::filesystem::path& from,
                                          std::string_view file_name, int& err) const;
  std::filesystem::path dir_;
};

}  // namespace qr::local
