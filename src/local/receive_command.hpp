#pragma once
// `qr-upload receive [DIR]`: for people who live in a terminal. Starts the server, creates a
// multi-photo session itself, prints the phone page's QR code, writes each photo into DIR and
// prints one line per photo, then a summary.

#include <span>

namespace qr::local {

/// Runs the command with the arguments after "receive"; the process's exit code.
int receive_command(std::span<char* const> args);

/// The help text.
extern const char* const receive_usage;

}  // namespace qr::local
