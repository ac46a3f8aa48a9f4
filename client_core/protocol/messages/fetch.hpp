// Fetch (key 1): reads record batches from partition leaders (or preferred read replicas).
// Built by the consumer's fetcher.
//
// Versions 4-18; flexible from 12. v4 is the oldest a Kafka 4.x broker accepts, and the first
// that returns RecordBatch v2 with aborted transactions; librdkafka's mock broker serves up to
// v11. Version notes:
//   - v7+: incremental fetch sessions (session id/epoch, forgotten topics).
//   - v12+: the response may carry a diverging epoch, the current leader or a snapshot id
//     (tagged fields).
//   - v13+: topics are named by id instead of by name (`topic_id` replaces `topic`).
//   - v15+: followers identify themselves in `replica_state`; `replica_id` is gone.
//   - v16+: the response lists the endpoints of new leaders (tagged).
// The request's tagged replica_state, replica_directory_id and high_watermark are for follower
// brokers; a consumer leaves them at their defaults, so they are never written.
// Plain data: no executor, owned by whoever builds or decodes the message.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/messages/common.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct FetchRequest {
  struct ReplicaState {
    int32_t replica_id = -1;
    int64_t replica_epoch = -1;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = ReplicaState;
      return std::tuple{field("replica_id", &R::replica_id, since(15)),
                        field("replica_epoch", &R::replica_epoch, since(15))};
    }
    bool operator==(const ReplicaState&) const = default;
  };

  struct Partition {
    int32_t partition = 0;
    int32_t current_leader_epoch = -1;
    int64_t fetch_offset = 0;
    int32_t last_fetched_epoch = -1;
    int64_t log_start_offset = -1;
    int32_t partition_max_bytes = 0;
    Uuid replica_directory_id;
    int64_t high_watermark = std::numeric_limits<int64_t>::max();
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Partition;
      return std::tuple{
          field("partition", &R::partition, since(0)),
          field("current_leader_epoch", &R::current_leader_epoch, since(9)),
          field("fetch_offset", &R::fetch_offset, since(0)),
          field("last_fetched_epoch", &R::last_fetched_epoch, since(12)),
          field("log_start_offset", &R::log_start_offset, since(5)),
          field("partition_max_bytes", &R::partition_max_bytes, since(0)),
          field("replica_directory_id", &R::replica_directory_id, since(17), {.tag = 0}),
          field("high_watermark", &R::high_watermark, since(18), {.tag = 1})};
    }
    bool operator==(const Partition&) const = default;
  };

  struct Topic {
    std::string topic;
    Uuid topic_id;
    std::vector<Partition> partitions;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Topic;
      return std::tuple{field("topic", &R::topic, between(0, 12)),
                        field("topic_id", &R::topic_id, since(13)),
                        field("partitions", &R::partitions, since(0))};
    }
    bool operator==(const Topic&) const = default;
  };

  struct ForgottenTopic {
    std::string topic;
    Uuid topic_id;
    std::vector<int32_t> partitions;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = ForgottenTopic;
      return std::tuple{field("topic", &R::topic, between(7, 12)),
                        field("topic_id", &R::topic_id, since(13)),
                        field("partitions", &R::partitions, since(7))};
    }
    bool operator==(const ForgottenTopic&) const = default;
  };

  std::optional<std::string> cluster_id;
  int32_t replica_id = -1;
  ReplicaState replica_state;
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;
  int32_t max_bytes = std::numeric_limits<int32_t>::max();
  int8_t isolation_level = 0;
  int32_t session_id = 0;
  int32_t session_epoch = -1;
  std::vector<Topic> topics;
  std::vector<ForgottenTopic> forgotten_topics_data;
  std::string rack_id;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = FetchRequest;
    return std::tuple{
        field("cluster_id", &R::cluster_id, since(12), {.nullable = since(12), .tag = 0}),
        field("replica_id", &R::replica_id, between(0, 14)),
        field("replica_state", &R::replica_state, since(15), {.tag = 1}),
        field("max_wait_ms", &R::max_wait_ms, since(0)),
        field("min_bytes", &R::min_bytes, since(0)),
        field("max_bytes", &R::max_bytes, since(3)),
        field("isolation_level", &R::isolation_level, since(4)),
        field("session_id", &R::session_id, since(7)),
        field("session_epoch", &R::session_epoch, since(7)),
        field("topics", &R::topics, since(0)),
        field("forgotten_topics_data", &R::forgotten_topics_data, since(7)),
        field("rack_id", &R::rack_id, since(11))};
  }
  bool operator==(const FetchRequest&) const = default;
};

struct FetchResponse {
  struct EpochEndOffset {
    int32_t epoch = -1;
    int64_t end_offset = -1;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = EpochEndOffset;
      return std::tuple{field("epoch", &R::epoch, since(12)),
                        field("end_offset", &R::end_offset, since(12))};
    }
    bool operator==(const EpochEndOffset&) const = default;
  };

  struct SnapshotId {
    int64_t end_offset = -1;
    int32_t epoch = -1;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = SnapshotId;
      return std::tuple{field("end_offset", &R::end_offset, since(0)),
                        field("epoch", &R::epoch, since(0))};
    }
    bool operator==(const SnapshotId&) const = default;
  };

  struct AbortedTransaction {
    int64_t producer_id = 0;
    int64_t first_offset = 0;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = AbortedTransaction;
      return std::tuple{field("producer_id", &R::producer_id, since(4)),
                        field("first_offset", &R::first_offset, since(4))};
    }
    bool operator==(const AbortedTransaction&) const = default;
  };

  struct PartitionData {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    int64_t high_watermark = 0;
    int64_t last_stable_offset = -1;
    int64_t log_start_offset = -1;
    EpochEndOffset diverging_epoch;
    LeaderIdAndEpoch current_leader;
    SnapshotId snapshot_id;
    // Null when there is nothing to report, as for READ_UNCOMMITTED fetches.
    std::optional<std::vector<AbortedTransaction>> aborted_transactions =
        std::vector<AbortedTransaction>{};
    int32_t preferred_read_replica = -1;
    std::optional<Records> records;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = PartitionData;
      return std::tuple{
          field("partition_index", &R::partition_index, since(0)),
          field("error_code", &R::error_code, since(0)),
          field("high_watermark", &R::high_watermark, since(0)),
          field("last_stable_offset", &R::last_stable_offset, since(4)),
          field("log_start_offset", &R::log_start_offset, since(5)),
          field("diverging_epoch", &R::diverging_epoch, since(12), {.tag = 0}),
          field("current_leader", &R::current_leader, since(12), {.tag = 1}),
          field("snapshot_id", &R::snapshot_id, since(12), {.tag = 2}),
          field("aborted_transactions", &R::aborted_transactions, since(4), {.nullable = since(4)}),
          field("preferred_read_replica", &R::preferred_read_replica, since(11)),
          field("records", &R::records, since(0), {.nullable = since(0)})};
    }
    bool operator==(const PartitionData&) const = default;
  };

  struct TopicResponse {
    std::string topic;
    Uuid topic_id;
    std::vector<PartitionData> partitions;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = TopicResponse;
      return std::tuple{field("topic", &R::topic, between(0, 12)),
                        field("topic_id", &R::topic_id, since(13)),
                        field("partitions", &R::partitions, since(0))};
    }
    bool operator==(const TopicResponse&) const = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  int32_t session_id = 0;
  std::vector<TopicResponse> responses;
  // The leaders named in `current_leader` of partitions that failed with NOT_LEADER_OR_FOLLOWER
  // or FENCED_LEADER_EPOCH.
  std::vector<NodeEndpoint> node_endpoints;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = FetchResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(1)),
                      field("error_code", &R::error_code, since(7)),
                      field("session_id", &R::session_id, since(7)),
                      field("responses", &R::responses, since(0)),
                      field("node_endpoints", &R::node_endpoints, since(16), {.tag = 0})};
  }
  bool operator==(const FetchResponse&) const = default;
};

struct FetchApi {
  static constexpr ApiKey kKey = ApiKey::kFetch;
  static constexpr std::string_view kName = "Fetch";
  static constexpr int16_t kMinVersion = 4;
  static constexpr int16_t kMaxVersion = 18;
  static constexpr int16_t kFirstFlexibleVersion = 12;
  using Request = FetchRequest;
  using Response = FetchResponse;
};

}  // namespace kafka::protocol
