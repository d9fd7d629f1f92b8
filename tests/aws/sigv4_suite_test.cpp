// Runs every case of AWS's SigV4 test suite (tests/data/sigv4-test-suite) in header and query mode,
// comparing the canonical request, the string to sign and the signature with the expected files.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "aws/sigv4.hpp"

namespace {

namespace fs = std::filesystem;
using qr::aws::Pairs;

const fs::path suite_dir{QR_SIGV4_SUITE_DIR};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string strip_trailing_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

struct SuiteRequest {
  std::string method;
  std::string path;
  std::string raw_query;
  Pairs headers;
  std::string body;
};

// request.txt: "METHOD TARGET HTTP/1.1", header lines (continuations start with whitespace),
// an empty line, the body. The target may contain spaces ("/example space/").
SuiteRequest parse_request(const std::string& text) {
  SuiteRequest r;
  std::size_t pos = text.find('\n');
  std::string first = text.substr(0, pos);
  const std::size_t sp = first.find(' ');
  const std::size_t proto = first.rfind(" HTTP/");
  r.method = first.substr(0, sp);
  const std::string target = first.substr(sp + 1, proto - sp - 1);
  const std::size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.raw_query = target.substr(q + 1);
  while (pos != std::string::npos) {
    const std::size_t start = pos + 1;
    pos = text.find('\n', start);
    std::string line =
        text.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
    if (line.empty()) {
      if (pos != std::string::npos) r.body = text.substr(pos + 1);
      break;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !r.headers.empty()) {
      r.headers.back().second += ' ' + line;
      continue;
    }
    const std::size_t colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return r;
}

std::chrono::system_clock::time_point parse_iso(const std::string& s) {
  // "2015-08-30T12:36:00Z" -> "20150830T123600Z"
  std::string compact;
  for (char c : s) {
    if (c != '-' && c != ':') compact += c;
  }
  return *qr::aws::parse_amz_date(compact);
}

struct SuiteCase {
  std::string name;
  qr::aws::Credentials credentials;
  std::string region;
  std::string service;
  qr::aws::SigningOptions options;
  std::chrono::system_clock::time_point time;
  std::chrono::seconds expires{0};
  bool sign_body = false;
  SuiteRequest request;
};

SuiteCase load_case(const std::string& name) {
  const fs::path dir = suite_dir / name;
  const auto ctx = boost::json::parse(read_file(dir / "context.json")).as_object();
  SuiteCase c;
  c.name = name;
  const auto& creds = ctx.at("credentials").as_object();
  c.credentials.access_key_id = creds.at("access_key_id").as_string().c_str();
  c.credentials.secret_access_key = creds.at("secret_access_key").as_string().c_str();
  if (creds.contains("token")) c.credentials.session_token = creds.at("token").as_string().c_str();
  c.region = ctx.at("region").as_string().c_str();
  c.service = ctx.at("service").as_string().c_str();
  c.options.normalize_path = ctx.at("normalize").as_bool();
  // The suite's services are all "double encoding" ones (S3 is the exception, not in the suite).
  c.options.double_encode_path = true;
  c.options.omit_session_token =
      ctx.contains("omit_session_token") && ctx.at("omit_session_token").as_bool();
  c.sign_body = ctx.at("sign_body").as_bool();
  c.time = parse_iso(ctx.at("timestamp").as_string().c_str());
  c.expires = std::chrono::seconds{ctx.at("expiration_in_seconds").to_number<long long>()};
  c.request = parse_request(read_file(dir / "request.txt"));
  return c;
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(suite_dir, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "request.txt")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string expected(const std::string& name, const std::string& file) {
  return strip_trailing_newlines(read_file(suite_dir / name / file));
}

class SigV4Suite : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4Suite, HeaderSigningMatches) {
  SuiteCase c = load_case(GetParam());
  c.options.content_sha256_header = c.sign_body;
  const qr::aws::Signer signer(c.credentials, c.region, c.service, c.options);
  qr::aws::SignableRequest req{c.request.method, c.request.path,
                               qr::aws::parse_query(c.request.raw_query), c.request.headers};
  const auto sig = signer.sign(req, qr::crypto::sha256_hex(c.request.body), c.time);
  EXPECT_EQ(sig.canonical_request, expected(c.name, "header-canonical-request.txt"));
  EXPECT_EQ(sig.string_to_sign, expected(c.name, "header-string-to-sign.txt"));
  EXPECT_EQ(sig.signature, expected(c.name, "header-signature.txt"));
  // The Authorization line of the signed request carries the same signature.
  const std::string signed_request = read_file(suite_dir / c.name / "header-signed-request.txt");
  EXPECT_NE(signed_request.find("Signature=" + sig.signature), std::string::npos);
}

TEST_P(SigV4Suite, QuerySigningMatches) {
  SuiteCase c = load_case(GetParam());
  const qr::aws::Signer signer(c.credentials, c.region, c.service, c.options);
  qr::aws::SignableRequest req{c.request.method, c.request.path,
                               qr::aws::parse_query(c.request.raw_query), c.request.headers};
  const auto sig = signer.presign(req, qr::crypto::sha256_hex(c.request.body), c.expires, c.time);
  EXPECT_EQ(sig.canonical_request, expected(c.name, "query-canonical-request.txt"));
  EXPECT_EQ(sig.string_to_sign, expected(c.name, "query-string-to-sign.txt"));
  EXPECT_EQ(sig.signature, expected(c.name, "query-signature.txt"));
  const std::string signed_request = read_file(suite_dir / c.name / "query-signed-request.txt");
  EXPECT_NE(signed_request.find("X-Amz-Signature=" + sig.signature), std::string::npos);
}

TEST_P(SigV4Suite, PresignedRequestVerifies) {
  // The verifier accepts what the signer produced, within the expiry, and nothing after it.
  SuiteCase c = load_case(GetParam());
  const qr::aws::Signer signer(c.credentials, c.region, c.service, c.options);
  qr::aws::SignableRequest req{c.request.method, c.request.path,
                               qr::aws::parse_query(c.request.raw_query), c.request.headers};
  const std::string hash = qr::crypto::sha256_hex(c.request.body);
  const auto sig = signer.presign(req, hash, c.expires, c.time);
  qr::aws::SignableRequest received = req;
  received.query = qr::aws::parse_query(sig.query_string);
  EXPECT_TRUE(signer.verify_presigned(received, hash, c.time + c.expires).has_value());
  const auto late =
      signer.verify_presigned(received, hash, c.time + c.expires + std::chrono::seconds{1});
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, qr::ErrorCode::forbidden);
}

INSTANTIATE_TEST_SUITE_P(AllCases, SigV4Suite, ::testing::ValuesIn(case_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n) {
                             if (ch == '-') ch = '_';
                           }
                           return n;
                         });

TEST(SigV4SuiteData, IsPresent) {
  // Guards against a missing suite silently instantiating zero cases.
  EXPECT_GE(case_names().size(), 30u) << "suite not found at " << suite_dir;
}

}  // namespace
