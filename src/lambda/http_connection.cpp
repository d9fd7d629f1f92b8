#include "lambda/http_connection.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace qr::lambda {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string errno_text(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// A chunk-size line is hex digits, optionally followed by ";extensions".
bool parse_hex(std::string_view s, std::size_t& out) {
  s = trim(s.substr(0, s.find(';')));
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

}  // namespace

std::string_view HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

HttpConnection::HttpConnection(std::string host, std::string port)
    : host_(std::move(host)), port_(std::move(port)) {}

HttpConnection::~HttpConnection() {
  close();
}

HttpConnection::HttpConnection(HttpConnection&& other) noexcept
    : host_(std::move(other.host_)),
      port_(std::move(other.port_)),
      fd_(std::exchange(other.fd_, -1)),
      out_(std::move(other.out_)),
      in_(std::move(other.in_)) {}

void HttpConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  in_.clear();
}

Result<void> HttpConnection::connect() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host_.c_str(), port_.c_str(), &hints, &found); rc != 0) {
    return fail(ErrorCode::unavailable, "resolve " + host_ + ": " + ::gai_strerror(rc));
  }
  std::string last_error = "no address for " + host_;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = errno_text("socket");
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      // Requests are written whole and answered at once: Nagle would only add latency.
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fd_ = fd;
      ::freeaddrinfo(found);
      return {};
    }
    last_error = errno_text("connect " + host_ + ":" + port_);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return fail(ErrorCode::unavailable, last_error);
}

Result<void> HttpConnection::send_all(std::string_view head, std::string_view body) {
  iovec parts[2] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(body.data()), body.size()}};
  std::size_t index = 0;
  while (index < 2) {
    if (parts[index].iov_len == 0) {
      ++index;
      continue;
    }
    msghdr msg{};
    msg.msg_iov = parts + index;
    msg.msg_iovlen = 2 - index;
    // MSG_NOSIGNAL: a peer that went away must be an error value, not a SIGPIPE.
    const ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorCode::unavailable, errno_text("send"));
    }
    auto left = static_cast<std::size_t>(n);
    while (index < 2 && left >= parts[index].iov_len) {
      left -= parts[index].iov_len;
      ++index;
    }
    if (index < 2) {
      parts[index].iov_base = static_cast<char*>(parts[index].iov_base) + left;
      parts[index].iov_len -= left;
    }
  }
  return {};
}

Result<std::size_t> HttpConnection::read_more() {
  const std::size_t old_size = in_.size();
  in_.resize(old_size + 16384);
  for (;;) {
    // No receive timeout: GET /next blocks until an event arrives, and the sandbox is frozen
    // in between, so any timer would fire spuriously on thaw.
    const ssize_t n = ::recv(fd_, in_.data() + old_size, 16384, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      in_.resize(old_size);
      return fail(ErrorCode::unavailable, errno_text("recv"));
    }
    in_.resize(old_size + static_cast<std::size_t>(n));
    return static_cast<std::size_t>(n);
  }
}

Result<void> HttpConnection::read_until(std::string_view delimiter, std::size_t from,
                                        std::size_t& found) {
  for (;;) {
    found = in_.find(delimiter, from);
    if (found != std::string::npos) return {};
    // Resume the search where a delimiter split across reads could start.
    from = in_.size() >= delimiter.size() ? in_.size() - delimiter.size() + 1 : 0;
    auto n = read_more();
    if (!n) return std::unexpected(n.error());
    if (*n == 0) return fail(ErrorCode::unavailable, "connection closed mid-response");
  }
}

Result<void> HttpConnection::read_at_least(std::size_t bytes) {
  while (in_.size() < bytes) {
    auto n = read_more();
    if (!n) return std::unexpected(n.error());
    if (*n == 0) return fail(ErrorCode::unavailable, "connection closed mid-body");
  }
  return {};
}

Result<HttpResponse> HttpConnection::read_response(bool& nothing_received) {
  nothing_received = in_.empty();
  std::size_t head_end = 0;
  if (auto r = read_until("\r\n\r\n", 0, head_end); !r) return std::unexpected(r.error());
  nothing_received = false;

  HttpResponse response;
  std::string_view head(in_.data(), head_end);
  const std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 200 OK": the code is the three digits after the first space.
  const std::size_t space = status_line.find(' ');
  if (space == std::string_view::npos || status_line.size() < space + 4) {
    close();
    return fail(ErrorCode::internal, "malformed status line");
  }
  std::from_chars(status_line.data() + space + 1, status_line.data() + space + 4, response.status);
  std::string_view rest =
      line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
  while (!rest.empty()) {
    const std::size_t eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    response.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                  std::string(trim(line.substr(colon + 1))));
  }
  in_.erase(0, head_end + 4);

  const bool close_after = iequals(response.header("connection"), "close");
  if (iequals(response.header("transfer-encoding"), "chunked")) {
    for (;;) {
      std::size_t eol = 0;
      if (auto r = read_until("\r\n", 0, eol); !r) return std::unexpected(r.error());
      std::size_t size = 0;
      if (!parse_hex(std::string_view(in_).substr(0, eol), size)) {
        close();
        return fail(ErrorCode::internal, "malformed chunk size");
      }
      in_.erase(0, eol + 2);
      if (size == 0) {
        // Skip trailers up to the empty line that ends the message.
        for (;;) {
          if (auto r = read_until("\r\n", 0, eol); !r) return std::unexpected(r.error());
          const bool last = eol == 0;
          in_.erase(0, eol + 2);
          if (last) break;
        }
        break;
      }
      if (auto r = read_at_least(size + 2); !r) return std::unexpected(r.error());
      response.body.append(in_, 0, size);
      in_.erase(0, size + 2);
    }
  } else if (const std::string_view length = response.header("content-length"); !length.empty()) {
    std::size_t size = 0;
    const auto [ptr, ec] = std::from_chars(length.data(), length.data() + length.size(), size);
    if (ec != std::errc{} || ptr != length.data() + length.size()) {
      close();
      return fail(ErrorCode::internal, "malformed Content-Length");
    }
    if (auto r = read_at_least(size); !r) return std::unexpected(r.error());
    response.body.assign(in_, 0, size);
    in_.erase(0, size);
  } else if (response.status != 204 && response.status != 304 && response.status >= 200) {
    // No length: the body runs to the end of the connection.
    for (;;) {
      auto n = read_more();
      if (!n) return std::unexpected(n.error());
      if (*n == 0) break;
    }
    response.body = std::move(in_);
    close();
    return response;
  }
  if (close_after) close();
  return response;
}

Result<HttpResponse> HttpConnection::request(
    std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string_view, std::string_view>>& headers,
    std::string_view body) {
  out_.clear();
  out_.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
  out_.append(host_).append(":").append(port_).append("\r\n");
  for (const auto& [name, value] : headers) {
    out_.append(name).append(": ").append(value).append("\r\n");
  }
  if (!body.empty() || method == "POST" || method == "PUT") {
    out_.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  out_.append("\r\n");

  // A reused keep-alive connection may have been closed by the peer while we were idle (or
  // frozen); that shows as a send error or an immediate EOF. Retry once on a fresh connection.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = fd_ >= 0;
    if (!reused) {
      if (auto r = connect(); !r) return std::unexpected(r.error());
    }
    auto sent = send_all(out_, body);
    if (!sent) {
      close();
      if (reused) continue;
      return std::unexpected(sent.error());
    }
    bool nothing_received = false;
    auto response = read_response(nothing_received);
    if (response) return response;
    close();
    if (!(reused && nothing_received)) return response;
  }
  return fail(ErrorCode::unavailable, "connection closed twice");
}

}  // namespace qr::lambda
