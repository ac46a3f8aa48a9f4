// ksctl groups: list, describe and reset-offsets, over kafka.sidecar.v1.Admin.
#include <grpcpp/client_context.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kafka/sidecar/v1/admin.grpc.pb.h"
#include "tools/ksctl/commands.hpp"
#include "tools/ksctl/ksctl.hpp"

namespace kafka::ksctl {
namespace {

namespace v1 = kafka::sidecar::v1;

int listGroups(CommandContext& context, std::span<const std::string_view> args) {
  constexpr std::string_view kCommand = "groups list";
  if (!args.empty()) {
    return context.usageError(kCommand, "unexpected argument '" + std::string(args[0]) + "'");
  }
  auto stub = v1::Admin::NewStub(context.channel);
  v1::ListGroupsRequest request;
  request.set_cluster(context.cluster);
  v1::ListGroupsResponse response;
  grpc::Status status = stub->ListGroups(context.callContext().get(), request, &response);
  if (!status.ok()) return context.rpcFailed(status);

  for (const v1::ListedGroup& group : response.groups()) {
    context.out << group.group();
    if (!group.protocol_type().empty()) context.out << " type=" << group.protocol_type();
    if (!group.state().empty()) context.out << " state=" << group.state();
    context.out << " coordinator=" << group.coordinator() << '\n';
  }
  for (const v1::BrokerError& broker : response.failed_brokers()) {
    printItemFailure(context, kCommand, "broker " + std::to_string(broker.node_id()),
                     broker.error().name(), broker.error().message());
  }
  return response.failed_brokers().empty() ? kExitOk : kExitNotDelivered;
}

// "orders:0,1;payments:2"
std::string assignmentText(const google::protobuf::RepeatedPtrField<v1::TopicPartitions>& topics) {
  std::string out;
  for (const v1::TopicPartitions& topic : topics) {
    if (!out.empty()) out += ';';
    out += topic.topic() + ':';
    for (int i = 0; i < topic.partitions_size(); ++i) {
      if (i > 0) out += ',';
      out += std::to_string(topic.partitions(i));
    }
  }
  return out;
}

int describeGroup(CommandContext& context, std::span<const std::string_view> args) {
  constexpr std::string_view kCommand = "groups describe";
  if (args.empty()) return context.usageError(kCommand, "missing GROUP");
  if (args.size() > 1) {
    return context.usageError(kCommand, "unexpected argument '" + std::string(args[1]) + "'");
  }
  if (args[0].empty() || (args[0].size() > 1 && args[0].starts_with("-"))) {
    return context.usageError(kCommand, invalidValue("GROUP", args[0], "a group name"));
  }
  auto stub = v1::Admin::NewStub(context.channel);
  v1::DescribeGroupRequest request;
  request.set_cluster(context.cluster);
  request.set_group(std::string(args[0]));
  v1::DescribeGroupResponse response;
  grpc::Status status = stub->DescribeGroup(context.callContext().get(), request, &response);
  if (!status.ok()) return context.rpcFailed(status);

  context.out << response.group() << " state=" << response.state();
  if (!response.protocol_type().empty()) context.out << " type=" << response.protocol_type();
  if (!response.protocol().empty()) context.out << " protocol=" << response.protocol();
  context.out << " coordinator=" << response.coordinator() << " members=" << response.members_size()
              << '\n';
  for (const v1::GroupMember& member : response.members()) {
    context.out << "  member=" << member.member_id() << " client=" << member.client_id()
                << " host=" << member.host();
    if (!member.group_instance_id().empty()) {
      context.out << " instance=" << member.group_instance_id();
    }
    if (!member.assignment().empty()) {
      context.out << " assignment=" << assignmentText(member.assignment());
    }
    if (member.has_assignment_error()) {
      context.out << " assignment-error=" << member.assignment_error().name();
    }
    context.out << '\n';
  }
  return kExitOk;
}

// Adds `--topic TOPIC[:P,P...]` to `selected` (TOPIC with no partitions: all of them);
// on a usage error returns the message.
std::optional<std::string> addTopic(
    std::string_view value, std::map<std::string, std::optional<std::set<int32_t>>>& selected,
    std::vector<std::string>& order) {
  const size_t colon = value.find(':');
  const std::string topic(value.substr(0, colon));
  if (topic.empty()) return invalidValue("--topic", value, "TOPIC or TOPIC:P,P...");
  std::optional<std::set<int32_t>> partitions;
  if (colon != std::string_view::npos) {
    partitions.emplace();
    std::string_view rest = value.substr(colon + 1);
    for (;;) {
      const size_t comma = rest.find(',');
      auto partition = parseInteger<int32_t>(rest.substr(0, comma));
      if (!partition || *partition < 0) {
        return invalidValue("--topic", value, "TOPIC or TOPIC:P,P... with partitions 0 or more");
      }
      partitions->insert(*partition);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  }
  auto [entry, added] = selected.try_emplace(topic, partitions);
  if (added) {
    order.push_back(topic);
  } else if (!entry->second || !partitions) {
    entry->second.reset();  // the whole topic was asked for
  } else {
    entry->second->insert(partitions->begin(), partitions->end());
  }
  return std::nullopt;
}

// Sets the request's target from one of the --to-* flags; on a usage error returns the message.
std::optional<std::string> applyTarget(std::string_view flag, std::optional<std::string_view> value,
                                       v1::ResetGroupOffsetsRequest& request) {
  if (request.target() != v1::RESET_TARGET_UNSPECIFIED) {
    return std::string(
        "only one of --to-earliest, --to-latest, --to-timestamp and --to-offset may be given");
  }
  if (flag == "--to-earliest") {
    request.set_target(v1::RESET_TARGET_EARLIEST);
  } else if (flag == "--to-latest") {
    request.set_target(v1::RESET_TARGET_LATEST);
  } else {
    if (!value) return "missing value for " + std::string(flag);
    auto number = parseInteger<int64_t>(*value);
    if (!number || *number < 0) {
      return invalidValue(flag, *value,
                          flag == "--to-offset" ? "an offset, 0 or more"
                                                : "milliseconds since the epoch, 0 or more");
    }
    if (flag == "--to-offset") {
      request.set_target(v1::RESET_TARGET_OFFSET);
      request.set_offset(*number);
    } else {
      request.set_target(v1::RESET_TARGET_TIMESTAMP);
      request.set_timestamp_ms(*number);
    }
  }
  return std::nullopt;
}

std::optional<std::string> parseReset(std::span<const std::string_view> args,
                                      v1::ResetGroupOffsetsRequest& request) {
  std::map<std::string, std::optional<std::set<int32_t>>> selected;
  std::vector<std::string> order;
  bool have_group = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    const std::string_view flag = arg.starts_with("--") ? arg.substr(0, arg.find('=')) : arg;
    if (flag == "--to-earliest" || flag == "--to-latest") {
      if (flag != arg) return "unknown flag '" + std::string(arg) + "'";
      if (auto error = applyTarget(flag, std::nullopt, request)) return error;
    } else if (flag == "--to-timestamp" || flag == "--to-offset") {
      if (auto error = applyTarget(flag, takeFlagValue(args, i, flag), request)) return error;
    } else if (flag == "--topic") {
      auto value = takeFlagValue(args, i, flag);
      if (!value) return std::string("missing value for --topic");
      if (auto error = addTopic(*value, selected, order)) return error;
    } else if (arg == "--dry-run") {
      request.set_dry_run(true);
    } else if (arg.size() > 1 && arg.starts_with("-")) {
      return "unknown flag '" + std::string(flag) + "'";
    } else if (have_group || arg.empty()) {
      return "unexpected argument '" + std::string(arg) + "'";
    } else {
      request.set_group(std::string(arg));
      have_group = true;
    }
  }
  if (!have_group) return std::string("missing GROUP");
  if (request.target() == v1::RESET_TARGET_UNSPECIFIED) {
    return std::string("missing --to-earliest, --to-latest, --to-timestamp or --to-offset");
  }
  if (order.empty()) return std::string("missing --topic");
  for (const std::string& topic : order) {
    v1::TopicSelection* selection = request.add_topics();
    selection->set_topic(topic);
    if (const auto& partitions = selected[topic]) {
      selection->mutable_partitions()->Add(partitions->begin(), partitions->end());
    }
  }
  return std::nullopt;
}

int resetOffsets(CommandContext& context, std::span<const std::string_view> args) {
  constexpr std::string_view kCommand = "groups reset-offsets";
  v1::ResetGroupOffsetsRequest request;
  request.set_cluster(context.cluster);
  if (auto error = parseReset(args, request)) return context.usageError(kCommand, *error);

  auto stub = v1::Admin::NewStub(context.channel);
  v1::ResetGroupOffsetsResponse response;
  grpc::Status status = stub->ResetGroupOffsets(context.callContext().get(), request, &response);
  if (!status.ok()) return context.rpcFailed(status);

  int exit_code = kExitOk;
  for (const v1::TopicOffsetReset& topic : response.topics()) {
    if (topic.has_error()) {
      printItemFailure(context, kCommand, topic.topic(), topic.error().name(),
                       topic.error().message());
      exit_code = kExitNotDelivered;
      continue;
    }
    for (const v1::PartitionOffsetReset& p : topic.partitions()) {
      if (p.has_error()) {
        printItemFailure(context, kCommand, topic.topic() + " " + std::to_string(p.partition()),
                         p.error().name(), p.error().message());
        exit_code = kExitNotDelivered;
        continue;
      }
      context.out << topic.topic() << ' ' << p.partition()
                  << " previous=" << (p.has_previous() ? std::to_string(p.previous()) : "-")
                  << " offset=" << p.offset() << '\n';
    }
  }
  if (request.dry_run()) context.err << "ksctl: " << kCommand << ": dry run, nothing committed\n";
  return exit_code;
}

}  // namespace

int runGroups(CommandContext& context, std::span<const std::string_view> args) {
  if (args.empty()) return listGroups(context, args);
  if (args[0] == "list") return listGroups(context, args.subspan(1));
  if (args[0] == "describe") return describeGroup(context, args.subspan(1));
  if (args[0] == "reset-offsets") return resetOffsets(context, args.subspan(1));
  return context.usageError("groups", "unknown subcommand '" + std::string(args[0]) +
                                          "': expected list, describe or reset-offsets");
}

}  // namespace kafka::ksctl
