// ksctl topics create, delete and describe-config, over kafka.sidecar.v1.Admin.
#include <grpcpp/client_context.h>

#include "kafka/sidecar/v1/admin.grpc.pb.h"
#include "tools/ksctl/commands.hpp"
#include "tools/ksctl/ksctl.hpp"

namespace kafka::ksctl {
namespace {

namespace v1 = kafka::sidecar::v1;

std::string_view sourceName(v1::ConfigSource source) {
  switch (source) {
    case v1::CONFIG_SOURCE_DYNAMIC_TOPIC:
      return "topic";
    case v1::CONFIG_SOURCE_DYNAMIC_BROKER:
      return "broker";
    case v1::CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER:
      return "default-broker";
    case v1::CONFIG_SOURCE_STATIC_BROKER:
      return "static-broker";
    case v1::CONFIG_SOURCE_DEFAULT:
      return "default";
    case v1::CONFIG_SOURCE_DYNAMIC_BROKER_LOGGER:
      return "broker-logger";
    case v1::CONFIG_SOURCE_CLIENT_METRICS:
      return "client-metrics";
    case v1::CONFIG_SOURCE_GROUP:
      return "group";
    default:
      return "unknown";
  }
}

// Applies one flag of `topics create` to `topic`; on a usage error returns the message.
std::optional<std::string> applyCreateFlag(std::string_view flag, std::string_view value,
                                           v1::NewTopic& topic) {
  if (flag == "-p") {
    auto partitions = parseInteger<int32_t>(value);
    if (!partitions || *partitions < 1) {
      return invalidValue(flag, value, "a partition count, 1 or more");
    }
    topic.set_partitions(*partitions);
  } else if (flag == "-r") {
    auto factor = parseInteger<int16_t>(value);
    if (!factor || *factor < 1) return invalidValue(flag, value, "a replication factor, 1 or more");
    topic.set_replication_factor(*factor);
  } else {
    const size_t equals = value.find('=');
    if (equals == 0 || equals == std::string_view::npos) {
      return invalidValue(flag, value, "NAME=VALUE, with a non-empty NAME");
    }
    const std::string name(value.substr(0, equals));
    if (topic.configs().contains(name)) return "--config " + name + " is given twice";
    (*topic.mutable_configs())[name] = std::string(value.substr(equals + 1));
  }
  return std::nullopt;
}

std::optional<std::string> parseCreate(std::span<const std::string_view> args,
                                       v1::CreateTopicsRequest& request) {
  v1::NewTopic& topic = *request.add_topics();
  bool have_topic = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    const std::string_view flag = arg.starts_with("--") ? arg.substr(0, arg.find('=')) : arg;
    if (flag == "-p" || flag == "-r" || flag == "--config") {
      auto value = takeFlagValue(args, i, flag);
      if (!value) return "missing value for " + std::string(flag);
      if (auto error = applyCreateFlag(flag, *value, topic)) return error;
    } else if (arg == "--validate-only") {
      request.set_validate_only(true);
    } else if (arg.size() > 1 && arg.starts_with("-")) {
      return "unknown flag '" + std::string(flag) + "'";
    } else if (have_topic || arg.empty()) {
      return "unexpected argument '" + std::string(arg) + "'";
    } else {
      topic.set_name(std::string(arg));
      have_topic = true;
    }
  }
  if (!have_topic) return std::string("missing TOPIC");
  return std::nullopt;
}

// Adds the topic names among `args` (no flags allowed but `--key NAME`, into `keys` when given);
// on a usage error returns the message.
std::optional<std::string> parseTopics(std::span<const std::string_view> args,
                                       google::protobuf::RepeatedPtrField<std::string>& topics,
                                       google::protobuf::RepeatedPtrField<std::string>* keys) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    const std::string_view flag = arg.starts_with("--") ? arg.substr(0, arg.find('=')) : arg;
    if (keys != nullptr && flag == "--key") {
      auto value = takeFlagValue(args, i, flag);
      if (!value) return std::string("missing value for --key");
      if (value->empty()) return invalidValue(flag, *value, "a configuration name");
      keys->Add(std::string(*value));
    } else if (arg.size() > 1 && arg.starts_with("-")) {
      return "unknown flag '" + std::string(flag) + "'";
    } else if (arg.empty()) {
      return std::string("invalid value '' for TOPIC: expected a topic name");
    } else {
      topics.Add(std::string(arg));
    }
  }
  if (topics.empty()) return std::string("missing TOPIC");
  return std::nullopt;
}

}  // namespace

int runTopicsCreate(CommandContext& context, std::span<const std::string_view> args) {
  constexpr std::string_view kCommand = "topics create";
  v1::CreateTopicsRequest request;
  request.set_cluster(context.cluster);
  if (auto error = parseCreate(args, request)) return context.usageError(kCommand, *error);

  auto stub = v1::Admin::NewStub(context.channel);
  v1::CreateTopicsResponse response;
  grpc::Status status = stub->CreateTopics(context.callContext().get(), request, &response);
  if (!status.ok()) return context.rpcFailed(status);

  int exit_code = kExitOk;
  for (const v1::CreatedTopic& topic : response.topics()) {
    if (topic.has_error()) {
      printItemFailure(context, kCommand, topic.name(), topic.error().name(),
                       topic.error().message());
      exit_code = kExitNotDelivered;
      continue;
    }
    context.out << (request.validate_only() ? "valid " : "created ") << topic.name();
    if (topic.partitions() >= 0) context.out << " partitions=" << topic.partitions();
    if (topic.replication_factor() >= 0) {
      context.out << " replication_factor=" << topic.replication_factor();
    }
    if (!topic.topic_id().empty()) context.out << " id=" << topic.topic_id();
    context.out << '\n';
  }
  return exit_code;
}

int runTopicsDelete(CommandContext& context, std::span<const std::string_view> args) {
  constexpr std::string_view kCommand = "topics delete";
  v1::DeleteTopicsRequest request;
  request.set_cluster(context.cluster);
  if (auto error = parseTopics(args, *request.mutable_topics(), nullptr)) {
    return context.usageError(kCommand, *error);
  }

  auto stub = v1::Admin::NewStub(context.channel);
  v1::DeleteTopicsResponse response;
  grpc::Status status = stub->DeleteTopics(context.callContext().get(), request, &response);
  if (!status.ok()) return context.rpcFailed(status);

  int exit_code = kExitOk;
  for (const v1::DeletedTopic& topic : response.topics()) {
    if (topic.has_error()) {
      printItemFailure(context, kCommand, topic.name(), topic.error().name(),
                       topic.error().message());
      exit_code = kExitNotDelivered;
      continue;
    }
    context.out << "deleted " << topic.name() << '\n';
  }
  return exit_code;
}

int runTopicsDescribeConfig(CommandContext& context, std::span<const std::string_view> args) {
  constexpr std::string_view kCommand = "topics describe-config";
  v1::DescribeTopicConfigsRequest request;
  request.set_cluster(context.cluster);
  if (auto error = parseTopics(args, *request.mutable_topics(), request.mutable_keys())) {
    return context.usageError(kCommand, *error);
  }

  auto stub = v1::Admin::NewStub(context.channel);
  v1::DescribeTopicConfigsResponse response;
  grpc::Status status = stub->DescribeTopicConfigs(context.callContext().get(), request, &response);
  if (!status.ok()) return context.rpcFailed(status);

  for (const v1::TopicConfigs& topic : response.topics()) {
    if (topic.has_error()) {
      context.out << topic.topic() << " error=" << topic.error().name() << '\n';
      continue;
    }
    for (const v1::ConfigEntry& entry : topic.entries()) {
      context.out << topic.topic() << ' ' << entry.name() << '=';
      if (entry.is_sensitive()) {
        context.out << "(sensitive)";
      } else if (entry.has_value()) {
        context.out << entry.value();
      } else {
        context.out << "(none)";
      }
      context.out << " source=" << sourceName(entry.source());
      if (entry.read_only()) context.out << " read-only";
      context.out << '\n';
    }
  }
  return kExitOk;
}

}  // namespace kafka::ksctl
