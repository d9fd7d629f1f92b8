// qr-upload: the whole system in one binary. `qr-upload serve --help` and
// `qr-upload receive --help` list the settings.
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <iostream>
#include <span>
#include <string>
#include <thread>

#include "core/log.hpp"
#include "local/receive_command.hpp"
#include "local/server.hpp"
#include "local/server_options.hpp"

namespace {

using qr::local::ServerOptions;

constexpr const char* usage = R"(usage: qr-upload serve [options]
       qr-upload receive [DIR] [options]

serve    Runs the pages on this computer: open the printed URL in the computer's browser, scan
         the QR code it shows with the phone, send photos; they appear on the page at once.
receive  For the terminal: prints a QR code here, and the photos sent from the phone land in DIR.

Everything runs here: sessions in SQLite, photos on disk. `qr-upload receive --help` for its own
options.

serve's options (each also read from the environment variable shown):
)";

int die(const std::string& message) {
  std::cerr << "qr-upload: " << message << "\n";
  return 2;
}

qr::local::Server* running = nullptr;

int serve(std::span<char* const> args) {
  ServerOptions defaults;
  defaults.web_dir = qr::local::default_web_dir();
  auto line = qr::local::parse_command_line(args, defaults);
  if (!line) return die(line.error().detail);
  if (line->help) {
    std::fputs(usage, stdout);
    std::fputs(qr::local::server_options_help, stdout);
    return 0;
  }
  const ServerOptions& options = line->options;

  // Each WebSocket is a file descriptor: take the hard limit, not the shell's default of 1024.
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }

  // Stop cleanly on Ctrl-C / SIGTERM: a thread waits for the signals, so no handler runs
  // async-signal-unsafe code. Blocked before any thread starts (the store starts one), since
  // threads inherit the mask and an unblocked one would take the default action: exit at once.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = qr::local::Server::start(options);
  if (!server) return die(server.error().detail);
  running = server->get();

  std::thread([signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (running) running->stop();
  }).detach();
  signal(SIGPIPE, SIG_IGN);

  const std::string url = (*server)->public_url() + "/";
  qr::Logger log;
  log.info("listening", {{"url", url},
                         {"port", (*server)->port()},
                         {"dataDir", options.data_dir.string()},
                         {"maxUploadBytes", options.max_upload_bytes}});
  // No QR code here: this URL is for the computer's browser, whose page shows the code the
  // phone scans. A phone that scanned this one would only be asked to scan another.
  std::fprintf(stderr,
               "\nqr-upload is running. Open this in the browser of this computer:\n\n    %s\n\n"
               "It shows the QR code to scan with your phone. (In a terminal only? Try\n"
               "`qr-upload receive DIR`: it prints the code here and saves the photos in DIR.)\n"
               "\nPress Ctrl-C to stop.\n",
               url.c_str());
  (*server)->run();
  log.info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const std::span<char* const> rest(argv + std::min(argc, 2), argv + argc);
  const std::string_view command = argc >= 2 ? argv[1] : "";
  if (command == "serve") return serve(rest);
  if (command == "receive") return qr::local::receive_command(rest);
  if (command == "--help" || command == "-h") {
    std::fputs(usage, stdout);
    std::fputs(qr::local::server_options_help, stdout);
    return 0;
  }
  std::fputs(usage, stderr);
  return 2;
}
