// CreateTopics (key 19): creates topics, or with `validate_only` checks that they could be created.
// Used by the Admin service. Any broker accepts it and forwards it to the controller.
//
// Versions 2-7; flexible from 5. Kafka 4.0 removed v0-1, so v2 is the oldest a broker still
// takes. v4+ let `num_partitions` and `replication_factor` be -1 (the broker's defaults) without
// an explicit assignment; v5+ answer with the created topic's configuration, v7+ with its id.
// librdkafka's mock broker does not serve this API.
// Plain data: no executor, owned by whoever builds or decodes the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct CreateTopicsRequest {
  // Replicas of one partition, for a manual assignment.
  struct Assignment {
    int32_t partition_index = 0;
    std::vector<int32_t> broker_ids;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Assignment;
      return std::tuple{field("partition_index", &R::partition_index, since(0)),
                        field("broker_ids", &R::broker_ids, since(0))};
    }
    bool operator==(const Assignment&) const = default;
  };

  struct Config {
    std::string name;
    std::optional<std::string> value = "";
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Config;
      return std::tuple{field("name", &R::name, since(0)),
                        field("value", &R::value, since(0), {.nullable = since(0)})};
    }
    bool operator==(const Config&) const = default;
  };

  struct Topic {
    std::string name;
    // -1 with a manual assignment, or (v4+) for the broker's default.
    int32_t num_partitions = 0;
    int16_t replication_factor = 0;
    // Empty for the broker to place the replicas.
    std::vector<Assignment> assignments;
    std::vector<Config> configs;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Topic;
      return std::tuple{
          field("name", &R::name, since(0)), field("num_partitions", &R::num_partitions, since(0)),
          field("replication_factor", &R::replication_factor, since(0)),
          field("assignments", &R::assignments, since(0)), field("configs", &R::configs, since(0))};
    }
    bool operator==(const Topic&) const = default;
  };

  std::vector<Topic> topics;
  int32_t timeout_ms = 60000;
  bool validate_only = false;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = CreateTopicsRequest;
    return std::tuple{field("topics", &R::topics, since(0)),
                      field("timeout_ms", &R::timeout_ms, since(0)),
                      field("validate_only", &R::validate_only, since(1))};
  }
  bool operator==(const CreateTopicsRequest&) const = default;
};

struct CreateTopicsResponse {
  struct Config {
    std::string name;
    std::optional<std::string> value = "";
    bool read_only = false;
    int8_t config_source = -1;
    bool is_sensitive = false;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Config;
      return std::tuple{field("name", &R::name, since(5)),
                        field("value", &R::value, since(5), {.nullable = since(5)}),
                        field("read_only", &R::read_only, since(5)),
                        field("config_source", &R::config_source, since(5)),
                        field("is_sensitive", &R::is_sensitive, since(5))};
    }
    bool operator==(const Config&) const = default;
  };

  struct Topic {
    std::string name;
    Uuid topic_id;
    int16_t error_code = 0;
    std::optional<std::string> error_message = "";
    // Set when the topic was created but its configuration could not be returned.
    int16_t topic_config_error_code = 0;
    int32_t num_partitions = -1;
    int16_t replication_factor = -1;
    std::optional<std::vector<Config>> configs = std::vector<Config>{};
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Topic;
      return std::tuple{
          field("name", &R::name, since(0)),
          field("topic_id", &R::topic_id, since(7)),
          field("error_code", &R::error_code, since(0)),
          field("error_message", &R::error_message, since(1), {.nullable = since(0)}),
          field("topic_config_error_code", &R::topic_config_error_code, since(5), {.tag = 0}),
          field("num_partitions", &R::num_partitions, since(5)),
          field("replication_factor", &R::replication_factor, since(5)),
          field("configs", &R::configs, since(5), {.nullable = since(5)})};
    }
    bool operator==(const Topic&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<Topic> topics;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = CreateTopicsResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(2)),
                      field("topics", &R::topics, since(0))};
  }
  bool operator==(const CreateTopicsResponse&) const = default;
};

struct CreateTopicsApi {
  static constexpr ApiKey kKey = ApiKey::kCreateTopics;
  static constexpr std::string_view kName = "CreateTopics";
  static constexpr int16_t kMinVersion = 2;
  static constexpr int16_t kMaxVersion = 7;
  static constexpr int16_t kFirstFlexibleVersion = 5;
  using Request = CreateTopicsRequest;
  using Response = CreateTopicsResponse;
};

}  // namespace kafka::protocol
