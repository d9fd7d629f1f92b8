#pragma once
// A fresh, empty directory under the system's temporary directory, one per call, for tests that
// need real files (SQLite databases, photos on disk).

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <string_view>

namespace qr::testing {

/// <tmp>/<prefix>-<pid>-<n>, emptied and created.
inline std::filesystem::path fresh_temp_dir(std::string_view prefix) {
  static std::atomic<int> n{0};
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      (std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace qr::testing
