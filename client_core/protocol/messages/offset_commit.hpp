// OffsetCommit (key 8): stores a group's consumed positions with its coordinator. A commit with
// generation -1 and an empty member id is accepted outside any group membership.
// Versions 0-10; flexible from 8. From v10 (Kafka 4.2) topics are named by id only. Kafka 4.0
// refuses v0-1; we keep them because older brokers and librdkafka's mock cluster (0-7) speak
// them. v0 commits went to ZooKeeper on old brokers, v1+ to the offsets topic.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct OffsetCommitRequest {
  struct Partition {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;
    int32_t committed_leader_epoch = -1;
    // v1 only: the broker measured retention from this time; -1 means "now".
    int64_t commit_timestamp = -1;
    std::optional<std::string> committed_metadata = std::string();
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Partition;
      return std::tuple{
          field("partition_index", &R::partition_index, since(0)),
          field("committed_offset", &R::committed_offset, since(0)),
          field("committed_leader_epoch", &R::committed_leader_epoch, since(6)),
          field("commit_timestamp", &R::commit_timestamp, between(1, 1)),
          field("committed_metadata", &R::committed_metadata, since(0), {.nullable = since(0)})};
    }
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    Uuid topic_id;
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Topic;
      return std::tuple{field("name", &R::name, between(0, 9)),
                        field("topic_id", &R::topic_id, since(10)),
                        field("partitions", &R::partitions, since(0))};
    }
    bool operator==(const Topic&) const = default;
  };

  std::string group_id;
  // The generation for a classic-protocol member, the member epoch for a consumer-protocol one.
  int32_t generation_id_or_member_epoch = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  // v2-4 only: how long the broker keeps the offsets; -1 means its configured default.
  int64_t retention_time_ms = -1;
  std::vector<Topic> topics;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = OffsetCommitRequest;
    return std::tuple{
        field("group_id", &R::group_id, since(0)),
        field("generation_id_or_member_epoch", &R::generation_id_or_member_epoch, since(1)),
        field("member_id", &R::member_id, since(1)),
        field("group_instance_id", &R::group_instance_id, since(7), {.nullable = since(7)}),
        field("retention_time_ms", &R::retention_time_ms, between(2, 4)),
        field("topics", &R::topics, since(0))};
  }
  bool operator==(const OffsetCommitRequest&) const = default;
};

struct OffsetCommitResponse {
  struct Partition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Partition;
      return std::tuple{field("partition_index", &R::partition_index, since(0)),
                        field("error_code", &R::error_code, since(0))};
    }
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    Uuid topic_id;
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Topic;
      return std::tuple{field("name", &R::name, between(0, 9)),
                        field("topic_id", &R::topic_id, since(10)),
                        field("partitions", &R::partitions, since(0))};
    }
    bool operator==(const Topic&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = OffsetCommitResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(3)),
                      field("topics", &R::topics, since(0))};
  }
  bool operator==(const OffsetCommitResponse&) const = default;
};

struct OffsetCommitApi {
  static constexpr ApiKey kKey = ApiKey::kOffsetCommit;
  static constexpr std::string_view kName = "OffsetCommit";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 10;
  static constexpr int16_t kFirstFlexibleVersion = 8;
  using Request = OffsetCommitRequest;
  using Response = OffsetCommitResponse;
};

}  // namespace kafka::protocol
