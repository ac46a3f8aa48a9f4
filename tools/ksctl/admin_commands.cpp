// ksctl commands over kafka.sidecar.v1.Admin: brokers, topics (the listing) and offsets.
#include <grpcpp/client_context.h>

#include "kafka/sidecar/v1/admin.grpc.pb.h"
#include "tools/ksctl/commands.hpp"
#include "tools/ksctl/ksctl.hpp"

namespace kafka::ksctl {
namespace {

namespace v1 = kafka::sidecar::v1;

std::string joinIds(const google::protobuf::RepeatedField<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
  }
  return out;
}

std::string hostPort(const std::string& host, int32_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

int runBrokers(CommandContext& context, std::span<const std::string_view> args) {
  if (!args.empty())
    return context.usageError("brokers", "unexpected argument '" + std::string(args[0]) + "'");

  auto stub = v1::Admin::NewStub(context.channel);
  v1::DescribeClusterRequest request;
  request.set_cluster(context.cluster);
  v1::DescribeClusterResponse response;
  grpc::Status status = stub->DescribeCluster(context.callContext().get(), request, &response);
  if (!status.ok()) return context.rpcFailed(status);

  for (const v1::Broker& broker : response.brokers()) {
    context.out << broker.node_id() << ' ' << hostPort(broker.host(), broker.port());
    if (!broker.rack().empty()) context.out << " rack=" << broker.rack();
    if (broker.node_id() == response.controller_id()) context.out << " (controller)";
    context.out << '\n';
  }
  return kExitOk;
}

int runTopics(CommandContext& context, std::span<const std::string_view> args) {
  if (!args.empty()) {
    if (args[0] == "create") return runTopicsCreate(context, args.subspan(1));
    if (args[0] == "delete") return runTopicsDelete(context, args.subspan(1));
    if (args[0] == "describe-config") return runTopicsDescribeConfig(context, args.subspan(1));
  }
  bool verbose = false;
  for (std::string_view arg : args) {
    if (arg == "-v" || arg == "--verbose") {
      verbose = true;
    } else {
      return context.usageError("topics", "unexpected argument '" + std::string(arg) + "'");
    }
  }

  auto stub = v1::Admin::NewStub(context.channel);
  v1::ListTopicsRequest request;
  request.set_cluster(context.cluster);
  v1::ListTopicsResponse response;
  grpc::Status status = stub->ListTopics(context.callContext().get(), request, &response);
  if (!status.ok()) return context.rpcFailed(status);

  for (const v1::Topic& topic : response.topics()) {
    context.out << topic.name() << " partitions=" << topic.partitions_size();
    if (topic.internal()) context.out << " internal";
    if (topic.has_error()) context.out << " error=" << topic.error().name();
    context.out << '\n';
    if (!verbose) continue;
    for (const v1::Partition& p : topic.partitions()) {
      context.out << "  partition=" << p.partition() << " leader=" << p.leader();
      if (p.leader_epoch() >= 0) context.out << " epoch=" << p.leader_epoch();
      context.out << " replicas=" << joinIds(p.replicas()) << " isr=" << joinIds(p.isr());
      if (!p.offline_replicas().empty())
        context.out << " offline=" << joinIds(p.offline_replicas());
      if (p.has_error()) context.out << " error=" << p.error().name();
      context.out << '\n';
    }
  }
  return kExitOk;
}

int runOffsets(CommandContext& context, std::span<const std::string_view> args) {
  constexpr std::string_view kCommand = "offsets";
  v1::DescribeOffsetsRequest request;
  request.set_cluster(context.cluster);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--read-committed") {
      request.set_read_committed(true);
    } else if (arg == "-g") {
      auto value = takeFlagValue(args, i, arg);
      if (!value) return context.usageError(kCommand, "missing value for -g");
      if (value->empty()) {
        return context.usageError(kCommand, invalidValue(arg, *value, "a group name"));
      }
      request.set_group(std::string(*value));
    } else if (arg.size() > 1 && arg.starts_with("-")) {
      return context.usageError(kCommand, "unknown flag '" + std::string(arg) + "'");
    } else if (arg.empty()) {
      return context.usageError(kCommand, "invalid value '' for TOPIC: expected a topic name");
    } else {
      request.add_topics(std::string(arg));
    }
  }
  if (request.topics().empty()) return context.usageError(kCommand, "missing TOPIC");

  auto stub = v1::Admin::NewStub(context.channel);
  v1::DescribeOffsetsResponse response;
  grpc::Status status = stub->DescribeOffsets(context.callContext().get(), request, &response);
  if (!status.ok()) return context.rpcFailed(status);

  const bool group = !request.group().empty();
  for (const v1::TopicOffsets& topic : response.topics()) {
    if (topic.has_error()) {
      context.out << topic.topic() << " error=" << topic.error().name() << '\n';
      continue;
    }
    for (const v1::PartitionOffsetInfo& p : topic.partitions()) {
      context.out << topic.topic() << ' ' << p.partition() << " earliest=" << p.earliest()
                  << " latest=" << p.latest();
      if (group) {
        context.out << " committed=" << (p.has_committed() ? std::to_string(p.committed()) : "-")
                    << " lag=" << (p.has_lag() ? std::to_string(p.lag()) : "-");
      }
      if (p.has_error()) context.out << " error=" << p.error().name();
      context.out << '\n';
    }
  }
  return kExitOk;
}

}  // namespace kafka::ksctl
