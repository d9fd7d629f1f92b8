#include "aws/sigv4.hpp"

#include <algorithm>
#include <array>
#include <ctime>

#include "core/ascii.hpp"

namespace qr::aws {
namespace {

constexpr std::string_view signing_algorithm = "AWS4-HMAC-SHA256";
// Presigned URLs dated a little in the future still verify: clocks of two hosts differ.
constexpr std::chrono::seconds allowed_clock_skew{300};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Trims the value and folds every run of whitespace into one space, as SigV4 requires
// (it keeps quoted runs folded too: '"a   b"' signs as '"a b"').
std::string canonical_header_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

struct CanonicalHeaders {
  std::string block;         // "name:value\n" lines
  std::string signed_names;  // "host;x-amz-date"
};

CanonicalHeaders canonical_headers(const Pairs& headers) {
  std::vector<std::pair<std::string, std::string>> items;
  items.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    items.emplace_back(ascii::lower(name), canonical_header_value(value));
  }
  // Stable: repeated headers keep the order they were given in (get-header-value-order).
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0 && items[i].first == items[i - 1].first) {
      out.block.pop_back();  // the '\n' of the previous line: append to it
      out.block += ',';
      out.block += items[i].second;
      out.block += '\n';
      continue;
    }
    if (!out.signed_names.empty()) out.signed_names += ';';
    out.signed_names += items[i].first;
    out.block += items[i].first;
    out.block += ':';
    out.block += items[i].second;
    out.block += '\n';
  }
  return out;
}

std::string build_canonical_request(std::string_view method, std::string_view uri,
                                    std::string_view query, const CanonicalHeaders& headers,
                                    std::string_view payload_hash) {
  std::string out;
  out.reserve(method.size() + uri.size() + query.size() + headers.block.size() +
              headers.signed_names.size() + payload_hash.size() + 8);
  out += method;
  out += '\n';
  out += uri;
  out += '\n';
  out += query;
  out += '\n';
  out += headers.block;
  out += '\n';
  out += headers.signed_names;
  out += '\n';
  out += payload_hash;
  return out;
}

std::string build_string_to_sign(std::string_view date_time, std::string_view scope,
                                 std::string_view canonical_request) {
  std::string out;
  out.reserve(signing_algorithm.size() + date_time.size() + scope.size() + 68);
  out += signing_algorithm;
  out += '\n';
  out += date_time;
  out += '\n';
  out += scope;
  out += '\n';
  out += crypto::sha256_hex(canonical_request);
  return out;
}

const std::string* find_param(const Pairs& query, std::string_view name) {
  for (const auto& [k, v] : query) {
    if (k == name) return &v;
  }
  return nullptr;
}

}  // namespace

SigningOptions SigningOptions::for_service(std::string_view service) {
  SigningOptions o;
  if (service == "s3") {
    o.normalize_path = false;
    o.double_encode_path = false;
    o.content_sha256_header = true;
  }
  return o;
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  // Table-driven and written in place: presigned URLs encode long session tokens twice per
  // signature, so this loop is a visible part of the signing cost.
  static constexpr auto unreserved = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) {
      t[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '.' || c == '_' || c == '~';
    }
    return t;
  }();
  // SigV4 wants upper-case hex in escapes (ascii::hex_digit is lower-case, as hashes are).
  static constexpr char digits[] = "0123456789ABCDEF";
  std::size_t escaped = 0;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (!unreserved[c] && !(keep_slash && c == '/')) ++escaped;
  }
  std::string out(text.size() + 2 * escaped, '\0');
  char* p = out.data();
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved[c] || (keep_slash && c == '/')) {
      *p++ = ch;
    } else {
      *p++ = '%';
      *p++ = digits[c >> 4];
      *p++ = digits[c & 0x0f];
    }
  }
  return out;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = ascii::hex_value(text[i + 1]);
      const int lo = ascii::hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

Pairs parse_query(std::string_view raw) {
  Pairs out;
  while (!raw.empty()) {
    const std::size_t amp = raw.find('&');
    const std::string_view part = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(percent_decode(part), std::string{});
    } else {
      out.emplace_back(percent_decode(part.substr(0, eq)), percent_decode(part.substr(eq + 1)));
    }
  }
  return out;
}

std::string encode_query(const Pairs& query) {
  std::string out;
  for (const auto& [k, v] : query) {
    if (!out.empty()) out += '&';
    out += uri_encode(k);
    out += '=';
    out += uri_encode(v);
  }
  return out;
}

std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::string_view rest = path;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(seg);
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    out += segments[i];
  }
  if (!segments.empty() && path.size() > 1 && path.back() == '/') out += '/';
  return out;
}

std::string canonical_uri(std::string_view path, const SigningOptions& options) {
  if (path.empty()) path = "/";
  std::string p = options.normalize_path ? normalize_path(path) : std::string(path);
  // Every service but S3 signs the encoding of the wire path, i.e. user data encoded twice.
  return options.double_encode_path ? uri_encode(p, true) : p;
}

namespace {

using EncodedPairs = std::vector<std::pair<std::string, std::string>>;

EncodedPairs encode_pairs(const Pairs& query) {
  EncodedPairs encoded;
  encoded.reserve(query.size() + 1);
  for (const auto& [k, v] : query) encoded.emplace_back(uri_encode(k), uri_encode(v));
  return encoded;
}

std::string join_pairs(const EncodedPairs& pairs) {
  std::size_t size = 0;
  for (const auto& [k, v] : pairs) size += k.size() + v.size() + 2;
  std::string out;
  out.reserve(size);
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

// Sorted by encoded name, then value (byte order), as the spec says.
std::string join_sorted(EncodedPairs pairs) {
  std::sort(pairs.begin(), pairs.end());
  return join_pairs(pairs);
}

}  // namespace

std::string canonical_query(const Pairs& query) {
  return join_sorted(encode_pairs(query));
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[17];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, 16);
}

std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) -> int {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const int y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2),
            s = num(13, 2);
  // system_clock counts nanoseconds in 64 bits and overflows in April 2262: a later date (a
  // forged X-Amz-Date) would wrap around, so years past 2200 are malformed.
  if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
      mi > 59 || s < 0 || s > 60) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{unsigned(mo)},
                                        std::chrono::day{unsigned(d)}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{s};
}

Signer::Signer(Credentials credentials, std::string region, std::string service)
    : Signer(std::move(credentials), std::move(region), service,
             SigningOptions::for_service(service)) {}

Signer::Signer(Credentials credentials, std::string region, std::string service,
               SigningOptions options)
    : credentials_(std::move(credentials)),
      region_(std::move(region)),
      service_(std::move(service)),
      options_(options) {}

crypto::Digest Signer::signing_key(std::string_view date) const {
  // Deriving the key takes four HMACs; it changes once a day, so it is cached.
  std::lock_guard lock(key_mutex_);
  if (key_date_ != date) {
    const crypto::Digest k_date =
        crypto::hmac_sha256("AWS4" + credentials_.secret_access_key, date);
    const crypto::Digest k_region = crypto::hmac_sha256(k_date, region_);
    const crypto::Digest k_service = crypto::hmac_sha256(k_region, service_);
    key_ = crypto::hmac_sha256(k_service, "aws4_request");
    key_date_ = std::string(date);
  }
  return key_;
}

std::string Signer::signature_for(std::string_view date, std::string_view string_to_sign) const {
  return crypto::hex(crypto::hmac_sha256(signing_key(date), string_to_sign));
}

HeaderSignature Signer::sign(const SignableRequest& request, std::string_view payload_hash,
                             std::chrono::system_clock::time_point now) const {
  const std::string date_time = amz_date(now);
  const std::string_view date = std::string_view(date_time).substr(0, 8);
  const std::string scope = std::string(date) + '/' + region_ + '/' + service_ + "/aws4_request";

  HeaderSignature out;
  out.headers.emplace_back("x-amz-date", date_time);
  const bool has_token = !credentials_.session_token.empty();
  if (has_token && !options_.omit_session_token) {
    out.headers.emplace_back("x-amz-security-token", credentials_.session_token);
  }
  if (options_.content_sha256_header) {
    out.headers.emplace_back("x-amz-content-sha256", std::string(payload_hash));
  }

  Pairs all = request.headers;
  all.insert(all.end(), out.headers.begin(), out.headers.end());
  const CanonicalHeaders ch = canonical_headers(all);
  out.canonical_request =
      build_canonical_request(request.method, canonical_uri(request.path, options_),
                              canonical_query(request.query), ch, payload_hash);
  out.string_to_sign = build_string_to_sign(date_time, scope, out.canonical_request);
  out.signature = signature_for(date, out.string_to_sign);

  if (has_token && options_.omit_session_token) {
    out.headers.emplace_back("x-amz-security-token", credentials_.session_token);
  }
  std::string auth;
  auth.reserve(160 + ch.signed_names.size());
  auth += signing_algorithm;
  auth += " Credential=";
  auth += credentials_.access_key_id;
  auth += '/';
  auth += scope;
  auth += ", SignedHeaders=";
  auth += ch.signed_names;
  auth += ", Signature=";
  auth += out.signature;
  out.headers.emplace_back("authorization", std::move(auth));
  return out;
}

QuerySignature Signer::presign(const SignableRequest& request, std::string_view payload_hash,
                               std::chrono::seconds expires_in,
                               std::chrono::system_clock::time_point now) const {
  const std::string date_time = amz_date(now);
  const std::string_view date = std::string_view(date_time).substr(0, 8);
  const std::string scope = std::string(date) + '/' + region_ + '/' + service_ + "/aws4_request";
  const CanonicalHeaders ch = canonical_headers(request.headers);

  QuerySignature out;
  out.query = request.query;
  out.query.emplace_back("X-Amz-Algorithm", std::string(signing_algorithm));
  out.query.emplace_back("X-Amz-Credential", credentials_.access_key_id + '/' + scope);
  out.query.emplace_back("X-Amz-Date", date_time);
  out.query.emplace_back("X-Amz-Expires", std::to_string(expires_in.count()));
  out.query.emplace_back("X-Amz-SignedHeaders", ch.signed_names);
  const bool has_token = !credentials_.session_token.empty();
  if (has_token && !options_.omit_session_token) {
    out.query.emplace_back("X-Amz-Security-Token", credentials_.session_token);
  }
  // Each parameter is encoded once, for both the canonical query and the URL.
  EncodedPairs encoded = encode_pairs(out.query);
  out.canonical_request =
      build_canonical_request(request.method, canonical_uri(request.path, options_),
                              join_sorted(encoded), ch, payload_hash);
  out.string_to_sign = build_string_to_sign(date_time, scope, out.canonical_request);
  out.signature = signature_for(date, out.string_to_sign);
  if (has_token && options_.omit_session_token) {
    out.query.emplace_back("X-Amz-Security-Token", credentials_.session_token);
    encoded.emplace_back("X-Amz-Security-Token", uri_encode(credentials_.session_token));
  }
  out.query.emplace_back("X-Amz-Signature", out.signature);
  encoded.emplace_back("X-Amz-Signature", out.signature);
  out.query_string = join_pairs(encoded);
  return out;
}

Result<void> Signer::verify_presigned(const SignableRequest& request, std::string_view payload_hash,
                                      std::chrono::system_clock::time_point now) const {
  const std::string* algorithm = find_param(request.query, "X-Amz-Algorithm");
  const std::string* credential = find_param(request.query, "X-Amz-Credential");
  const std::string* date_time = find_param(request.query, "X-Amz-Date");
  const std::string* expires = find_param(request.query, "X-Amz-Expires");
  const std::string* signed_headers = find_param(request.query, "X-Amz-SignedHeaders");
  const std::string* signature = find_param(request.query, "X-Amz-Signature");
  if (!algorithm || !credential || !date_time || !expires || !signed_headers || !signature) {
    return fail(ErrorCode::forbidden, "presigned request lacks an X-Amz-* parameter");
  }
  if (*algorithm != signing_algorithm) return fail(ErrorCode::forbidden, "unsupported algorithm");

  const auto when = parse_amz_date(*date_time);
  if (!when) return fail(ErrorCode::forbidden, "malformed X-Amz-Date");
  const std::string expected_credential = credentials_.access_key_id + '/' +
                                          date_time->substr(0, 8) + '/' + region_ + '/' + service_ +
                                          "/aws4_request";
  if (*credential != expected_credential) {
    return fail(ErrorCode::forbidden, "credential scope does not match");
  }

  long long expiry = -1;
  if (!expires->empty() && expires->size() <= 7 &&
      std::all_of(expires->begin(), expires->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    expiry = std::stoll(*expires);
  }
  if (expiry < 1 || expiry > max_presign_expiry.count()) {
    return fail(ErrorCode::forbidden, "X-Amz-Expires out of range");
  }
  if (*when > now + allowed_clock_skew) return fail(ErrorCode::forbidden, "signed in the future");
  if (now > *when + std::chrono::seconds{expiry}) {
    return fail(ErrorCode::forbidden, "presigned URL expired");
  }

  if (!credentials_.session_token.empty()) {
    const std::string* token = find_param(request.query, "X-Amz-Security-Token");
    if (!token || !crypto::constant_time_equal(*token, credentials_.session_token)) {
      return fail(ErrorCode::forbidden, "session token does not match");
    }
  }

  // Only the headers named in X-Amz-SignedHeaders take part, and each must have arrived.
  Pairs signed_pairs;
  bool host_signed = false;
  std::string_view names = *signed_headers;
  while (!names.empty()) {
    const std::size_t semi = names.find(';');
    const std::string_view name = names.substr(0, semi);
    names = semi == std::string_view::npos ? std::string_view{} : names.substr(semi + 1);
    if (name == "host") host_signed = true;
    bool found = false;
    for (const auto& [k, v] : request.headers) {
      if (ascii::lower(k) == name) {
        signed_pairs.emplace_back(k, v);
        found = true;
      }
    }
    if (!found) return fail(ErrorCode::forbidden, "signed header missing: " + std::string(name));
  }
  if (!host_signed) return fail(ErrorCode::forbidden, "host is not signed");

  Pairs query;
  query.reserve(request.query.size());
  for (const auto& p : request.query) {
    // With omit_session_token the token was appended after signing, so it is not signed.
    if (p.first == "X-Amz-Signature") continue;
    if (options_.omit_session_token && p.first == "X-Amz-Security-Token") continue;
    query.push_back(p);
  }
  const CanonicalHeaders ch = canonical_headers(signed_pairs);
  if (ch.signed_names != *signed_headers) {
    return fail(ErrorCode::forbidden, "X-Amz-SignedHeaders is not canonical");
  }
  const std::string cr =
      build_canonical_request(request.method, canonical_uri(request.path, options_),
                              canonical_query(query), ch, payload_hash);
  const std::string scope = expected_credential.substr(credentials_.access_key_id.size() + 1);
  const std::string sts = build_string_to_sign(*date_time, scope, cr);
  const std::string expected = signature_for(date_time->substr(0, 8), sts);
  if (!crypto::constant_time_equal(expected, *signature)) {
    return fail(ErrorCode::forbidden, "signature does not match");
  }
  return {};
}

}  // namespace qr::aws
