#include "core/log.hpp"

#include <unistd.h>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <chrono>

#include "core/utf8.hpp"

namespace qr {
namespace {

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "DEBUG";
    case LogLevel::info:
      return "INFO";
    case LogLevel::warn:
      return "WARN";
    case LogLevel::error:
      return "ERROR";
  }
  return "INFO";
}

// Log lines are read as UTF-8 (CloudWatch, jq): bytes a client sent in a key or a header are
// copied into JSON strings as they are, so each ill-formed sequence becomes U+FFFD. Only string
// contents can hold such bytes, so the line stays valid JSON.
std::string valid_utf8(std::string line) {
  std::size_t i = 0;
  while (i < line.size() && static_cast<unsigned char>(line[i]) < 0x80) ++i;
  if (i == line.size()) return line;
  std::string out(line, 0, i);
  out.reserve(line.size() + 16);
  const std::string_view rest(line);
  while (i < line.size()) {
    if (const std::size_t n = utf8_sequence_length(rest.substr(i))) {
      out.append(rest.substr(i, n));
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

// Where loggers made with Logger() write: stdout unless the process says otherwise.
std::atomic<int> default_fd{STDOUT_FILENO};

void write_stdout(std::string_view line) {
  const int fd = default_fd.load(std::memory_order_relaxed);
  if (fd < 0) return;
  // One write per line keeps lines whole when several threads log at once.
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line).push_back('\n');
  const char* p = buf.data();
  std::size_t left = buf.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n <= 0) return;  // nowhere to report a failing log write
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

void Logger::set_default_output(int fd) {
  default_fd.store(fd, std::memory_order_relaxed);
}

Logger::Logger() : sink_(write_stdout) {}
Logger::Logger(Sink sink) : sink_(std::move(sink)) {}

void Logger::log(LogLevel level, std::string_view message, boost::json::object fields) {
  if (level < min_level_) return;
  boost::json::object line;
  line["level"] = level_name(level);
  line["message"] = message;
  if (!request_id_.empty()) line["requestId"] = request_id_;
  for (auto& field : fields) line[field.key()] = std::move(field.value());
  sink_(valid_utf8(boost::json::serialize(line)));
}

void Logger::metric(std::string_view name, double value, std::string_view unit) {
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  boost::json::object metric_def{{"Name", name}, {"Unit", unit}};
  boost::json::object aws{
      {"Timestamp", millis},
      {"CloudWatchMetrics", boost::json::array{boost::json::object{
                                {"Namespace", "QrUpload"},
                                {"Dimensions", boost::json::array{boost::json::array{"Service"}}},
                                {"Metrics", boost::json::array{metric_def}}}}}};
  boost::json::object line{{"_aws", aws}, {"Service", service_}};
  // Whole numbers as integers ("1", not "1E0"): easier on the eye in the log.
  if (value == static_cast<double>(static_cast<std::int64_t>(value)))
    line[name] = static_cast<std::int64_t>(value);
  else
    line[name] = value;
  if (!request_id_.empty()) line["requestId"] = request_id_;
  sink_(valid_utf8(boost::json::serialize(line)));
}

}  // namespace qr
