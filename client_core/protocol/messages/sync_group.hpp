// SyncGroup (key 14): after a JoinGroup round, the leader sends the assignment it computed for
// every member and each member receives its own. The assignment bytes are opaque here; the
// consumer protocol's encoding of them belongs to the group layer.
// Versions 0-5; flexible from 4. Kafka 4.x accepts all of them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct SyncGroupRequest {
  struct Assignment {
    std::string member_id;
    Bytes assignment;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Assignment;
      return std::tuple{field("member_id", &R::member_id, since(0)),
                        field("assignment", &R::assignment, since(0))};
    }
    bool operator==(const Assignment&) const = default;
  };

  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  // Empty unless this member is the leader.
  std::vector<Assignment> assignments;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = SyncGroupRequest;
    return std::tuple{
        field("group_id", &R::group_id, since(0)),
        field("generation_id", &R::generation_id, since(0)),
        field("member_id", &R::member_id, since(0)),
        field("group_instance_id", &R::group_instance_id, since(3), {.nullable = since(3)}),
        field("protocol_type", &R::protocol_type, since(5), {.nullable = since(5)}),
        field("protocol_name", &R::protocol_name, since(5), {.nullable = since(5)}),
        field("assignments", &R::assignments, since(0))};
  }
  bool operator==(const SyncGroupRequest&) const = default;
};

struct SyncGroupResponse {
  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  Bytes assignment;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = SyncGroupResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(1)),
                      field("error_code", &R::error_code, since(0)),
                      field("protocol_type", &R::protocol_type, since(5), {.nullable = since(5)}),
                      field("protocol_name", &R::protocol_name, since(5), {.nullable = since(5)}),
                      field("assignment", &R::assignment, since(0), {.null_as_empty = true})};
  }
  bool operator==(const SyncGroupResponse&) const = default;
};

struct SyncGroupApi {
  static constexpr ApiKey kKey = ApiKey::kSyncGroup;
  static constexpr std::string_view kName = "SyncGroup";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 5;
  static constexpr int16_t kFirstFlexibleVersion = 4;
  using Request = SyncGroupRequest;
  using Response = SyncGroupResponse;
};

}  // namespace kafka::protocol
