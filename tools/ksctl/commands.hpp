// The ksctl command table and what every command gets to work with.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include <charconv>
#include <chrono>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "proto/status_code_name.hpp"

namespace kafka::ksctl {

// Shared by every command: where to send calls, and where to write. Owned by runKsctl().
struct CommandContext {
  std::shared_ptr<grpc::Channel> channel;
  std::string cluster;  // passed in every request's `cluster`; empty means "default"
  std::chrono::milliseconds timeout{};
  bool timeout_given = false;  // --timeout was on the command line (else `timeout` is the default)
  std::string token;  // the bearer token sent with every call (--token-file); empty for none
  std::istream& in;
  std::ostream& out;
  std::ostream& err;

  // A context for one call, with the --timeout deadline and the bearer token.
  std::unique_ptr<grpc::ClientContext> callContext() const;
  // Adds the bearer token, if any, to a call's metadata.
  void authorize(grpc::ClientContext& call) const;
  // Prints "ksctl: <CODE>: <message>" and returns kExitRpcFailed.
  int rpcFailed(const grpc::Status& status) const;
  // Prints "ksctl: <command>: <message>" and returns kExitUsage.
  int usageError(std::string_view command, std::string_view message) const;
};

struct Command {
  std::string_view name;
  std::string_view arguments;  // e.g. "[-v]", shown in help
  std::string_view summary;    // one line
  std::string_view details;    // shown by `ksctl COMMAND --help`; may be empty
  // `args` are the command's own arguments (global flags already removed).
  int (*run)(CommandContext& context, std::span<const std::string_view> args);
};

// Every command, in the order help lists them.
std::span<const Command> commands();

// Commands, one function each (admin_commands.cpp). `topics` lists topics, or runs one of the
// subcommands of topic_commands.cpp.
int runBrokers(CommandContext& context, std::span<const std::string_view> args);
int runTopics(CommandContext& context, std::span<const std::string_view> args);
int runOffsets(CommandContext& context, std::span<const std::string_view> args);
// topic_commands.cpp: `topics create|delete|describe-config`, given the subcommand's arguments.
int runTopicsCreate(CommandContext& context, std::span<const std::string_view> args);
int runTopicsDelete(CommandContext& context, std::span<const std::string_view> args);
int runTopicsDescribeConfig(CommandContext& context, std::span<const std::string_view> args);
// group_commands.cpp: `groups [list]`, `groups describe`, `groups reset-offsets`.
int runGroups(CommandContext& context, std::span<const std::string_view> args);
// produce_command.cpp
int runProduce(CommandContext& context, std::span<const std::string_view> args);
// consume_command.cpp
int runConsume(CommandContext& context, std::span<const std::string_view> args);

// The value of flag `name` at args[i]: the text after "NAME=", or else the next argument (and
// then `i` moves on to it); nullopt when there is none.
std::optional<std::string_view> takeFlagValue(std::span<const std::string_view> args, size_t& i,
                                              std::string_view name);

// "invalid value 'VALUE' for FLAG: expected WANTED": how commands refuse a flag's value.
std::string invalidValue(std::string_view flag, std::string_view value, std::string_view wanted);

// The whole of `text` as a decimal integer of type T; nullopt when it is not one, or does not
// fit.
template <class T>
std::optional<T> parseInteger(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Prints "ksctl: COMMAND: ITEM: CODE: message" to `err`, for one item (a topic, a partition, a
// broker) that a call could not handle.
void printItemFailure(const CommandContext& context, std::string_view command,
                      std::string_view item, std::string_view code, std::string_view message);

using sidecar::statusCodeName;

}  // namespace kafka::ksctl
