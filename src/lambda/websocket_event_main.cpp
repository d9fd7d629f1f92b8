// The websocket_event_handler bootstrap (provided.al2023): $connect, $disconnect and S3
// ObjectCreated events.

#include "functions/websocket_event_handler.hpp"
#include "lambda/bootstrap.hpp"

int main(int argc, char** argv) {
  return qr::lambda::run_bootstrap(
      {"qr-upload-websocket-event", /*needs_ws_api=*/true, &qr::functions::websocket_event_handler},
      argc, argv);
}
