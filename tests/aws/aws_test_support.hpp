#pragma once
// Helpers for the AWS adapter tests: loopback peer processes (dynalite, s3rver, the Management
// API stand-in), running botocore scripts, and a scripted HttpClient for fault injection.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "aws/dynamodb_session_store.hpp"
#include "aws/http_client.hpp"

namespace qr::aws::testing {

/// Directory of this test tree (peers/, py/, node_modules/).
inline const std::filesystem::path test_dir{QR_AWS_TEST_DIR};
/// Debian's Python, which has python3-botocore (the pyenv python on PATH does not).
inline const char* python = "/usr/bin/python3";

/// A child process that prints one JSON line on stdout when ready and exits when its stdin closes.
class PeerProcess {
 public:
  /// Starts `argv` and waits (bounded, by poll on its stdout, never a sleep) for its first line.
  /// Throws std::runtime_error if it does not get ready within `ready_within`.
  PeerProcess(std::vector<std::string> argv, std::chrono::milliseconds ready_within) {
    int in_pipe[2];
    int out_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe failed");
    }
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(in_pipe[0], STDIN_FILENO);
      dup2(out_pipe[1], STDOUT_FILENO);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    stdin_fd_ = in_pipe[1];
    stdout_fd_ = out_pipe[0];

    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + ready_within;
    while (line.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{stdout_fd_, POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        stop();
        throw std::runtime_error("peer not ready in time: " + argv.front() + " " + argv.back());
      }
      char buf[512];
      const ssize_t n = read(stdout_fd_, buf, sizeof buf);
      if (n <= 0) {
        stop();
        throw std::runtime_error("peer exited before it was ready: " + argv.at(1));
      }
      line.append(buf, static_cast<std::size_t>(n));
    }
    info_ = boost::json::parse(line.substr(0, line.find('\n'))).as_object();
  }

  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;
  ~PeerProcess() { stop(); }

  /// The JSON the peer printed when ready.
  const boost::json::object& info() const { return info_; }
  /// Its "port".
  std::uint16_t port() const {
    return static_cast<std::uint16_t>(info_.at("port").to_number<int>());
  }

  /// Closes its stdin (it exits), then makes sure with SIGTERM and a bounded wait.
  void stop() {
    if (pid_ <= 0) return;
    if (stdin_fd_ >= 0) close(stdin_fd_);
    stdin_fd_ = -1;
    kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      // Wait on the stdout pipe for EOF (bounded), not a sleep.
      pollfd p{stdout_fd_, POLLIN, 0};
      poll(&p, 1, 50);
      char buf[256];
      if (p.revents & (POLLIN | POLLHUP)) (void)!read(stdout_fd_, buf, sizeof buf);
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
    stdout_fd_ = -1;
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  boost::json::object info_;
};

/// Runs a shell command and returns its stdout; throws when it exits non-zero.
inline std::string run_command(const std::string& command) {
  std::string out;
  FILE* f = popen(command.c_str(), "r");
  if (!f) throw std::runtime_error("popen failed: " + command);
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const int rc = pclose(f);
  if (rc != 0) throw std::runtime_error("command failed (" + std::to_string(rc) + "): " + command);
  return out;
}

/// Runs tests/aws/py/botocore_sign.py over `cases` and returns its results.
inline boost::json::array botocore_sign(const boost::json::array& cases) {
  char path[] = "/tmp/qr-aws-cases-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  {
    std::ofstream f(path);
    f << boost::json::serialize(cases);
  }
  const std::string cmd =
      std::string(python) + " " + (test_dir / "py" / "botocore_sign.py").string() + " " + path;
  std::string out;
  try {
    out = run_command(cmd);
  } catch (...) {
    std::filesystem::remove(path);
    throw;
  }
  std::filesystem::remove(path);
  return boost::json::parse(out).as_array();
}

/// Starts a node peer script from tests/aws/peers.
inline std::unique_ptr<PeerProcess> start_node_peer(const std::string& script,
                                                    std::vector<std::string> args = {}) {
  std::vector<std::string> argv{"node", (test_dir / "peers" / script).string()};
  for (auto& a : args) argv.push_back(std::move(a));
  return std::make_unique<PeerProcess>(std::move(argv), std::chrono::seconds(20));
}

/// Creates the sessions table `name` (with its GSI) and polls DescribeTable, bounded, until it is
/// ACTIVE (dynalite, like DynamoDB, answers ResourceNotFound while a table is CREATING).
/// An existing table is fine. Throws on failure.
inline void create_sessions_table(DynamoDbClient& client, const std::string& name) {
  auto created = client.call("CreateTable", sessions_table_definition(name));
  if (!created && created.error().aws_code != "ResourceInUseException") {
    throw std::runtime_error("CreateTable failed: " + created.error().error.detail);
  }
  for (int i = 0; i < 2000; ++i) {
    auto d = client.call("DescribeTable", {{"TableName", name}});
    if (d && d->at("Table").at("TableStatus").as_string() == "ACTIVE") return;
  }
  throw std::runtime_error("table " + name + " did not become ACTIVE");
}

/// An HttpClient that answers from a script of canned responses/failures before passing
/// requests on to `next` (or failing when there is none); records every request.
class ScriptedHttpClient final : public HttpClient {
 public:
  using Step = std::function<Result<HttpResponse>(const HttpRequest&)>;
  explicit ScriptedHttpClient(std::unique_ptr<HttpClient> next = nullptr)
      : next_(std::move(next)) {}

  /// Queues a canned response.
  void push_response(int status, std::string body, Pairs headers = {}) {
    steps_.push_back([=](const HttpRequest&) -> Result<HttpResponse> {
      return HttpResponse{status, headers, body};
    });
  }
  /// Queues a transport failure.
  void push_failure(std::string detail) {
    steps_.push_back([=](const HttpRequest&) -> Result<HttpResponse> {
      return fail(ErrorCode::unavailable, detail);
    });
  }

  Result<HttpResponse> send(const HttpRequest& request) override {
    requests.push_back(request);
    if (!steps_.empty()) {
      Step s = std::move(steps_.front());
      steps_.pop_front();
      return s(request);
    }
    if (next_) return next_->send(request);
    return fail(ErrorCode::internal, "no scripted response left");
  }

  std::vector<HttpRequest> requests;  ///< every request seen, in order

 private:
  std::unique_ptr<HttpClient> next_;
  std::deque<Step> steps_;
};

}  // namespace qr::aws::testing
