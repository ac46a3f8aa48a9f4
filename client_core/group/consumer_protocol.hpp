// The "consumer" embedded protocol: what members of a Kafka consumer group put in the opaque
// metadata of JoinGroup (their subscription) and what the leader puts in SyncGroup (each
// member's assignment). Every Kafka client (Java, librdkafka, kafka-python) uses this format, so
// speaking it exactly is what lets a sidecar session share a group with them.
//
// Subscription versions 0-3 (v1 adds owned partitions, v2 the generation, v3 the rack);
// assignment versions 0-3 (the same fields throughout). Decoding accepts any version at or above
// 0 and ignores whatever follows the fields it knows (a newer version's fields), as Kafka's own
// clients do, so that a newer member's metadata still reads. Plain data and free functions: no
// executor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client_core/cluster/metadata.hpp"
#include "client_core/protocol/codec.hpp"
#include "client_core/protocol/result.hpp"

namespace kafka::group {

// The partitions of one topic, in the order the message lists them.
struct TopicPartitions {
  std::string topic;
  std::vector<int32_t> partitions;
  bool operator==(const TopicPartitions&) const = default;
};

struct MemberSubscription {
  std::vector<std::string> topics;
  std::optional<protocol::Bytes> user_data;
  std::vector<TopicPartitions> owned_partitions;  // v1+: what the member holds now
  int32_t generation_id = -1;                     // v2+: the generation it held them in
  std::optional<std::string> rack_id;             // v3+
  bool operator==(const MemberSubscription&) const = default;
};

struct MemberAssignment {
  std::vector<TopicPartitions> partitions;
  std::optional<protocol::Bytes> user_data;
  bool operator==(const MemberAssignment&) const = default;
};

// The newest version we write.
inline constexpr int16_t kSubscriptionVersion = 3;
inline constexpr int16_t kAssignmentVersion = 3;

protocol::Bytes encodeSubscription(const MemberSubscription& subscription,
                                   int16_t version = kSubscriptionVersion);
// Errors name the field at fault (kMalformedMessage).
Result<MemberSubscription> decodeSubscription(protocol::ByteView bytes);

protocol::Bytes encodeAssignment(const MemberAssignment& assignment,
                                 int16_t version = kAssignmentVersion);
// An empty input is an empty assignment: the coordinator sends that to a member the leader
// left out, and for a leader that failed to assign.
Result<MemberAssignment> decodeAssignment(protocol::ByteView bytes);

// Between the grouped wire form and flat, sorted lists of partitions.
std::vector<TopicPartition> flatten(const std::vector<TopicPartitions>& grouped);
std::vector<TopicPartitions> groupByTopic(std::vector<TopicPartition> partitions);

}  // namespace kafka::group
