#include "tests/integration/fake_admin_cluster.hpp"

#include <algorithm>

namespace kafka::testing {

namespace {

using protocol::ApiKey;

// ListOffsets' special timestamps.
constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;
// What CreateTopics takes for -1.
constexpr int32_t kDefaultPartitions = 3;
constexpr int16_t kDefaultReplicationFactor = 1;

int16_t wire(ErrorCode code) {
  return static_cast<int16_t>(code);
}

}  // namespace

FakeAdminCluster::FakeAdminCluster(int brokers) {
  for (int32_t node = 1; node <= brokers; ++node) {
    brokers_.push_back(std::make_unique<FakeBroker>(
        [this, node](const Request& request) { return serve(node, request); }));
  }
}

FakeAdminCluster::~FakeAdminCluster() {
  brokers_.clear();
}

std::vector<std::string> FakeAdminCluster::bootstrapServers() const {
  std::vector<std::string> out;
  for (const auto& broker : brokers_) out.push_back("127.0.0.1:" + std::to_string(broker->port()));
  return out;
}

void FakeAdminCluster::setController(int32_t real, int32_t advertised) {
  std::lock_guard lock(mutex_);
  controller_ = real;
  advertised_controller_ = advertised;
}

void FakeAdminCluster::addTopic(const std::string& name, int32_t partitions,
                                std::map<std::string, std::string> configs) {
  std::lock_guard lock(mutex_);
  topics_[name] = Topic{partitions, kDefaultReplicationFactor, std::move(configs)};
}

bool FakeAdminCluster::hasTopic(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return topics_.contains(name);
}

void FakeAdminCluster::setLog(const TopicPartition& partition, int64_t start, int64_t end,
                              std::vector<std::pair<int64_t, int64_t>> timestamps) {
  std::lock_guard lock(mutex_);
  logs_[partition] = Log{start, end, std::move(timestamps)};
}

void FakeAdminCluster::scriptCreateError(const std::string& topic, ErrorCode code, int times) {
  std::lock_guard lock(mutex_);
  create_errors_[topic] = {code, times};
}

void FakeAdminCluster::addGroup(Group group) {
  std::lock_guard lock(mutex_);
  std::string id = group.group_id;
  groups_[id] = std::move(group);
}

void FakeAdminCluster::setCommitted(const std::string& group, const TopicPartition& partition,
                                    int64_t offset) {
  std::lock_guard lock(mutex_);
  committed_[{group, partition}] = offset;
}

void FakeAdminCluster::breakListGroups(int32_t node) {
  std::lock_guard lock(mutex_);
  broken_list_groups_.insert(node);
}

void FakeAdminCluster::withoutApi(int32_t node, ApiKey api) {
  std::lock_guard lock(mutex_);
  for (int32_t n = 1; n <= static_cast<int32_t>(brokers_.size()); ++n) {
    if (node == -1 || node == n) without_.insert({n, api});
  }
}

std::vector<FakeAdminCluster::Received> FakeAdminCluster::received(ApiKey api) const {
  std::lock_guard lock(mutex_);
  std::vector<Received> out;
  for (const Received& r : received_) {
    if (r.api == api) out.push_back(r);
  }
  return out;
}

std::vector<FakeAdminCluster::Commit> FakeAdminCluster::commits() const {
  std::lock_guard lock(mutex_);
  return commits_;
}

std::optional<int64_t> FakeAdminCluster::committed(const std::string& group,
                                                   const TopicPartition& partition) const {
  std::lock_guard lock(mutex_);
  auto it = committed_.find({group, partition});
  if (it == committed_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, std::string> FakeAdminCluster::topicConfigs(const std::string& topic) const {
  std::lock_guard lock(mutex_);
  auto it = topics_.find(topic);
  return it == topics_.end() ? std::map<std::string, std::string>{} : it->second.configs;
}

int32_t FakeAdminCluster::leaderOf(int32_t partition) const {
  return partition % static_cast<int32_t>(brokers_.size()) + 1;
}

int32_t FakeAdminCluster::coordinatorOf(const std::string& group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? 1 : it->second.coordinator;
}

uint16_t FakeAdminCluster::portOf(int32_t node) const {
  return brokers_.at(static_cast<size_t>(node - 1))->port();
}

template <protocol::ApiDefinition A, class Handler>
FakeBroker::Reply FakeAdminCluster::answer(const Request& request, Handler handler) {
  protocol::Reader reader(request.body);
  auto decoded = protocol::decodeRequestBody<A>(reader, request.header.api_version);
  if (!decoded.ok()) return Reply::close();
  std::lock_guard lock(mutex_);
  return Reply::with<A>(request, handler(*decoded));
}

FakeBroker::Reply FakeAdminCluster::serve(int32_t node, const Request& request) {
  const int16_t version = request.header.api_version;
  {
    std::lock_guard lock(mutex_);
    received_.push_back({node, request.header.api_key, version});
    if (request.header.api_key == ApiKey::kListGroups && broken_list_groups_.contains(node)) {
      return Reply::close();
    }
  }
  switch (request.header.api_key) {
    case ApiKey::kApiVersions:
      return apiVersions(node, request);
    case ApiKey::kMetadata:
      return answer<protocol::MetadataApi>(request,
                                           [&](const auto& r) { return metadata(r, version); });
    case ApiKey::kCreateTopics:
      return answer<protocol::CreateTopicsApi>(
          request, [&](const auto& r) { return createTopics(node, r); });
    case ApiKey::kDeleteTopics:
      return answer<protocol::DeleteTopicsApi>(
          request, [&](const auto& r) { return deleteTopics(node, r); });
    case ApiKey::kDescribeConfigs:
      return answer<protocol::DescribeConfigsApi>(
          request, [&](const auto& r) { return describeConfigs(r); });
    case ApiKey::kListGroups:
      return answer<protocol::ListGroupsApi>(request,
                                             [&](const auto&) { return listGroups(node); });
    case ApiKey::kFindCoordinator:
      return answer<protocol::FindCoordinatorApi>(
          request, [&](const auto& r) { return findCoordinator(r); });
    case ApiKey::kDescribeGroups:
      return answer<protocol::DescribeGroupsApi>(
          request, [&](const auto& r) { return describeGroups(node, version, r); });
    case ApiKey::kListOffsets:
      return answer<protocol::ListOffsetsApi>(request,
                                              [&](const auto& r) { return listOffsets(r); });
    case ApiKey::kOffsetFetch:
      return answer<protocol::OffsetFetchApi>(
          request, [&](const auto& r) { return offsetFetch(version, r); });
    case ApiKey::kOffsetCommit:
      return answer<protocol::OffsetCommitApi>(request,
                                               [&](const auto& r) { return offsetCommit(r); });
    default:
      return Reply::close();
  }
}

FakeBroker::Reply FakeAdminCluster::apiVersions(int32_t node, const Request& request) {
  // OffsetFetch and OffsetCommit v10+ name topics by id, and these topics have none.
  std::vector<std::tuple<ApiKey, int16_t, int16_t>> overrides = {
      {ApiKey::kOffsetFetch, protocol::OffsetFetchApi::kMinVersion, 9},
      {ApiKey::kOffsetCommit, protocol::OffsetCommitApi::kMinVersion, 9}};
  {
    std::lock_guard lock(mutex_);
    for (const auto& [n, api] : without_) {
      if (n == node) overrides.emplace_back(api, -1, -1);
    }
  }
  return Reply::with<protocol::ApiVersionsApi>(request, FakeBroker::allApis(overrides));
}

protocol::MetadataResponse FakeAdminCluster::metadata(const protocol::MetadataRequest& request,
                                                      int16_t version) {
  protocol::MetadataResponse response;
  response.cluster_id = "fake-admin-cluster";
  response.controller_id = advertised_controller_;
  for (int32_t node = 1; node <= static_cast<int32_t>(brokers_.size()); ++node) {
    response.brokers.push_back({node, "127.0.0.1", portOf(node), std::nullopt, {}});
  }
  std::vector<std::string> wanted;
  if (!request.topics || (request.topics->empty() && version == 0)) {
    for (const auto& [name, topic] : topics_) wanted.push_back(name);
  } else {
    for (const auto& topic : *request.topics) wanted.push_back(topic.name.value_or(""));
  }
  for (const std::string& name : wanted) {
    auto& out = response.topics.emplace_back();
    out.name = name;
    auto known = topics_.find(name);
    if (known == topics_.end()) {
      out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
      continue;
    }
    for (int32_t i = 0; i < known->second.partitions; ++i) {
      auto& partition = out.partitions.emplace_back();
      partition.partition_index = i;
      partition.leader_id = leaderOf(i);
      partition.leader_epoch = 0;
      partition.replica_nodes = {leaderOf(i)};
      partition.isr_nodes = {leaderOf(i)};
    }
  }
  return response;
}

int16_t FakeAdminCluster::createError(const protocol::CreateTopicsRequest::Topic& topic) {
  auto scripted = create_errors_.find(topic.name);
  if (scripted != create_errors_.end() && scripted->second.second != 0) {
    if (scripted->second.second > 0) --scripted->second.second;
    return wire(scripted->second.first);
  }
  if (topics_.contains(topic.name)) return wire(ErrorCode::kTopicAlreadyExists);
  if (topic.num_partitions == 0 || topic.num_partitions < -1) {
    return wire(ErrorCode::kInvalidPartitions);
  }
  if (topic.replication_factor > static_cast<int16_t>(brokers_.size()) ||
      topic.replication_factor == 0 || topic.replication_factor < -1) {
    return wire(ErrorCode::kInvalidReplicationFactor);
  }
  return 0;
}

protocol::CreateTopicsResponse FakeAdminCluster::createTopics(
    int32_t node, const protocol::CreateTopicsRequest& request) {
  protocol::CreateTopicsResponse response;
  for (const auto& topic : request.topics) {
    auto& out = response.topics.emplace_back();
    out.name = topic.name;
    if (node != controller_) {
      out.error_code = wire(ErrorCode::kNotController);
      // The metadata catches up with the controller that moved.
      advertised_controller_ = controller_;
      continue;
    }
    out.error_code = createError(topic);
    if (out.error_code != 0) continue;
    Topic created;
    created.partitions = topic.num_partitions == -1 ? kDefaultPartitions : topic.num_partitions;
    created.replication_factor =
        topic.replication_factor == -1 ? kDefaultReplicationFactor : topic.replication_factor;
    for (const auto& config : topic.configs)
      created.configs[config.name] = config.value.value_or("");
    out.num_partitions = created.partitions;
    out.replication_factor = created.replication_factor;
    out.topic_id.bytes[15] = static_cast<uint8_t>(topics_.size() + 1);
    if (!request.validate_only) topics_[topic.name] = std::move(created);
  }
  return response;
}

protocol::DeleteTopicsResponse FakeAdminCluster::deleteTopics(
    int32_t node, const protocol::DeleteTopicsRequest& request) {
  std::vector<std::string> names = request.topic_names;
  for (const auto& topic : request.topics) names.push_back(topic.name.value_or(""));
  protocol::DeleteTopicsResponse response;
  for (const std::string& name : names) {
    auto& out = response.responses.emplace_back();
    out.name = name;
    if (node != controller_) {
      out.error_code = wire(ErrorCode::kNotController);
      advertised_controller_ = controller_;
    } else if (topics_.erase(name) == 0) {
      out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
    }
  }
  return response;
}

protocol::DescribeConfigsResponse FakeAdminCluster::describeConfigs(
    const protocol::DescribeConfigsRequest& request) {
  protocol::DescribeConfigsResponse response;
  for (const auto& resource : request.resources) {
    auto& out = response.results.emplace_back();
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    auto topic = topics_.find(resource.resource_name);
    if (topic == topics_.end()) {
      out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
      out.error_message = "Topic " + resource.resource_name + " does not exist.";
      continue;
    }
    std::vector<protocol::DescribeConfigsResponse::Config> all;
    for (const auto& [name, value] : topic->second.configs) {
      auto& config = all.emplace_back();
      config.name = name;
      config.value = value;
      config.config_source = 1;  // set on the topic
    }
    auto& retention = all.emplace_back();
    retention.name = "retention.ms";
    retention.value = "604800000";
    retention.config_source = 5;  // Kafka's default
    auto& password = all.emplace_back();
    password.name = "ssl.key.password";
    password.value = "hunter2";
    password.is_sensitive = true;
    password.read_only = true;
    password.config_source = 4;  // the broker's file
    for (auto& config : all) {
      const auto& keys = resource.configuration_keys;
      if (!keys || keys->empty() ||
          std::find(keys->begin(), keys->end(), config.name) != keys->end()) {
        out.configs.push_back(std::move(config));
      }
    }
  }
  return response;
}

protocol::ListGroupsResponse FakeAdminCluster::listGroups(int32_t node) const {
  protocol::ListGroupsResponse response;
  for (const auto& [id, group] : groups_) {
    if (group.coordinator == node) {
      response.groups.push_back({id, group.protocol_type, group.state, "classic", {}});
    }
  }
  return response;
}

protocol::FindCoordinatorResponse FakeAdminCluster::findCoordinator(
    const protocol::FindCoordinatorRequest& request) {
  protocol::FindCoordinatorResponse response;
  const int32_t node = coordinatorOf(request.key);
  response.node_id = node;
  response.host = "127.0.0.1";
  response.port = portOf(node);
  for (const std::string& key : request.coordinator_keys) {
    const int32_t coordinator = coordinatorOf(key);
    response.coordinators.push_back(
        {key, coordinator, "127.0.0.1", portOf(coordinator), 0, std::nullopt, {}});
  }
  return response;
}

protocol::DescribeGroupsResponse FakeAdminCluster::describeGroups(
    int32_t node, int16_t version, const protocol::DescribeGroupsRequest& request) {
  protocol::DescribeGroupsResponse response;
  for (const std::string& id : request.groups) {
    auto& out = response.groups.emplace_back();
    out.group_id = id;
    if (coordinatorOf(id) != node) {
      out.error_code = wire(ErrorCode::kNotCoordinator);
      continue;
    }
    auto group = groups_.find(id);
    if (group == groups_.end()) {
      if (version >= 6) {
        out.error_code = wire(ErrorCode::kGroupIdNotFound);
        out.error_message = "Group " + id + " not found.";
      } else {
        out.group_state = "Dead";
      }
      continue;
    }
    out.group_state = group->second.state;
    out.protocol_type = group->second.protocol_type;
    out.protocol_data = group->second.protocol;
    for (const Member& member : group->second.members) {
      out.members.push_back({member.member_id,
                             member.instance_id,
                             member.client_id,
                             member.host,
                             {},
                             member.assignment,
                             {}});
    }
  }
  return response;
}

protocol::ListOffsetsResponse FakeAdminCluster::listOffsets(
    const protocol::ListOffsetsRequest& request) {
  protocol::ListOffsetsResponse response;
  for (const auto& topic : request.topics) {
    auto& answer = response.topics.emplace_back();
    answer.name = topic.name;
    for (const auto& partition : topic.partitions) {
      auto& out = answer.partitions.emplace_back();
      out.partition_index = partition.partition_index;
      auto log = logs_.find({topic.name, partition.partition_index});
      if (!topics_.contains(topic.name)) {
        out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      const Log empty;
      const Log& found = log == logs_.end() ? empty : log->second;
      out.leader_epoch = 0;
      if (partition.timestamp == kEarliest) {
        out.offset = found.start;
      } else if (partition.timestamp == kLatest) {
        out.offset = found.end;
      } else {
        for (const auto& [offset, timestamp] : found.timestamps) {
          if (timestamp >= partition.timestamp) {
            out.offset = offset;
            out.timestamp = timestamp;
            break;
          }
        }
      }
    }
  }
  return response;
}

protocol::OffsetFetchResponse FakeAdminCluster::offsetFetch(
    int16_t version, const protocol::OffsetFetchRequest& request) {
  auto committedOf =
      [&](const std::string& group,
          const std::optional<std::vector<protocol::OffsetFetchRequest::Topic>>& topics) {
        std::vector<protocol::OffsetFetchResponse::Topic> out;
        if (!topics) return out;  // every committed partition: a reset never asks so
        for (const auto& topic : *topics) {
          auto& answered = out.emplace_back();
          answered.name = topic.name;
          for (int32_t partition : topic.partition_indexes) {
            auto& p = answered.partitions.emplace_back();
            p.partition_index = partition;
            auto it = committed_.find({group, {topic.name, partition}});
            p.committed_offset = it == committed_.end() ? -1 : it->second;
          }
        }
        return out;
      };
  protocol::OffsetFetchResponse response;
  if (version >= 8) {
    for (const auto& group : request.groups) {
      response.groups.push_back({group.group_id, committedOf(group.group_id, group.topics), 0, {}});
    }
  } else {
    response.topics = committedOf(request.group_id, request.topics);
  }
  return response;
}

protocol::OffsetCommitResponse FakeAdminCluster::offsetCommit(
    const protocol::OffsetCommitRequest& request) {
  Commit commit{request.group_id, request.generation_id_or_member_epoch, request.member_id, {}};
  protocol::OffsetCommitResponse response;
  for (const auto& topic : request.topics) {
    auto& answer = response.topics.emplace_back();
    answer.name = topic.name;
    for (const auto& partition : topic.partitions) {
      auto& out = answer.partitions.emplace_back();
      out.partition_index = partition.partition_index;
      if (!topics_.contains(topic.name)) {
        out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      const TopicPartition key{topic.name, partition.partition_index};
      committed_[{request.group_id, key}] = partition.committed_offset;
      commit.offsets[key] = partition.committed_offset;
    }
  }
  commits_.push_back(std::move(commit));
  return response;
}

}  // namespace kafka::testing
