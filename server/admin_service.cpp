#include "server/admin_service.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <map>

#include "client_core/group/consumer_protocol.hpp"
#include "server/service_status.hpp"
#include "server/unary_reactor.hpp"

namespace kafka::sidecar {
namespace {

void fillError(ErrorCode code, const std::string& context, v1::KafkaError& out) {
  fillKafkaError({code, context + ": " + std::string(errorDescription(code))}, out);
}

grpc::Status metadataFailed(const std::string& cluster, const Error& error) {
  return {grpc::StatusCode::UNAVAILABLE,
          "cluster '" + cluster + "': cannot fetch metadata: " + error.toString()};
}

// Starts a metadata refresh of every topic and answers with fill(snapshot, *response) once it
// completes. The callback owns nothing of the call but the reactor's Finisher.
template <class Response, class Fill>
grpc::ServerUnaryReactor* answerFromMetadata(const ClusterRegistry& clusters,
                                             const std::string& name, Response* response,
                                             Fill fill) {
  auto* reactor = new UnaryReactor();
  std::shared_ptr<Cluster> cluster = clusters.find(name);
  if (!cluster) {
    reactor->finishNow(unknownCluster(clusters, name));
    return reactor;
  }
  cluster->refreshMetadata({}, [finisher = reactor->finisher(), cluster_name = cluster->name(),
                                response, fill](Result<MetadataPtr> result) {
    if (!finisher->claim()) return;
    if (!result.ok()) {
      finisher->finish(metadataFailed(cluster_name, result.error()));
      return;
    }
    fill(*result.value(), *response);
    finisher->finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* finishedWith(grpc::Status status) {
  auto* reactor = new UnaryReactor();
  reactor->finishNow(std::move(status));
  return reactor;
}

// How long an admin operation may retry: until the caller's deadline, 30 s at most.
std::chrono::milliseconds budgetOf(const grpc::CallbackServerContext& context) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      context.deadline() - std::chrono::system_clock::now());
  return std::clamp(left, std::chrono::milliseconds(1), admin::kDefaultAdminTimeout);
}

// Runs operation(executor, cluster, args..., done) on the named cluster and answers with
// fill(value, *response) once `done` gets a value, or with the status of its error. As
// answerFromMetadata, the callback owns nothing of the call but the reactor's Finisher.
template <class T, class Response, class Fill, class Operation, class... Args>
grpc::ServerUnaryReactor* answerFromOperation(const ClusterRegistry& clusters,
                                              const std::string& name, Response* response,
                                              Fill fill, Operation operation,
                                              const boost::asio::any_io_executor& executor,
                                              Args... args) {
  auto* reactor = new UnaryReactor();
  std::shared_ptr<Cluster> cluster = clusters.find(name);
  if (!cluster) {
    reactor->finishNow(unknownCluster(clusters, name));
    return reactor;
  }
  std::function<void(Result<T>)> done = [finisher = reactor->finisher(),
                                         cluster_name = cluster->name(), response,
                                         fill](Result<T> result) {
    if (!finisher->claim()) return;
    if (!result.ok()) {
      finisher->finish(statusOf(result.error(), "cluster '" + cluster_name + "'"));
      return;
    }
    fill(*result, *response);
    finisher->finish(grpc::Status::OK);
  };
  operation(executor, cluster, std::move(args)..., std::move(done));
  return reactor;
}

void fillTopicPartitions(const std::vector<TopicPartition>& partitions,
                         google::protobuf::RepeatedPtrField<v1::TopicPartitions>& out) {
  for (const group::TopicPartitions& grouped : group::groupByTopic(partitions)) {
    v1::TopicPartitions* topic = out.Add();
    topic->set_topic(grouped.topic);
    topic->mutable_partitions()->Add(grouped.partitions.begin(), grouped.partitions.end());
  }
}

// The first refusal of check(item) for the items, or OK.
template <class Items, class Check>
grpc::Status allOf(const Items& items, Check check) {
  for (const auto& item : items) {
    if (grpc::Status status = check(item); !status.ok()) return status;
  }
  return grpc::Status::OK;
}

// What the Admin calls need of a token that is not an admin (see admin_service.hpp).

grpc::Status mayCall(const Caller& caller, std::string_view call) {
  return caller.mayAdmin(call);
}

grpc::Status mayDescribeTopics(const Caller& caller,
                               const google::protobuf::RepeatedPtrField<std::string>& topics) {
  return allOf(topics, [&caller](const std::string& topic) { return caller.mayDescribe(topic); });
}

grpc::Status mayDescribeOffsets(const Caller& caller, const v1::DescribeOffsetsRequest& request) {
  grpc::Status status = mayDescribeTopics(caller, request.topics());
  if (status.ok() && !request.group().empty()) status = caller.mayUseGroup(request.group());
  return status;
}

grpc::Status mayResetOffsets(const Caller& caller, const v1::ResetGroupOffsetsRequest& request) {
  grpc::Status status = caller.mayUseGroup(request.group());
  if (!status.ok()) return status;
  return allOf(request.topics(), [&caller](const v1::TopicSelection& selection) {
    return caller.mayConsume(selection.topic());
  });
}

}  // namespace

template <class Check, class Arg>
grpc::Status AdminService::allowed(const grpc::CallbackServerContext& context, Check check,
                                   const Arg& arg) const {
  Caller caller;
  grpc::Status status = authorizer_.authenticate(context, caller);
  if (!status.ok() || caller.admin()) return status;
  return std::invoke(check, caller, arg);
}

grpc::ServerUnaryReactor* AdminService::DescribeCluster(grpc::CallbackServerContext* context,
                                                        const v1::DescribeClusterRequest* request,
                                                        v1::DescribeClusterResponse* response) {
  if (grpc::Status refused = allowed(*context, mayCall, "Admin.DescribeCluster"); !refused.ok()) {
    return finishedWith(std::move(refused));
  }
  return answerFromMetadata(clusters_, request->cluster(), response,
                            [](const MetadataSnapshot& metadata, v1::DescribeClusterResponse& out) {
                              fillDescribeCluster(metadata, out);
                            });
}

grpc::ServerUnaryReactor* AdminService::ListTopics(grpc::CallbackServerContext* context,
                                                   const v1::ListTopicsRequest* request,
                                                   v1::ListTopicsResponse* response) {
  if (grpc::Status refused = allowed(*context, mayCall, "Admin.ListTopics"); !refused.ok()) {
    return finishedWith(std::move(refused));
  }
  return answerFromMetadata(clusters_, request->cluster(), response,
                            [](const MetadataSnapshot& metadata, v1::ListTopicsResponse& out) {
                              fillListTopics(metadata, out);
                            });
}

grpc::ServerUnaryReactor* AdminService::DescribeOffsets(grpc::CallbackServerContext* context,
                                                        const v1::DescribeOffsetsRequest* request,
                                                        v1::DescribeOffsetsResponse* response) {
  if (grpc::Status refused = allowed(*context, mayDescribeOffsets, *request); !refused.ok()) {
    return finishedWith(std::move(refused));
  }
  consumer::OffsetsQuery query;
  query.topics.assign(request->topics().begin(), request->topics().end());
  query.group = request->group();
  if (request->read_committed()) query.isolation = consumer::IsolationLevel::kReadCommitted;
  return answerFromOperation<std::vector<consumer::TopicOffsets>>(
      clusters_, request->cluster(), response, fillDescribeOffsets, consumer::describeOffsets,
      executor_, std::move(query));
}

grpc::ServerUnaryReactor* AdminService::CreateTopics(grpc::CallbackServerContext* context,
                                                     const v1::CreateTopicsRequest* request,
                                                     v1::CreateTopicsResponse* response) {
  if (grpc::Status refused = allowed(*context, mayCall, "Admin.CreateTopics"); !refused.ok()) {
    return finishedWith(std::move(refused));
  }
  admin::CreateTopicsQuery query;
  if (auto refused = toQuery(*request, query)) return finishedWith(std::move(*refused));
  query.timeout = budgetOf(*context);
  return answerFromOperation<std::vector<admin::CreatedTopic>>(
      clusters_, request->cluster(), response, fillCreateTopics, admin::createTopics, executor_,
      std::move(query));
}

grpc::ServerUnaryReactor* AdminService::DeleteTopics(grpc::CallbackServerContext* context,
                                                     const v1::DeleteTopicsRequest* request,
                                                     v1::DeleteTopicsResponse* response) {
  if (grpc::Status refused = allowed(*context, mayCall, "Admin.DeleteTopics"); !refused.ok()) {
    return finishedWith(std::move(refused));
  }
  admin::DeleteTopicsQuery query;
  query.topics.assign(request->topics().begin(), request->topics().end());
  query.timeout = budgetOf(*context);
  return answerFromOperation<std::vector<admin::DeletedTopic>>(
      clusters_, request->cluster(), response, fillDeleteTopics, admin::deleteTopics, executor_,
      std::move(query));
}

grpc::ServerUnaryReactor* AdminService::DescribeTopicConfigs(
    grpc::CallbackServerContext* context, const v1::DescribeTopicConfigsRequest* request,
    v1::DescribeTopicConfigsResponse* response) {
  if (grpc::Status refused = allowed(*context, mayDescribeTopics, request->topics());
      !refused.ok()) {
    return finishedWith(std::move(refused));
  }
  admin::TopicConfigsQuery query;
  query.topics.assign(request->topics().begin(), request->topics().end());
  query.keys.assign(request->keys().begin(), request->keys().end());
  query.timeout = budgetOf(*context);
  return answerFromOperation<std::vector<admin::TopicConfigs>>(
      clusters_, request->cluster(), response, fillTopicConfigs, admin::describeTopicConfigs,
      executor_, std::move(query));
}

grpc::ServerUnaryReactor* AdminService::ListGroups(grpc::CallbackServerContext* context,
                                                   const v1::ListGroupsRequest* request,
                                                   v1::ListGroupsResponse* response) {
  if (grpc::Status refused = allowed(*context, mayCall, "Admin.ListGroups"); !refused.ok()) {
    return finishedWith(std::move(refused));
  }
  return answerFromOperation<admin::GroupListing>(clusters_, request->cluster(), response,
                                                  fillListGroups, admin::listGroups, executor_,
                                                  budgetOf(*context));
}

grpc::ServerUnaryReactor* AdminService::DescribeGroup(grpc::CallbackServerContext* context,
                                                      const v1::DescribeGroupRequest* request,
                                                      v1::DescribeGroupResponse* response) {
  if (grpc::Status refused = allowed(*context, &Caller::mayUseGroup, request->group());
      !refused.ok()) {
    return finishedWith(std::move(refused));
  }
  return answerFromOperation<admin::GroupDescription>(
      clusters_, request->cluster(), response, fillDescribeGroup, admin::describeGroup, executor_,
      request->group(), budgetOf(*context));
}

grpc::ServerUnaryReactor* AdminService::ResetGroupOffsets(
    grpc::CallbackServerContext* context, const v1::ResetGroupOffsetsRequest* request,
    v1::ResetGroupOffsetsResponse* response) {
  if (grpc::Status refused = allowed(*context, mayResetOffsets, *request); !refused.ok()) {
    return finishedWith(std::move(refused));
  }
  admin::OffsetResetQuery query;
  if (auto refused = toQuery(*request, query)) return finishedWith(std::move(*refused));
  query.timeout = budgetOf(*context);
  return answerFromOperation<std::vector<admin::TopicReset>>(
      clusters_, request->cluster(), response, fillResetGroupOffsets, admin::resetGroupOffsets,
      executor_, std::move(query));
}

std::optional<grpc::Status> toQuery(const v1::CreateTopicsRequest& request,
                                    admin::CreateTopicsQuery& out) {
  out.validate_only = request.validate_only();
  for (int i = 0; i < request.topics_size(); ++i) {
    const v1::NewTopic& in = request.topics(i);
    admin::NewTopic& topic = out.topics.emplace_back();
    topic.name = in.name();
    if (in.has_partitions()) topic.partitions = in.partitions();
    if (in.has_replication_factor()) {
      const int32_t factor = in.replication_factor();
      if (factor < std::numeric_limits<int16_t>::min() ||
          factor > std::numeric_limits<int16_t>::max()) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "topics[" + std::to_string(i) + "].replication_factor: " +
                                std::to_string(factor) + " is out of range");
      }
      topic.replication_factor = static_cast<int16_t>(factor);
    }
    // Sorted, so that the request to Kafka does not depend on the map's order.
    const std::map<std::string, std::string> configs(in.configs().begin(), in.configs().end());
    topic.configs.assign(configs.begin(), configs.end());
  }
  return std::nullopt;
}

std::optional<grpc::Status> toQuery(const v1::ResetGroupOffsetsRequest& request,
                                    admin::OffsetResetQuery& out) {
  using Kind = admin::ResetTarget::Kind;
  switch (request.target()) {
    case v1::RESET_TARGET_EARLIEST:
      out.target.kind = Kind::kEarliest;
      break;
    case v1::RESET_TARGET_LATEST:
      out.target.kind = Kind::kLatest;
      break;
    case v1::RESET_TARGET_TIMESTAMP:
      out.target.kind = Kind::kTimestamp;
      break;
    case v1::RESET_TARGET_OFFSET:
      out.target.kind = Kind::kOffset;
      break;
    default:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "target: required, one of RESET_TARGET_EARLIEST, RESET_TARGET_LATEST, "
                          "RESET_TARGET_TIMESTAMP and RESET_TARGET_OFFSET");
  }
  out.target.timestamp_ms = request.timestamp_ms();
  out.target.offset = request.offset();
  out.group = request.group();
  for (const v1::TopicSelection& in : request.topics()) {
    out.topics.push_back({in.topic(), {in.partitions().begin(), in.partitions().end()}});
  }
  out.dry_run = request.dry_run();
  return std::nullopt;
}

void fillDescribeCluster(const MetadataSnapshot& metadata, v1::DescribeClusterResponse& out) {
  out.set_cluster_id(metadata.cluster_id);
  out.set_controller_id(metadata.controller_id);
  // std::map keeps brokers ordered by node id, as the API promises.
  for (const auto& [id, info] : metadata.brokers) {
    v1::Broker* broker = out.add_brokers();
    broker->set_node_id(id);
    broker->set_host(info.host);
    broker->set_port(info.port);
    if (info.rack) broker->set_rack(*info.rack);
  }
}

void fillListTopics(const MetadataSnapshot& metadata, v1::ListTopicsResponse& out) {
  for (const auto& [name, info] : metadata.topics) {
    v1::Topic* topic = out.add_topics();
    topic->set_name(name);
    if (!info.id.isZero()) topic->set_topic_id(info.id.toString());
    topic->set_internal(info.internal);
    if (info.error != ErrorCode::kNone) {
      fillError(info.error, "topic '" + name + "'", *topic->mutable_error());
    }
    for (const PartitionInfo& p : info.partitions) {
      v1::Partition* partition = topic->add_partitions();
      partition->set_partition(p.partition);
      partition->set_leader(p.leader);
      partition->set_leader_epoch(p.leader_epoch);
      partition->mutable_replicas()->Add(p.replicas.begin(), p.replicas.end());
      partition->mutable_isr()->Add(p.isr.begin(), p.isr.end());
      partition->mutable_offline_replicas()->Add(p.offline_replicas.begin(),
                                                 p.offline_replicas.end());
      if (p.error != ErrorCode::kNone) {
        fillError(p.error, "topic '" + name + "' partition " + std::to_string(p.partition),
                  *partition->mutable_error());
      }
    }
  }
}

void fillDescribeOffsets(const std::vector<consumer::TopicOffsets>& topics,
                         v1::DescribeOffsetsResponse& out) {
  for (const consumer::TopicOffsets& in : topics) {
    v1::TopicOffsets* topic = out.add_topics();
    topic->set_topic(in.topic);
    if (in.error.code != ErrorCode::kNone) fillKafkaError(in.error, *topic->mutable_error());
    for (const consumer::PartitionOffsets& p : in.partitions) {
      v1::PartitionOffsetInfo* partition = topic->add_partitions();
      partition->set_partition(p.partition);
      partition->set_earliest(p.earliest);
      partition->set_latest(p.latest);
      if (p.committed) partition->set_committed(*p.committed);
      partition->set_committed_metadata(p.committed_metadata);
      if (p.lag) partition->set_lag(*p.lag);
      if (p.error.code != ErrorCode::kNone) fillKafkaError(p.error, *partition->mutable_error());
    }
  }
}

void fillCreateTopics(const std::vector<admin::CreatedTopic>& topics,
                      v1::CreateTopicsResponse& out) {
  for (const admin::CreatedTopic& in : topics) {
    v1::CreatedTopic* topic = out.add_topics();
    topic->set_name(in.name);
    if (!in.topic_id.isZero()) topic->set_topic_id(in.topic_id.toString());
    topic->set_partitions(in.partitions.value_or(-1));
    topic->set_replication_factor(in.replication_factor.value_or(-1));
    if (in.error.code != ErrorCode::kNone) fillKafkaError(in.error, *topic->mutable_error());
  }
}

void fillDeleteTopics(const std::vector<admin::DeletedTopic>& topics,
                      v1::DeleteTopicsResponse& out) {
  for (const admin::DeletedTopic& in : topics) {
    v1::DeletedTopic* topic = out.add_topics();
    topic->set_name(in.name);
    if (in.error.code != ErrorCode::kNone) fillKafkaError(in.error, *topic->mutable_error());
  }
}

void fillTopicConfigs(const std::vector<admin::TopicConfigs>& topics,
                      v1::DescribeTopicConfigsResponse& out) {
  for (const admin::TopicConfigs& in : topics) {
    v1::TopicConfigs* topic = out.add_topics();
    topic->set_topic(in.topic);
    if (in.error.code != ErrorCode::kNone) fillKafkaError(in.error, *topic->mutable_error());
    for (const admin::ConfigEntry& config : in.entries) {
      v1::ConfigEntry* entry = topic->add_entries();
      entry->set_name(config.name);
      if (config.value && !config.is_sensitive) entry->set_value(*config.value);
      entry->set_read_only(config.read_only);
      // The proto's numbers are Kafka's.
      entry->set_source(static_cast<v1::ConfigSource>(config.source));
      entry->set_is_default(config.isDefault());
      entry->set_is_sensitive(config.is_sensitive);
    }
  }
}

void fillListGroups(const admin::GroupListing& listing, v1::ListGroupsResponse& out) {
  for (const admin::ListedGroup& in : listing.groups) {
    v1::ListedGroup* group = out.add_groups();
    group->set_group(in.group);
    group->set_protocol_type(in.protocol_type);
    group->set_state(in.state);
    group->set_coordinator(in.coordinator);
  }
  for (const admin::BrokerFailure& in : listing.failures) {
    v1::BrokerError* broker = out.add_failed_brokers();
    broker->set_node_id(in.node);
    fillKafkaError(in.error, *broker->mutable_error());
  }
}

void fillDescribeGroup(const admin::GroupDescription& group, v1::DescribeGroupResponse& out) {
  out.set_group(group.group);
  out.set_state(group.state);
  out.set_protocol_type(group.protocol_type);
  out.set_protocol(group.protocol);
  out.set_coordinator(group.coordinator);
  for (const admin::DescribedMember& in : group.members) {
    v1::GroupMember* member = out.add_members();
    member->set_member_id(in.member_id);
    member->set_group_instance_id(in.group_instance_id.value_or(""));
    member->set_client_id(in.client_id);
    member->set_host(in.host);
    fillTopicPartitions(in.assignment, *member->mutable_assignment());
    if (in.assignment_error.code != ErrorCode::kNone) {
      fillKafkaError(in.assignment_error, *member->mutable_assignment_error());
    }
  }
}

void fillResetGroupOffsets(const std::vector<admin::TopicReset>& topics,
                           v1::ResetGroupOffsetsResponse& out) {
  for (const admin::TopicReset& in : topics) {
    v1::TopicOffsetReset* topic = out.add_topics();
    topic->set_topic(in.topic);
    if (in.error.code != ErrorCode::kNone) fillKafkaError(in.error, *topic->mutable_error());
    for (const admin::PartitionReset& p : in.partitions) {
      v1::PartitionOffsetReset* partition = topic->add_partitions();
      partition->set_partition(p.partition);
      if (p.previous) partition->set_previous(*p.previous);
      partition->set_offset(p.offset);
      if (p.error.code != ErrorCode::kNone) fillKafkaError(p.error, *partition->mutable_error());
    }
  }
}

}  // namespace kafka::sidecar
