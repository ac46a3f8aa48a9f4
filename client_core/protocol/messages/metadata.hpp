// Metadata (key 3): brokers, topics, partition leaders and replicas. The cluster layer's metadata
// cache is built from its responses.
//
// Versions 0-13; flexible from 9. We keep v0: librdkafka's mock broker (our test broker) serves
// only v0-2. Version notes that matter to callers:
//   - v0: an empty topic list means "all topics"; from v1 that is a null list (an empty one asks
//     for none). A null `topics` encoded at v0 becomes the empty list, so it still means "all".
//   - v10+: topics carry ids; v12+ a topic may be requested by id with a null name.
//   - v13: a top-level error code (e.g. REBOOTSTRAP_REQUIRED).
// Plain data: no executor, owned by whoever builds or decodes the message.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct MetadataRequest {
  struct Topic {
    Uuid topic_id;
    std::optional<std::string> name = "";
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Topic;
      return std::tuple{field("topic_id", &R::topic_id, since(10)),
                        field("name", &R::name, since(0), {.nullable = since(10)})};
    }
    bool operator==(const Topic&) const = default;
  };

  std::optional<std::vector<Topic>> topics = std::vector<Topic>{};
  bool allow_auto_topic_creation = true;
  bool include_cluster_authorized_operations = false;
  bool include_topic_authorized_operations = false;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = MetadataRequest;
    return std::tuple{field("topics", &R::topics, since(0), {.nullable = since(1)}),
                      field("allow_auto_topic_creation", &R::allow_auto_topic_creation, since(4)),
                      field("include_cluster_authorized_operations",
                            &R::include_cluster_authorized_operations, between(8, 10)),
                      field("include_topic_authorized_operations",
                            &R::include_topic_authorized_operations, since(8))};
  }
  bool operator==(const MetadataRequest&) const = default;
};

struct MetadataResponse {
  // The schema's default for the authorized-operations bitfields: "not reported".
  static constexpr int32_t kAuthorizedOperationsUnknown = std::numeric_limits<int32_t>::min();

  struct Broker {
    int32_t node_id = 0;
    std::string host;
    int32_t port = 0;
    std::optional<std::string> rack;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Broker;
      return std::tuple{field("node_id", &R::node_id, since(0)), field("host", &R::host, since(0)),
                        field("port", &R::port, since(0)),
                        field("rack", &R::rack, since(1), {.nullable = since(1)})};
    }
    bool operator==(const Broker&) const = default;
  };

  struct Partition {
    int16_t error_code = 0;
    int32_t partition_index = 0;
    int32_t leader_id = 0;
    int32_t leader_epoch = -1;
    std::vector<int32_t> replica_nodes;
    std::vector<int32_t> isr_nodes;
    std::vector<int32_t> offline_replicas;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Partition;
      return std::tuple{field("error_code", &R::error_code, since(0)),
                        field("partition_index", &R::partition_index, since(0)),
                        field("leader_id", &R::leader_id, since(0)),
                        field("leader_epoch", &R::leader_epoch, since(7)),
                        field("replica_nodes", &R::replica_nodes, since(0)),
                        field("isr_nodes", &R::isr_nodes, since(0)),
                        field("offline_replicas", &R::offline_replicas, since(5))};
    }
    bool operator==(const Partition&) const = default;
  };

  struct Topic {
    int16_t error_code = 0;
    std::optional<std::string> name = "";
    Uuid topic_id;
    bool is_internal = false;
    std::vector<Partition> partitions;
    int32_t topic_authorized_operations = kAuthorizedOperationsUnknown;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Topic;
      return std::tuple{
          field("error_code", &R::error_code, since(0)),
          field("name", &R::name, since(0), {.nullable = since(12)}),
          field("topic_id", &R::topic_id, since(10)),
          field("is_internal", &R::is_internal, since(1)),
          field("partitions", &R::partitions, since(0)),
          field("topic_authorized_operations", &R::topic_authorized_operations, since(8))};
    }
    bool operator==(const Topic&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<Broker> brokers;
  std::optional<std::string> cluster_id;
  int32_t controller_id = -1;
  std::vector<Topic> topics;
  int32_t cluster_authorized_operations = kAuthorizedOperationsUnknown;
  int16_t error_code = 0;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = MetadataResponse;
    return std::tuple{
        field("throttle_time_ms", &R::throttle_time_ms, since(3)),
        field("brokers", &R::brokers, since(0)),
        field("cluster_id", &R::cluster_id, since(2), {.nullable = since(2)}),
        field("controller_id", &R::controller_id, since(1)),
        field("topics", &R::topics, since(0)),
        field("cluster_authorized_operations", &R::cluster_authorized_operations, between(8, 10)),
        field("error_code", &R::error_code, since(13))};
  }
  bool operator==(const MetadataResponse&) const = default;
};

struct MetadataApi {
  static constexpr ApiKey kKey = ApiKey::kMetadata;
  static constexpr std::string_view kName = "Metadata";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 13;
  static constexpr int16_t kFirstFlexibleVersion = 9;
  using Request = MetadataRequest;
  using Response = MetadataResponse;
};

}  // namespace kafka::protocol
