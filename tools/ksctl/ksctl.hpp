// ksctl: the command-line client of kafka-sidecar's gRPC API.
//
// runKsctl() is the whole program behind main(), writing to the given streams instead of
// stdout/stderr so that tests can run it in-process. Commands live in a table (commands.hpp);
// adding one means writing its function and adding a row.
#pragma once

#include <ostream>
#include <span>
#include <string_view>

namespace kafka::ksctl {

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRpcFailed = 1;  // the sidecar answered with an error, or was unreachable
inline constexpr int kExitUsage = 2;      // bad flags or arguments

// `args` excludes the program name. Returns the exit code.
int runKsctl(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace kafka::ksctl
