// ksctl: the command-line client of kafka-sidecar's gRPC API.
//
// runKsctl() is the whole program behind main(), reading and writing the given streams instead of
// stdin, stdout and stderr so that tests can run it in-process. Commands live in a table
// (commands.hpp); adding one means writing its function and adding a row.
#pragma once

#include <iostream>
#include <istream>
#include <ostream>
#include <span>
#include <string_view>

namespace kafka::ksctl {

// Exit codes.
inline constexpr int kExitOk = 0;
// The sidecar answered with an error or was unreachable; for `produce` also: the last acks did
// not come within --timeout, or the input could not be read.
inline constexpr int kExitRpcFailed = 1;
inline constexpr int kExitUsage = 2;  // bad flags or arguments
// The call worked, but some of its items failed: records of `produce`, topics of `topics create`
// and `topics delete`, brokers of `groups list`, partitions of `groups reset-offsets`.
inline constexpr int kExitNotDelivered = 3;

// `args` excludes the program name; `in` is read only by commands that take input (`produce`).
// Returns the exit code.
int runKsctl(std::span<const std::string_view> args, std::ostream& out, std::ostream& err,
             std::istream& in = std::cin);

}  // namespace kafka::ksctl
