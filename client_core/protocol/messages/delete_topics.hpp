// DeleteTopics (key 20): deletes topics by name, or (v6+) by topic id. Used by the Admin service.
// Any broker accepts it and forwards it to the controller.
//
// Versions 1-6; flexible from 4. Kafka 4.0 removed v0. Up to v5 the request lists plain
// `topic_names`; v6 replaces them with `topics`, each naming a topic or giving its id (name null).
// v5+ responses carry an error message, v6+ the topic id (and a null name for a topic asked for by
// id that does not exist). librdkafka's mock broker does not serve this API.
// Plain data: no executor, owned by whoever builds or decodes the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct DeleteTopicsRequest {
  struct Topic {
    std::optional<std::string> name;
    Uuid topic_id;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Topic;
      return std::tuple{field("name", &R::name, since(6), {.nullable = since(6)}),
                        field("topic_id", &R::topic_id, since(6))};
    }
    bool operator==(const Topic&) const = default;
  };

  std::vector<Topic> topics;
  std::vector<std::string> topic_names;
  int32_t timeout_ms = 0;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = DeleteTopicsRequest;
    return std::tuple{field("topics", &R::topics, since(6)),
                      field("topic_names", &R::topic_names, between(0, 5)),
                      field("timeout_ms", &R::timeout_ms, since(0))};
  }
  bool operator==(const DeleteTopicsRequest&) const = default;
};

struct DeleteTopicsResponse {
  struct TopicResult {
    std::optional<std::string> name = "";
    Uuid topic_id;
    int16_t error_code = 0;
    std::optional<std::string> error_message;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = TopicResult;
      return std::tuple{
          field("name", &R::name, since(0), {.nullable = since(6)}),
          field("topic_id", &R::topic_id, since(6)), field("error_code", &R::error_code, since(0)),
          field("error_message", &R::error_message, since(5), {.nullable = since(5)})};
    }
    bool operator==(const TopicResult&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<TopicResult> responses;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = DeleteTopicsResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(1)),
                      field("responses", &R::responses, since(0))};
  }
  bool operator==(const DeleteTopicsResponse&) const = default;
};

struct DeleteTopicsApi {
  static constexpr ApiKey kKey = ApiKey::kDeleteTopics;
  static constexpr std::string_view kName = "DeleteTopics";
  static constexpr int16_t kMinVersion = 1;
  static constexpr int16_t kMaxVersion = 6;
  static constexpr int16_t kFirstFlexibleVersion = 4;
  using Request = DeleteTopicsRequest;
  using Response = DeleteTopicsResponse;
};

}  // namespace kafka::protocol
