#pragma once
// The settings of `qr-upload serve` and `qr-upload receive`: each flag also read from an
// environment variable (the environment first, flags override), with a clear error for a bad one.

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "local/server.hpp"

namespace qr::local {

/// A flag of one subcommand's own (receive's --count, --invert...).
struct ExtraFlag {
  std::string_view name;
  bool takes_value = true;
  /// Applies the value (empty for a flag without one); an error message, or nullopt.
  std::function<std::optional<std::string>(std::string_view value)> apply;
};

/// What the command line said.
struct CommandLine {
  ServerOptions options;
  std::vector<std::string> positional;  ///< arguments that are not flags, in order
  bool help = false;                    ///< -h or --help
};

/// Parses `args` (after the subcommand) on top of `defaults`: the environment, then the flags.
/// `extra` are the subcommand's own flags; `max_positional` how many plain arguments it takes.
Result<CommandLine> parse_command_line(std::span<char* const> args, ServerOptions defaults,
                                       std::span<const ExtraFlag> extra = {},
                                       std::size_t max_positional = 0);

/// The pages' folder unless --web-dir says otherwise (this checkout's web/).
std::filesystem::path default_web_dir();

/// The server settings' part of the help text (one line per flag, with its variable).
extern const char* const server_options_help;

}  // namespace qr::local
