// An immutable snapshot of what a cluster's metadata said at one moment: brokers, controller,
// topics, partitions with leader, replicas and ISR. Shared as shared_ptr<const> so readers on
// any thread can hold one while the cluster publishes the next.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client_core/protocol/codec.hpp"
#include "client_core/protocol/error.hpp"

namespace kafka {

using NodeId = int32_t;
inline constexpr NodeId kNoNode = -1;

struct BrokerInfo {
  NodeId node_id = kNoNode;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
  bool operator==(const BrokerInfo&) const = default;
};

struct PartitionInfo {
  int32_t partition = 0;
  ErrorCode error = ErrorCode::kNone;
  NodeId leader = kNoNode;
  int32_t leader_epoch = -1;
  std::vector<NodeId> replicas;
  std::vector<NodeId> isr;
  std::vector<NodeId> offline_replicas;
};

struct TopicInfo {
  std::string name;
  protocol::Uuid id;
  ErrorCode error = ErrorCode::kNone;
  bool internal = false;
  std::vector<PartitionInfo> partitions;  // sorted by partition
};

struct MetadataSnapshot {
  std::string cluster_id;  // empty where the broker's Metadata version has none
  NodeId controller_id = kNoNode;
  std::map<NodeId, BrokerInfo> brokers;
  std::map<std::string, TopicInfo> topics;
  std::chrono::steady_clock::time_point fetched_at{};

  const BrokerInfo* broker(NodeId id) const;
  const TopicInfo* topic(const std::string& name) const;
  // The partition numbered `index` of `topic`, or nullptr when either is unknown.
  const PartitionInfo* partition(const std::string& topic, int32_t index) const;
};

// One partition of one topic, as consumers, groups and assignors name it.
struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
  bool operator==(const TopicPartition&) const = default;
};

// "topic NAME partition N": how errors and logs name one partition.
std::string describePartition(std::string_view topic, int32_t partition);

using MetadataPtr = std::shared_ptr<const MetadataSnapshot>;

}  // namespace kafka
