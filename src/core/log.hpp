#pragma once
// Structured logs: one JSON object per line, as CloudWatch Logs Insights reads them.
// Custom metrics use the CloudWatch Embedded Metric Format on the same stream.

#include <boost/json/object.hpp>

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace qr {

enum class LogLevel { debug, info, warn, error };

/// Writes JSON log lines to a sink (stdout by default). Not thread-safe per instance:
/// each request, or each thread, uses its own Logger (they are cheap).
class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;

  /// A logger writing to the process's log output (stdout unless set_default_output changed it)
  /// with one write(2) per line.
  Logger();
  /// Where Logger() loggers write from now on: a file descriptor, or -1 for nowhere (the terminal
  /// of `qr-upload receive` is for people; its JSON logs go to --log-file or nowhere).
  static void set_default_output(int fd);
  /// A logger writing to `sink` (tests capture lines this way).
  explicit Logger(Sink sink);

  /// Request id added to every line from now on (empty: none).
  void set_request_id(std::string request_id) { request_id_ = std::move(request_id); }
  const std::string& request_id() const { return request_id_; }
  /// Lines below this level are dropped.
  void set_min_level(LogLevel level) { min_level_ = level; }

  /// One line: {"level", "message", "requestId"?, ...fields}.
  void log(LogLevel level, std::string_view message, boost::json::object fields = {});
  void debug(std::string_view m, boost::json::object f = {}) {
    log(LogLevel::debug, m, std::move(f));
  }
  void info(std::string_view m, boost::json::object f = {}) {
    log(LogLevel::info, m, std::move(f));
  }
  void warn(std::string_view m, boost::json::object f = {}) {
    log(LogLevel::warn, m, std::move(f));
  }
  void error(std::string_view m, boost::json::object f = {}) {
    log(LogLevel::error, m, std::move(f));
  }

  /// Emits one metric in Embedded Metric Format, namespace "QrUpload", dimension "Service".
  /// `unit` is a CloudWatch unit ("Count", "Seconds", "Milliseconds").
  void metric(std::string_view name, double value, std::string_view unit = "Count");

  /// The name used in the "Service" dimension of metrics (e.g. the function name).
  void set_service(std::string service) { service_ = std::move(service); }

 private:
  Sink sink_;
  std::string request_id_;
  std::string service_ = "qr-upload";
  LogLevel min_level_ = LogLevel::info;
};

}  // namespace qr
