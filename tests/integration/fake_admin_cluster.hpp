// FakeAdminCluster: a Kafka cluster of scripted FakeBrokers (node ids 1..N on 127.0.0.1) that
// serves the admin APIs librdkafka's mock cluster lacks, with state a test sets up and reads:
//   - Metadata: every broker, the controller, the topics (partition P led by node P % N + 1);
//   - CreateTopics and DeleteTopics: answered by the controller only, NOT_CONTROLLER elsewhere.
//     The controller named in the metadata may lag behind the real one until a broker has
//     answered NOT_CONTROLLER (as when the controller moved). The controller checks as Kafka
//     does: TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR (more replicas
//     than brokers), UNKNOWN_TOPIC_OR_PARTITION, and per-topic errors the test scripts; the
//     defaults for -1 are 3 partitions and 1 replica;
//   - DescribeConfigs: the topic's own settings (DYNAMIC_TOPIC), retention.ms (DEFAULT) and a
//     sensitive ssl.key.password whose value the fake sends, as no real broker would;
//   - ListGroups from each broker for the groups it coordinates (a broker can be made to close
//     the connection instead), FindCoordinator, and DescribeGroups at the coordinator
//     (NOT_COORDINATOR elsewhere; an unknown group is Dead, or GROUP_ID_NOT_FOUND from v6);
//   - ListOffsets (per partition: a log start, a log end, and record timestamps), OffsetFetch
//     and OffsetCommit at the coordinator, in memory, as a reset uses them.
// Any API can be left out of one broker's ApiVersions. Other requests close the connection.
//
// Owned by a test; each connection is served on a FakeBroker thread. Every public method may be
// called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "client_core/cluster/metadata.hpp"
#include "client_core/protocol/error.hpp"
#include "tests/integration/fake_broker.hpp"

namespace kafka::testing {

class FakeAdminCluster {
 public:
  struct Member {
    std::string member_id;
    std::optional<std::string> instance_id;
    std::string client_id;
    std::string host;
    protocol::Bytes assignment;  // as SyncGroup carried it
  };
  struct Group {
    std::string group_id;
    int32_t coordinator = 1;
    std::string protocol_type = "consumer";
    std::string state = "Stable";
    std::string protocol = "range";
    std::vector<Member> members;
  };
  // One OffsetCommit as the coordinator took it.
  struct Commit {
    std::string group;
    int32_t generation = 0;
    std::string member_id;
    std::map<TopicPartition, int64_t> offsets;
  };
  // One request as a broker received it.
  struct Received {
    int32_t node = 0;
    protocol::ApiKey api{};
    int16_t version = 0;
  };

  explicit FakeAdminCluster(int brokers);
  ~FakeAdminCluster();
  FakeAdminCluster(const FakeAdminCluster&) = delete;
  FakeAdminCluster& operator=(const FakeAdminCluster&) = delete;

  // Every broker's "127.0.0.1:PORT".
  std::vector<std::string> bootstrapServers() const;

  // Set-up.
  // The controller that answers, and the one the metadata names until the first NOT_CONTROLLER.
  void setController(int32_t real, int32_t advertised);
  void addTopic(const std::string& name, int32_t partitions,
                std::map<std::string, std::string> configs = {});
  bool hasTopic(const std::string& name) const;
  // The partition's log: its first offset, its end, and (offset, timestamp) of its records.
  void setLog(const TopicPartition& partition, int64_t start, int64_t end,
              std::vector<std::pair<int64_t, int64_t>> timestamps = {});
  // CreateTopics answers `code` for `topic`, `times` times (-1: always).
  void scriptCreateError(const std::string& topic, ErrorCode code, int times = -1);
  void addGroup(Group group);
  void setCommitted(const std::string& group, const TopicPartition& partition, int64_t offset);
  // Broker `node` closes the connection on ListGroups.
  void breakListGroups(int32_t node);
  // Broker `node` leaves `api` out of its ApiVersions (every broker for node -1).
  void withoutApi(int32_t node, protocol::ApiKey api);

  // Observations.
  std::vector<Received> received(protocol::ApiKey api) const;
  std::vector<Commit> commits() const;
  std::optional<int64_t> committed(const std::string& group, const TopicPartition& partition) const;
  // The configs a CreateTopics gave the topic.
  std::map<std::string, std::string> topicConfigs(const std::string& topic) const;

 private:
  using Request = FakeBroker::Request;
  using Reply = FakeBroker::Reply;
  struct Topic {
    int32_t partitions = 0;
    int16_t replication_factor = 1;
    std::map<std::string, std::string> configs;
  };
  struct Log {
    int64_t start = 0;
    int64_t end = 0;
    std::vector<std::pair<int64_t, int64_t>> timestamps;
  };

  // Decodes the request of API A and answers with handler(request) under the lock; a request
  // that does not decode closes the connection.
  template <protocol::ApiDefinition A, class Handler>
  Reply answer(const Request& request, Handler handler);
  Reply serve(int32_t node, const Request& request);
  Reply apiVersions(int32_t node, const Request& request);

  // The answers, with mutex_ held.
  protocol::MetadataResponse metadata(const protocol::MetadataRequest& request, int16_t version);
  protocol::CreateTopicsResponse createTopics(int32_t node,
                                              const protocol::CreateTopicsRequest& request);
  protocol::DeleteTopicsResponse deleteTopics(int32_t node,
                                              const protocol::DeleteTopicsRequest& request);
  protocol::DescribeConfigsResponse describeConfigs(
      const protocol::DescribeConfigsRequest& request);
  protocol::ListGroupsResponse listGroups(int32_t node) const;
  protocol::FindCoordinatorResponse findCoordinator(
      const protocol::FindCoordinatorRequest& request);
  protocol::DescribeGroupsResponse describeGroups(int32_t node, int16_t version,
                                                  const protocol::DescribeGroupsRequest& request);
  protocol::ListOffsetsResponse listOffsets(const protocol::ListOffsetsRequest& request);
  protocol::OffsetFetchResponse offsetFetch(int16_t version,
                                            const protocol::OffsetFetchRequest& request);
  protocol::OffsetCommitResponse offsetCommit(const protocol::OffsetCommitRequest& request);

  int32_t leaderOf(int32_t partition) const;
  int32_t coordinatorOf(const std::string& group) const;
  int16_t createError(const protocol::CreateTopicsRequest::Topic& topic);
  uint16_t portOf(int32_t node) const;

  mutable std::mutex mutex_;
  int32_t controller_ = 1;
  int32_t advertised_controller_ = 1;
  std::map<std::string, Topic> topics_;
  std::map<TopicPartition, Log> logs_;
  std::map<std::string, std::pair<ErrorCode, int>> create_errors_;
  std::map<std::string, Group> groups_;
  std::map<std::pair<std::string, TopicPartition>, int64_t> committed_;
  std::set<int32_t> broken_list_groups_;
  std::set<std::pair<int32_t, protocol::ApiKey>> without_;
  std::vector<Received> received_;
  std::vector<Commit> commits_;
  // Last: their threads call serve() until they are destroyed.
  std::vector<std::unique_ptr<FakeBroker>> brokers_;
};

}  // namespace kafka::testing
