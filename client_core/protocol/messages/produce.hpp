// Produce (key 0): writes record batches to partition leaders. Built by the producer's sender.
//
// Versions 3-13; flexible from 9. v3 is the first that carries RecordBatch v2 (and the oldest a
// Kafka 4.x broker accepts); librdkafka's mock broker serves up to v7. Version notes:
//   - v8+: per-record errors and an error message in the response.
//   - v10+: the response names the current leader of a partition that moved (tagged fields).
//   - v13+: topics are named by id instead of by name (`topic_id` replaces `name`).
// Plain data: no executor, owned by whoever builds or decodes the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/messages/common.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct ProduceRequest {
  struct PartitionData {
    int32_t index = 0;
    std::optional<Records> records;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = PartitionData;
      return std::tuple{field("index", &R::index, since(0)),
                        field("records", &R::records, since(0), {.nullable = since(0)})};
    }
    bool operator==(const PartitionData&) const = default;
  };

  struct TopicData {
    std::string name;
    Uuid topic_id;
    std::vector<PartitionData> partition_data;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = TopicData;
      return std::tuple{field("name", &R::name, between(0, 12)),
                        field("topic_id", &R::topic_id, since(13)),
                        field("partition_data", &R::partition_data, since(0))};
    }
    bool operator==(const TopicData&) const = default;
  };

  // Null unless the producer is transactional.
  std::optional<std::string> transactional_id;
  int16_t acks = 0;
  int32_t timeout_ms = 0;
  std::vector<TopicData> topic_data;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = ProduceRequest;
    return std::tuple{
        field("transactional_id", &R::transactional_id, since(3), {.nullable = since(3)}),
        field("acks", &R::acks, since(0)), field("timeout_ms", &R::timeout_ms, since(0)),
        field("topic_data", &R::topic_data, since(0))};
  }
  bool operator==(const ProduceRequest&) const = default;
};

struct ProduceResponse {
  struct BatchIndexAndErrorMessage {
    int32_t batch_index = 0;
    std::optional<std::string> batch_index_error_message;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = BatchIndexAndErrorMessage;
      return std::tuple{field("batch_index", &R::batch_index, since(8)),
                        field("batch_index_error_message", &R::batch_index_error_message, since(8),
                              {.nullable = since(8)})};
    }
    bool operator==(const BatchIndexAndErrorMessage&) const = default;
  };

  struct PartitionResponse {
    int32_t index = 0;
    int16_t error_code = 0;
    int64_t base_offset = 0;
    int64_t log_append_time_ms = -1;
    int64_t log_start_offset = -1;
    std::vector<BatchIndexAndErrorMessage> record_errors;
    std::optional<std::string> error_message;
    LeaderIdAndEpoch current_leader;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = PartitionResponse;
      return std::tuple{field("index", &R::index, since(0)),
                        field("error_code", &R::error_code, since(0)),
                        field("base_offset", &R::base_offset, since(0)),
                        field("log_append_time_ms", &R::log_append_time_ms, since(2)),
                        field("log_start_offset", &R::log_start_offset, since(5)),
                        field("record_errors", &R::record_errors, since(8)),
                        field("error_message", &R::error_message, since(8), {.nullable = since(8)}),
                        field("current_leader", &R::current_leader, since(10), {.tag = 0})};
    }
    bool operator==(const PartitionResponse&) const = default;
  };

  struct TopicResponse {
    std::string name;
    Uuid topic_id;
    std::vector<PartitionResponse> partition_responses;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = TopicResponse;
      return std::tuple{field("name", &R::name, between(0, 12)),
                        field("topic_id", &R::topic_id, since(13)),
                        field("partition_responses", &R::partition_responses, since(0))};
    }
    bool operator==(const TopicResponse&) const = default;
  };

  std::vector<TopicResponse> responses;
  int32_t throttle_time_ms = 0;
  // The leaders named in `current_leader` of partitions that failed with NOT_LEADER_OR_FOLLOWER.
  std::vector<NodeEndpoint> node_endpoints;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = ProduceResponse;
    return std::tuple{field("responses", &R::responses, since(0)),
                      field("throttle_time_ms", &R::throttle_time_ms, since(1)),
                      field("node_endpoints", &R::node_endpoints, since(10), {.tag = 0})};
  }
  bool operator==(const ProduceResponse&) const = default;
};

struct ProduceApi {
  static constexpr ApiKey kKey = ApiKey::kProduce;
  static constexpr std::string_view kName = "Produce";
  static constexpr int16_t kMinVersion = 3;
  static constexpr int16_t kMaxVersion = 13;
  static constexpr int16_t kFirstFlexibleVersion = 9;
  using Request = ProduceRequest;
  using Response = ProduceResponse;
};

}  // namespace kafka::protocol
