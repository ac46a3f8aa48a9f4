// ListOffsets (key 2): the offset for a timestamp, or the earliest (-2) or latest (-1) offset
// of a partition. Used by the consumer's offset reset and by lag queries.
//
// Versions 1-11; flexible from 6. v1 is the oldest a Kafka 4.x broker accepts; v0 (several
// offsets per partition) is not defined here. Later versions add isolation level (v2), leader
// epochs (v4), more special timestamps (v7+) and a remote-storage timeout (v10).
// librdkafka 2.0.2's mock broker writes malformed v4/v5 responses: cap it at v3 (TESTING.md).
// Plain data: no executor, owned by whoever builds or decodes the message.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct ListOffsetsRequest {
  struct Partition {
    int32_t partition_index = 0;
    int32_t current_leader_epoch = -1;
    int64_t timestamp = 0;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Partition;
      return std::tuple{field("partition_index", &R::partition_index, since(0)),
                        field("current_leader_epoch", &R::current_leader_epoch, since(4)),
                        field("timestamp", &R::timestamp, since(0))};
    }
    bool operator==(const Partition&) const = default;
  };

  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Topic;
      return std::tuple{field("name", &R::name, since(0)),
                        field("partitions", &R::partitions, since(0))};
    }
    bool operator==(const Topic&) const = default;
  };

  // The schema's default is 0, a broker id; consumers must send -1.
  int32_t replica_id = 0;
  int8_t isolation_level = 0;
  std::vector<Topic> topics;
  int32_t timeout_ms = 0;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = ListOffsetsRequest;
    return std::tuple{field("replica_id", &R::replica_id, since(0)),
                      field("isolation_level", &R::isolation_level, since(2)),
                      field("topics", &R::topics, since(0)),
                      field("timeout_ms", &R::timeout_ms, since(10))};
  }
  bool operator==(const ListOffsetsRequest&) const = default;
};

struct ListOffsetsResponse {
  struct Partition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    int64_t timestamp = -1;
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Partition;
      return std::tuple{field("partition_index", &R::partition_index, since(0)),
                        field("error_code", &R::error_code, since(0)),
                        field("timestamp", &R::timestamp, since(1)),
                        field("offset", &R::offset, since(1)),
                        field("leader_epoch", &R::leader_epoch, since(4))};
    }
    bool operator==(const Partition&) const = default;
  };

  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Topic;
      return std::tuple{field("name", &R::name, since(0)),
                        field("partitions", &R::partitions, since(0))};
    }
    bool operator==(const Topic&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = ListOffsetsResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(2)),
                      field("topics", &R::topics, since(0))};
  }
  bool operator==(const ListOffsetsResponse&) const = default;
};

struct ListOffsetsApi {
  static constexpr ApiKey kKey = ApiKey::kListOffsets;
  static constexpr std::string_view kName = "ListOffsets";
  static constexpr int16_t kMinVersion = 1;
  static constexpr int16_t kMaxVersion = 11;
  static constexpr int16_t kFirstFlexibleVersion = 6;
  using Request = ListOffsetsRequest;
  using Response = ListOffsetsResponse;
};

}  // namespace kafka::protocol
