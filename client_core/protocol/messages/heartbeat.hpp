// Heartbeat (key 12): a classic-protocol group member tells its coordinator it is alive, and
// learns from the error code when the group has started rebalancing.
// Versions 0-4; flexible from 4. Kafka 4.x accepts all of them.
#pragma once

#include <optional>
#include <string>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct HeartbeatRequest {
  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = HeartbeatRequest;
    return std::tuple{
        field("group_id", &R::group_id, since(0)),
        field("generation_id", &R::generation_id, since(0)),
        field("member_id", &R::member_id, since(0)),
        field("group_instance_id", &R::group_instance_id, since(3), {.nullable = since(3)})};
  }
  bool operator==(const HeartbeatRequest&) const = default;
};

struct HeartbeatResponse {
  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = HeartbeatResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(1)),
                      field("error_code", &R::error_code, since(0))};
  }
  bool operator==(const HeartbeatResponse&) const = default;
};

struct HeartbeatApi {
  static constexpr ApiKey kKey = ApiKey::kHeartbeat;
  static constexpr std::string_view kName = "Heartbeat";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 4;
  static constexpr int16_t kFirstFlexibleVersion = 4;
  using Request = HeartbeatRequest;
  using Response = HeartbeatResponse;
};

}  // namespace kafka::protocol
