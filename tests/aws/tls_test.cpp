// The client's TLS: verification against a CA file, SNI, host name checking, keep-alive over TLS.
// The server is Python's ssl module on loopback with a certificate made by the openssl CLI.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "aws/http_client.hpp"
#include "aws_test_support.hpp"

namespace {

using qr::aws::testing::PeerProcess;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("qr-aws-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    qr::aws::testing::run_command(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost -keyout " +
        (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string() + " 2>/dev/null");
    peer_ = std::make_unique<PeerProcess>(
        std::vector<std::string>{qr::aws::testing::python,
                                 (qr::aws::testing::test_dir / "py" / "tls_server.py").string(),
                                 (dir_ / "cert.pem").string(), (dir_ / "key.pem").string()},
        std::chrono::seconds(20));
  }
  static void TearDownTestSuite() {
    peer_.reset();
    std::filesystem::remove_all(dir_);
  }

  static qr::aws::HttpClientOptions trusting() {
    qr::aws::HttpClientOptions o;
    o.ca_file = (dir_ / "cert.pem").string();
    return o;
  }

  static std::filesystem::path dir_;
  static std::unique_ptr<PeerProcess> peer_;
};

std::filesystem::path TlsTest::dir_;
std::unique_ptr<PeerProcess> TlsTest::peer_;

TEST_F(TlsTest, TrustedCertificateWithMatchingNameConnectsAndSendsSni) {
  auto http = qr::aws::make_http_client({true, "localhost", peer_->port(), ""}, trusting());
  auto r = http->send({"GET", "/x", {}, {}});
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->body, "ok");
  auto sni = http->send({"GET", "/sni", {}, {}});  // same kept-alive TLS connection
  ASSERT_TRUE(sni) << sni.error().detail;
  EXPECT_EQ(sni->body, "localhost");
}

TEST_F(TlsTest, UntrustedCertificateIsRejected) {
  // The system bundle does not know this self-signed certificate.
  auto http = qr::aws::make_http_client({true, "localhost", peer_->port(), ""});
  auto r = http->send({"GET", "/x", {}, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, qr::ErrorCode::unavailable);
}

TEST_F(TlsTest, HashedCaDirectoryFromSslCertDirIsTrustedLazily) {
  // With no CA file given, a hashed directory is preferred: put the peer's certificate in one
  // under its subject-hash name, as c_rehash would, and point SSL_CERT_DIR at it.
  const auto hashed = dir_ / "hashed";
  std::filesystem::create_directories(hashed);
  ASSERT_EQ(std::system(("ln -sf " + (dir_ / "cert.pem").string() + " " + hashed.string() +
                         "/$(openssl x509 -hash -noout -in " + (dir_ / "cert.pem").string() + ").0")
                            .c_str()),
            0);
  const char* old_file = std::getenv("SSL_CERT_FILE");
  const std::string saved_file = old_file ? old_file : "";
  ::unsetenv("SSL_CERT_FILE");
  ::setenv("SSL_CERT_DIR", hashed.c_str(), 1);
  EXPECT_EQ(qr::aws::hashed_ca_dir(qr::aws::process_environment()), hashed.string());
  auto http = qr::aws::make_http_client({true, "localhost", peer_->port(), ""});
  auto r = http->send({"GET", "/x", {}, {}});
  ::unsetenv("SSL_CERT_DIR");
  if (old_file) ::setenv("SSL_CERT_FILE", saved_file.c_str(), 1);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->body, "ok");
}

TEST_F(TlsTest, CertificateForAnotherNameIsRejected) {
  auto http = qr::aws::make_http_client({true, "127.0.0.1", peer_->port(), ""}, trusting());
  auto r = http->send({"GET", "/x", {}, {}});
  ASSERT_FALSE(r);
}

}  // namespace
