#include "local/http_messages.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "core/ascii.hpp"

namespace qr::local {
namespace http = boost::beast::http;

HeaderFields fields_of(const http::request_header<>& header) {
  HeaderFields out;
  for (const auto& field : header) out.emplace_back(field.name_string(), field.value());
  return out;
}

StringResponse json_response(unsigned status, const boost::json::object& body, unsigned version,
                             bool keep_alive) {
  StringResponse res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = boost::json::serialize(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

StringResponse error_json(unsigned status, std::string_view message, unsigned version,
                          bool keep_alive) {
  return json_response(status, {{"error", message}}, version, keep_alive);
}

StringResponse from_router(const RouterAnswer& answer, unsigned version, bool keep_alive) {
  StringResponse res{static_cast<http::status>(answer.status), version};
  for (const auto& [name, value] : answer.headers) res.set(name, value);
  res.body() = answer.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

std::string http_date(std::chrono::system_clock::time_point now) {
  // One strftime a second per thread: every answer carries the header.
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached;
  const std::time_t second = std::chrono::system_clock::to_time_t(now);
  if (second != cached_second) {
    std::tm tm{};
    gmtime_r(&second, &tm);
    char buf[40];
    const auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached.assign(buf, n);
    cached_second = second;
  }
  return cached;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The name of a Host value ("Example.com:8080" -> "example.com", "[::1]:80" -> "[::1]"), or
// nullopt when it is not of that form (a port that is not digits, nothing before it).
std::optional<std::string> host_name(std::string_view host) {
  host = trim(host);
  std::string_view name = host, port;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    name = host.substr(0, close + 1);
    port = host.substr(close + 1);
    if (!port.empty() && !port.starts_with(':')) return std::nullopt;
  } else if (const auto colon = host.find(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon);
  }
  if (!port.empty()) {
    port.remove_prefix(1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
  }
  if (name.ends_with('.')) name.remove_suffix(1);
  if (name.empty()) return std::nullopt;
  for (char c : name)
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '@' || c == '\\' ||
        static_cast<unsigned char>(c) >= 0x7f)
      return std::nullopt;
  return ascii::lower(name);
}

// "http://Host:8080/path" -> "http://host:8080".
std::string origin_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return ascii::lower(url);
  const auto path = url.find('/', scheme_end + 3);
  return ascii::lower(url.substr(0, path));
}

std::string host_of_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  const auto start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const auto end = url.find('/', start);
  return std::string(url.substr(start, end == std::string_view::npos ? url.npos : end - start));
}

}  // namespace

EdgePolicy::EdgePolicy(std::string_view public_url, const std::vector<std::string>& allowed_hosts,
                       const std::vector<std::string>& allowed_origins, bool tls)
    : scheme_(tls ? "https" : "http"), public_origin_(origin_of(public_url)) {
  for (std::string_view name : {"localhost", "127.0.0.1", "[::1]"}) hosts_.emplace_back(name);
  if (auto name = host_name(host_of_url(public_url))) hosts_.push_back(*name);
  for (const auto& host : allowed_hosts)
    if (auto name = host_name(host)) hosts_.push_back(*name);
  origins_.push_back(public_origin_);
  for (std::string origin : allowed_origins) {
    while (origin.ends_with('/')) origin.pop_back();
    origins_.push_back(ascii::lower(origin));
  }
}

bool EdgePolicy::host_allowed(std::string_view host) const {
  const auto name = host_name(host);
  return name && std::find(hosts_.begin(), hosts_.end(), *name) != hosts_.end();
}

bool EdgePolicy::origin_allowed(std::string_view origin, std::string_view host) const {
  origin = trim(origin);
  if (origin.empty()) return true;
  const std::string lowered = ascii::lower(origin);
  if (std::find(origins_.begin(), origins_.end(), lowered) != origins_.end()) return true;
  // The request's own origin: a page this server served, under a Host it answers to.
  return host_allowed(host) && lowered == scheme_ + "://" + ascii::lower(trim(host));
}

std::optional<Refusal> EdgePolicy::check(const http::request_header<>& header) const {
  // Transfer-Encoding: exactly "chunked" or nothing. Anything else ("xchunked", "chunked,
  // identity", two fields) would leave the body's end to guesswork, and behind a proxy that reads
  // it otherwise the rest becomes a second request.
  const auto encodings = header.equal_range(http::field::transfer_encoding);
  if (encodings.first != encodings.second) {
    const bool one = std::next(encodings.first) == encodings.second;
    if (!one || !boost::beast::iequals(trim(encodings.first->value()), "chunked") ||
        header.version() < 11 || header.count(http::field::content_length) != 0)
      return Refusal{400, "Unsupported Transfer-Encoding"};
  }
  const auto hosts = header.count(http::field::host);
  if (hosts > 1) return Refusal{400, "More than one Host header"};
  if (hosts == 0) {
    if (header.version() >= 11) return Refusal{400, "Host header required"};
  } else if (!host_allowed(header[http::field::host])) {
    return Refusal{403, "This server does not answer to that host name"};
  }
  if (header.count(http::field::origin) > 1) return Refusal{400, "More than one Origin header"};
  if (!origin_allowed(header[http::field::origin], header[http::field::host]))
    return Refusal{403, "Origin not allowed"};
  return std::nullopt;
}

std::string EdgePolicy::allow_origin(std::string_view origin, std::string_view host) const {
  origin = trim(origin);
  if (!origin.empty() && origin_allowed(origin, host)) return std::string(origin);
  return public_origin_;
}

std::string EdgePolicy::page_policy(std::string_view host) const {
  const std::string ws = scheme_ == "https" ? "wss://" : "ws://";
  std::string own_ws;
  if (host_allowed(host)) own_ws = " " + ws + ascii::lower(trim(host));
  const std::string public_ws =
      " " + ws +
      public_origin_.substr(std::min(public_origin_.size(), public_origin_.find("://") + 3));
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data: " +
         public_origin_ + "; connect-src 'self' " + public_origin_ + own_ws + public_ws +
         "; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
}

void finish_headers(http::fields& fields, const EdgePolicy& policy, std::string_view origin,
                    std::string_view host, bool is_page) {
  fields.set(http::field::date, http_date());
  fields.set("X-Content-Type-Options", "nosniff");
  fields.set("Referrer-Policy", "no-referrer");
  fields.set("X-Frame-Options", "DENY");
  const bool is_json = fields[http::field::content_type].starts_with("application/json");
  if (is_page)
    fields.set("Content-Security-Policy", policy.page_policy(host));
  else if (is_json)
    fields.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  if (is_json || fields.count(http::field::access_control_allow_origin) != 0) {
    fields.set(http::field::access_control_allow_origin, policy.allow_origin(origin, host));
    fields.set(http::field::vary, "Origin");
  }
}

RateLimiter::RateLimiter(unsigned per_minute, std::size_t max_clients)
    : per_minute_(per_minute), max_clients_(max_clients) {}

double RateLimiter::refill(Bucket& bucket, Clock::time_point now) const {
  const double seconds = std::chrono::duration<double>(now - bucket.updated).count();
  bucket.tokens = std::min<double>(per_minute_, bucket.tokens + seconds * per_minute_ / 60.0);
  bucket.updated = now;
  return bucket.tokens;
}

std::optional<unsigned> RateLimiter::take(std::string_view address, Clock::time_point now) {
  if (per_minute_ == 0) return std::nullopt;
  std::string key(address);
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(key, ec);
  if (!ec && ip.is_v6() && !ip.to_v6().is_v4_mapped()) {
    const auto bytes = ip.to_v6().to_bytes();
    key.assign("v6:");
    key.append(reinterpret_cast<const char*>(bytes.data()), 8);
  } else if (!ec && ip.is_v6()) {
    key = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, ip.to_v6()).to_string();
  }
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_)
      for (auto it = buckets_.begin(); it != buckets_.end();)
        it = refill(it->second, now) >= per_minute_ ? buckets_.erase(it) : std::next(it);
    if (buckets_.size() >= max_clients_) return 60;
    it = buckets_.emplace(std::move(key), Bucket{static_cast<double>(per_minute_), now}).first;
  }
  if (refill(it->second, now) >= 1.0) {
    it->second.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait = (1.0 - it->second.tokens) * 60.0 / per_minute_;
  return static_cast<unsigned>(std::max(1.0, std::ceil(wait)));
}

std::optional<unsigned> OpenSessions::full(std::int64_t now) {
  if (max_ == 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  while (!expiries_.empty() && expiries_.front() <= now) expiries_.pop_front();
  if (expiries_.size() < max_) return std::nullopt;
  return static_cast<unsigned>(std::max<std::int64_t>(1, expiries_.front() - now));
}

void OpenSessions::created(std::int64_t expires_at) {
  if (max_ == 0) return;
  std::lock_guard lock(mutex_);
  expiries_.push_back(expires_at);
}

bool SessionSockets::add(const std::string& session_id) {
  if (max_ == 0) return true;
  std::lock_guard lock(mutex_);
  auto& count = counts_[session_id];
  if (count >= max_) return false;
  ++count;
  return true;
}

void SessionSockets::remove(const std::string& session_id) {
  if (max_ == 0) return;
  std::lock_guard lock(mutex_);
  if (auto it = counts_.find(session_id); it != counts_.end() && --it->second == 0)
    counts_.erase(it);
}

ConnectionCount::Slot ConnectionCount::acquire() {
  if (open_.fetch_add(1) >= max_) {
    open_.fetch_sub(1);
    return nullptr;
  }
  return Slot(this, [](ConnectionCount* count) { count->open_.fetch_sub(1); });
}

}  // namespace qr::local
