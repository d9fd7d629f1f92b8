// The http_api_handler bootstrap (provided.al2023): POST /sessions, GET /upload-url,
// GET /sessions/{sessionId}.

#include "functions/http_api_handler.hpp"
#include "lambda/bootstrap.hpp"

int main(int argc, char** argv) {
  return qr::lambda::run_bootstrap(
      {"qr-upload-http-api", /*needs_ws_api=*/false, &qr::functions::http_api_handler}, argc, argv);
}
