// OffsetFetch (key 9): reads a group's committed positions from its coordinator. Up to v7 a
// request asks about one group (`group_id`, `topics`); from v8 it may ask about several
// (`groups`), and the response answers per group. A null topic list asks for every partition the
// group has committed. From v10 (Kafka 4.2) topics are named by id only.
// Versions 0-10; flexible from 6. Kafka 4.0 refuses v0; we keep it because older brokers and
// librdkafka's mock cluster (0-5) speak it.
//
// One Topic (and Partition) struct serves both the single-group and the per-group layouts: their
// fields agree in every version in which each layout exists.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct OffsetFetchRequest {
  struct Topic {
    std::string name;
    Uuid topic_id;
    std::vector<int32_t> partition_indexes;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Topic;
      return std::tuple{field("name", &R::name, between(0, 9)),
                        field("topic_id", &R::topic_id, since(10)),
                        field("partition_indexes", &R::partition_indexes, since(0))};
    }
    bool operator==(const Topic&) const = default;
  };
  struct Group {
    std::string group_id;
    // Set by consumer-protocol members only; classic members leave null and -1.
    std::optional<std::string> member_id;
    int32_t member_epoch = -1;
    std::optional<std::vector<Topic>> topics = std::vector<Topic>();
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Group;
      return std::tuple{field("group_id", &R::group_id, since(8)),
                        field("member_id", &R::member_id, since(9), {.nullable = since(9)}),
                        field("member_epoch", &R::member_epoch, since(9)),
                        field("topics", &R::topics, since(8), {.nullable = since(8)})};
    }
    bool operator==(const Group&) const = default;
  };

  std::string group_id;
  std::optional<std::vector<Topic>> topics = std::vector<Topic>();
  std::vector<Group> groups;
  bool require_stable = false;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = OffsetFetchRequest;
    return std::tuple{field("group_id", &R::group_id, between(0, 7)),
                      field("topics", &R::topics, between(0, 7), {.nullable = between(2, 7)}),
                      field("groups", &R::groups, since(8)),
                      field("require_stable", &R::require_stable, since(7))};
  }
  bool operator==(const OffsetFetchRequest&) const = default;
};

struct OffsetFetchResponse {
  struct Partition {
    int32_t partition_index = 0;
    // -1 when the group has no committed offset for the partition.
    int64_t committed_offset = 0;
    int32_t committed_leader_epoch = -1;
    std::optional<std::string> metadata = std::string();
    int16_t error_code = 0;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Partition;
      return std::tuple{field("partition_index", &R::partition_index, since(0)),
                        field("committed_offset", &R::committed_offset, since(0)),
                        field("committed_leader_epoch", &R::committed_leader_epoch, since(5)),
                        field("metadata", &R::metadata, since(0), {.nullable = since(0)}),
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
  struct Group {
    std::string group_id;
    std::vector<Topic> topics;
    int16_t error_code = 0;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Group;
      return std::tuple{field("group_id", &R::group_id, since(8)),
                        field("topics", &R::topics, since(8)),
                        field("error_code", &R::error_code, since(8))};
    }
    bool operator==(const Group&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
  // A group-level error (v2-7); v0-1 report it on every partition instead.
  int16_t error_code = 0;
  std::vector<Group> groups;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = OffsetFetchResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(3)),
                      field("topics", &R::topics, between(0, 7)),
                      field("error_code", &R::error_code, between(2, 7)),
                      field("groups", &R::groups, since(8))};
  }
  bool operator==(const OffsetFetchResponse&) const = default;
};

struct OffsetFetchApi {
  static constexpr ApiKey kKey = ApiKey::kOffsetFetch;
  static constexpr std::string_view kName = "OffsetFetch";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 10;
  static constexpr int16_t kFirstFlexibleVersion = 6;
  using Request = OffsetFetchRequest;
  using Response = OffsetFetchResponse;
};

}  // namespace kafka::protocol
