// FindCoordinator (key 10): which broker coordinates a consumer group (key type 0), a
// transactional id (1) or a share group (2). Used by group coordinator discovery and the
// transactional producer.
//
// Versions 0-6; flexible from 3. v0-3 ask for one `key` and answer with one coordinator in the
// top-level fields; v4+ batch: `coordinator_keys` in, one `coordinators` entry per key out.
// librdkafka's mock broker serves only v0-2, so both shapes are needed.
// Plain data: no executor, owned by whoever builds or decodes the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct FindCoordinatorRequest {
  std::string key;
  int8_t key_type = 0;
  std::vector<std::string> coordinator_keys;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = FindCoordinatorRequest;
    return std::tuple{field("key", &R::key, between(0, 3)),
                      field("key_type", &R::key_type, since(1)),
                      field("coordinator_keys", &R::coordinator_keys, since(4))};
  }
  bool operator==(const FindCoordinatorRequest&) const = default;
};

struct FindCoordinatorResponse {
  struct Coordinator {
    std::string key;
    int32_t node_id = 0;
    std::string host;
    int32_t port = 0;
    int16_t error_code = 0;
    std::optional<std::string> error_message = "";
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Coordinator;
      return std::tuple{
          field("key", &R::key, since(4)),
          field("node_id", &R::node_id, since(4)),
          field("host", &R::host, since(4), {.null_as_empty = true}),
          field("port", &R::port, since(4)),
          field("error_code", &R::error_code, since(4)),
          field("error_message", &R::error_message, since(4), {.nullable = since(4)})};
    }
    bool operator==(const Coordinator&) const = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::optional<std::string> error_message = "";
  int32_t node_id = 0;
  std::string host;
  int32_t port = 0;
  std::vector<Coordinator> coordinators;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = FindCoordinatorResponse;
    return std::tuple{
        field("throttle_time_ms", &R::throttle_time_ms, since(1)),
        field("error_code", &R::error_code, between(0, 3)),
        field("error_message", &R::error_message, between(1, 3), {.nullable = between(1, 3)}),
        field("node_id", &R::node_id, between(0, 3)),
        field("host", &R::host, between(0, 3), {.null_as_empty = true}),
        field("port", &R::port, between(0, 3)),
        field("coordinators", &R::coordinators, since(4))};
  }
  bool operator==(const FindCoordinatorResponse&) const = default;
};

struct FindCoordinatorApi {
  static constexpr ApiKey kKey = ApiKey::kFindCoordinator;
  static constexpr std::string_view kName = "FindCoordinator";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 6;
  static constexpr int16_t kFirstFlexibleVersion = 3;
  using Request = FindCoordinatorRequest;
  using Response = FindCoordinatorResponse;
};

}  // namespace kafka::protocol
