#include "core/log.hpp"

#include <unistd.h>
#include <boost/json/serialize.hpp>

#include <chrono>

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

void write_stdout(std::string_view line) {
  // One write per line keeps lines whole when several threads log at once.
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line).push_back('\n');
  const char* p = buf.data();
  std::size_t left = buf.size();
  while (left > 0) {
    const ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) return;  // nowhere to report a failing log write
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

Logger::Logger() : sink_(write_stdout) {}
Logger::Logger(Sink sink) : sink_(std::move(sink)) {}

void Logger::log(LogLevel level, std::string_view message, boost::json::object fields) {
  if (level < min_level_) return;
  boost::json::object line;
  line["level"] = level_name(level);
  line["message"] = message;
  if (!request_id_.empty()) line["requestId"] = request_id_;
  for (auto& field : fields) line[field.key()] = std::move(field.value());
  sink_(boost::json::serialize(line));
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
  sink_(boost::json::serialize(line));
}

}  // namespace qr
