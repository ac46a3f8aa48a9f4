// JoinGroup (key 11): a classic-protocol member asks its coordinator to join (or rejoin) a group
// and offers the assignors it supports; the response names the generation, the chosen protocol
// and, for the leader only, every member's subscription metadata. The metadata bytes are opaque
// here; the consumer protocol's encoding of them belongs to the group layer.
// Versions 0-9; flexible from 6. Kafka 4.0 refused v0-1 and 4.1 accepts them again; we keep
// them all because older brokers and librdkafka's mock cluster (0-5) need them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct JoinGroupRequest {
  struct Protocol {
    std::string name;
    Bytes metadata;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Protocol;
      return std::tuple{field("name", &R::name, since(0)),
                        field("metadata", &R::metadata, since(0))};
    }
    bool operator==(const Protocol&) const = default;
  };

  std::string group_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = -1;
  // Empty on the first join; since v4 the coordinator then answers MEMBER_ID_REQUIRED with the id
  // to join with.
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string protocol_type;
  std::vector<Protocol> protocols;
  std::optional<std::string> reason;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = JoinGroupRequest;
    return std::tuple{
        field("group_id", &R::group_id, since(0)),
        field("session_timeout_ms", &R::session_timeout_ms, since(0)),
        field("rebalance_timeout_ms", &R::rebalance_timeout_ms, since(1)),
        field("member_id", &R::member_id, since(0)),
        field("group_instance_id", &R::group_instance_id, since(5), {.nullable = since(5)}),
        field("protocol_type", &R::protocol_type, since(0)),
        field("protocols", &R::protocols, since(0)),
        field("reason", &R::reason, since(8), {.nullable = since(8)})};
  }
  bool operator==(const JoinGroupRequest&) const = default;
};

struct JoinGroupResponse {
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    Bytes metadata;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = Member;
      return std::tuple{
          field("member_id", &R::member_id, since(0)),
          field("group_instance_id", &R::group_instance_id, since(5), {.nullable = since(5)}),
          field("metadata", &R::metadata, since(0))};
    }
    bool operator==(const Member&) const = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  int32_t generation_id = -1;
  std::optional<std::string> protocol_type;
  // Not null before v7, hence the empty default.
  std::optional<std::string> protocol_name = std::string();
  std::string leader;
  bool skip_assignment = false;
  std::string member_id;
  // Empty unless this member is the leader.
  std::vector<Member> members;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = JoinGroupResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(2)),
                      field("error_code", &R::error_code, since(0)),
                      field("generation_id", &R::generation_id, since(0)),
                      field("protocol_type", &R::protocol_type, since(7), {.nullable = since(7)}),
                      field("protocol_name", &R::protocol_name, since(0),
                            {.nullable = since(7), .null_as_empty = true}),
                      field("leader", &R::leader, since(0), {.null_as_empty = true}),
                      field("skip_assignment", &R::skip_assignment, since(9)),
                      field("member_id", &R::member_id, since(0), {.null_as_empty = true}),
                      field("members", &R::members, since(0))};
  }
  bool operator==(const JoinGroupResponse&) const = default;
};

struct JoinGroupApi {
  static constexpr ApiKey kKey = ApiKey::kJoinGroup;
  static constexpr std::string_view kName = "JoinGroup";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 9;
  static constexpr int16_t kFirstFlexibleVersion = 6;
  using Request = JoinGroupRequest;
  using Response = JoinGroupResponse;
};

}  // namespace kafka::protocol
