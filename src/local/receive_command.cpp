#include "local/receive_command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "core/log.hpp"
#include "local/server_options.hpp"
#include "local/terminal_qr.hpp"

namespace qr::local {
namespace json = boost::json;
namespace fs = std::filesystem;

const char* const receive_usage = R"(usage: qr-upload receive [DIR] [options]

Receives photos from a phone into DIR (default: the current directory). Scan the QR code it
prints with the phone, pick photos, send: each lands in DIR under its own name (never over
another file) and gets a line here. Ends after --count photos, on Ctrl-C, or after --timeout.

options:
  --count N              stop after N photos (1 to 100; the session takes at most N)
  --timeout SECONDS      stop after this long
  --invert               light modules on dark, for the rare scanner that wants it
  --log-file FILE        write the server's JSON logs here (default: nowhere)
  --verbose              write them to stderr instead
and the server's settings (the port defaults to a free one; data under ~/.local/state):
)";

namespace {

std::string human_size(std::int64_t bytes) {
  char text[32];
  if (bytes < 1024) return std::to_string(bytes) + " B";
  if (bytes < 1024 * 1024)
    std::snprintf(text, sizeof text, "%.1f KB", static_cast<double>(bytes) / 1024);
  else
    std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

std::string text_of(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

fs::path default_data_dir() {
  if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state)
    return fs::path(state) / "qr-upload" / "receive";
  if (const char* home = std::getenv("HOME"); home && *home)
    return fs::path(home) / ".local" / "state" / "qr-upload" / "receive";
  return fs::temp_directory_path() / ("qr-upload-receive-" + std::to_string(::getuid()));
}

// What the terminal shows, fed by the in-process desktop's messages (on an I/O thread).
class Progress {
 public:
  explicit Progress(int wanted) : wanted_(wanted) {}

  void on_message(std::string_view text) {
    boost::system::error_code ec;
    const auto parsed = json::parse(text, ec);
    if (ec || !parsed.is_object()) return;
    const auto& m = parsed.get_object();
    const std::string action = text_of(m, "action");
    std::lock_guard lock(mutex_);
    if (action == "PHONE_CONNECTED") {
      say("Phone connected. Waiting for photos...\n");
    } else if (action == "UPLOAD_COMPLETED") {
      const auto* size = m.if_contains("size");
      sizes_[text_of(m, "uploadKey")] = size && size->is_int64() ? size->get_int64() : 0;
    } else if (action == "UPLOAD_SAVED") {
      const std::int64_t size = sizes_[text_of(m, "uploadKey")];
      ++received_;
      bytes_ += size;
      if (const std::string error = text_of(m, "error"); !error.empty())
        say("  ! " + text_of(m, "fileName") + "  " + human_size(size) + "  NOT saved: " + error +
            "\n");
      else
        say("  " + text_of(m, "fileName") + "  " + human_size(size) + "  -> " +
            text_of(m, "savedAs") + "\n");
      if (wanted_ > 0 && received_ >= wanted_) finish();
    } else if (action == "ERROR") {
      const std::string name = text_of(m, "fileName");
      say("  x " + (name.empty() ? std::string("a photo") : name) + ": " + text_of(m, "error") +
          "\n");
    }
  }

  /// Waits until the count is reached, the timeout passes (0: none) or stop() is called.
  void wait(std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    auto done = [&] { return finished_; };
    if (timeout.count() > 0) {
      if (!done_.wait_for(lock, timeout, done)) timed_out_ = true;
    } else {
      done_.wait(lock, done);
    }
  }
  void stop() {
    std::lock_guard lock(mutex_);
    finish();
  }
  int received() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  std::int64_t bytes() {
    std::lock_guard lock(mutex_);
    return bytes_;
  }
  bool timed_out() {
    std::lock_guard lock(mutex_);
    return timed_out_;
  }

 private:
  void say(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }
  void finish() {
    finished_ = true;
    done_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable done_;
  const int wanted_;
  int received_ = 0;
  std::int64_t bytes_ = 0;
  bool finished_ = false;
  bool timed_out_ = false;
  std::map<std::string, std::int64_t> sizes_;
};

}  // namespace

int receive_command(std::span<char* const> args) {
  int count = 0;
  long timeout = 0;
  bool invert = false, verbose = false;
  std::string log_file;
  const ExtraFlag own[] = {
      {"--count", true,
       [&](std::string_view v) -> std::optional<std::string> {
         count = std::atoi(std::string(v).c_str());
         if (count < 1 || count > 100 || std::to_string(count) != v)
           return "--count must be a number from 1 to 100";
         return std::nullopt;
       }},
      {"--timeout", true,
       [&](std::string_view v) -> std::optional<std::string> {
         timeout = std::atol(std::string(v).c_str());
         if (timeout < 1 || std::to_string(timeout) != v)
           return "--timeout must be a positive number of seconds";
         return std::nullopt;
       }},
      {"--invert", false,
       [&](std::string_view) -> std::optional<std::string> {
         invert = true;
         return std::nullopt;
       }},
      {"--verbose", false,
       [&](std::string_view) -> std::optional<std::string> {
         verbose = true;
         return std::nullopt;
       }},
      {"--log-file", true,
       [&](std::string_view v) -> std::optional<std::string> {
         log_file = v;
         return std::nullopt;
       }},
  };
  ServerOptions defaults;
  defaults.port = 0;
  defaults.web_dir = default_web_dir();
  defaults.data_dir = default_data_dir();
  auto line = parse_command_line(args, defaults, own, 1);
  if (!line) {
    std::fprintf(stderr, "qr-upload: %s\n", line.error().detail.c_str());
    return 2;
  }
  if (line->help) {
    std::fputs(receive_usage, stdout);
    std::fputs(server_options_help, stdout);
    return 0;
  }
  ServerOptions options = line->options;
  options.save_dir = line->positional.empty() ? fs::path(".") : fs::path(line->positional[0]);

  // This terminal is for people: the JSON logs go to a file, to stderr when asked, or nowhere.
  if (!log_file.empty()) {
    const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
      std::fprintf(stderr, "qr-upload: cannot write %s\n", log_file.c_str());
      return 2;
    }
    Logger::set_default_output(fd);
  } else {
    Logger::set_default_output(verbose ? STDERR_FILENO : -1);
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto server = Server::start(options);
  if (!server) {
    std::fprintf(stderr, "qr-upload: %s\n", server.error().detail.c_str());
    return 2;
  }
  const int wanted = count > 0 ? count : 100;
  Progress progress(count);
  auto desktop =
      (*server)->open_desktop(wanted, [&](std::string_view m) { progress.on_message(m); });
  if (!desktop) {
    std::fprintf(stderr, "qr-upload: %s\n", desktop.error().detail.c_str());
    return 1;
  }
  std::error_code ec;
  const fs::path folder = fs::absolute(options.save_dir, ec);
  std::string banner = "\nScan this with your phone to send photos to " + folder.string() + ":\n\n";
  banner += render_terminal_qr(qr_modules(desktop->phone_url), invert);
  banner += "\n  " + desktop->phone_url + "\n\n";
  // Typed into the phone's address bar without the scheme, as the desktop page shows it.
  const auto scheme_end = desktop->short_link.find("://");
  banner += "No camera? On the phone, open " +
            desktop->short_link.substr(scheme_end == std::string::npos ? 0 : scheme_end + 3) +
            "\n\nThe phone must be on the same network. ";
  banner += count > 0 ? "Waiting for " + std::to_string(count) + " photo" + (count > 1 ? "s" : "") +
                            "; Ctrl-C to stop.\n\n"
                      : std::string("Ctrl-C to stop.\n\n");
  std::fwrite(banner.data(), 1, banner.size(), stdout);
  std::fflush(stdout);

  std::thread signal_waiter([&progress, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    progress.stop();
  });
  std::thread io([&] { (*server)->run(); });
  progress.wait(std::chrono::seconds(timeout));
  // The last photo's answer to the phone is written after the line above was printed: give the
  // connection a moment to deliver it before the server stops.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  (*server)->stop();
  io.join();
  ::kill(::getpid(), SIGTERM);  // ends the signal waiter (the signal is blocked, sigwait takes it)
  signal_waiter.join();

  const int received = progress.received();
  std::string summary = "\n" + std::string(progress.timed_out() ? "Time is up. " : "") +
                        "Received " + std::to_string(received) + " photo" +
                        (received == 1 ? "" : "s") + " (" + human_size(progress.bytes()) +
                        ") into " + folder.string() + ".\n";
  std::fwrite(summary.data(), 1, summary.size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace qr::local
