// LeaveGroup (key 13): one or more members leave a classic-protocol group, which starts a
// rebalance for the others. Up to v2 a request names one member by `member_id`; from v3 it names
// a batch in `members` (so that static members can be removed by instance id) and the response
// answers per member.
// Versions 0-5; flexible from 4. Kafka 4.x accepts all of them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct LeaveGroupRequest {
  struct MemberIdentity {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::optional<std::string> reason;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = MemberIdentity;
      return std::tuple{
          field("member_id", &R::member_id, since(3)),
          field("group_instance_id", &R::group_instance_id, since(3), {.nullable = since(3)}),
          field("reason", &R::reason, since(5), {.nullable = since(5)})};
    }
    bool operator==(const MemberIdentity&) const = default;
  };

  std::string group_id;
  std::string member_id;
  std::vector<MemberIdentity> members;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = LeaveGroupRequest;
    return std::tuple{field("group_id", &R::group_id, since(0)),
                      field("member_id", &R::member_id, between(0, 2)),
                      field("members", &R::members, since(3))};
  }
  bool operator==(const LeaveGroupRequest&) const = default;
};

struct LeaveGroupResponse {
  struct MemberResponse {
    std::string member_id;
    // Nullable, but without a null default in Kafka's schema.
    std::optional<std::string> group_instance_id = std::string();
    int16_t error_code = 0;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = MemberResponse;
      return std::tuple{
          field("member_id", &R::member_id, since(3)),
          field("group_instance_id", &R::group_instance_id, since(3), {.nullable = since(3)}),
          field("error_code", &R::error_code, since(3))};
    }
    bool operator==(const MemberResponse&) const = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::vector<MemberResponse> members;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = LeaveGroupResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(1)),
                      field("error_code", &R::error_code, since(0)),
                      field("members", &R::members, since(3))};
  }
  bool operator==(const LeaveGroupResponse&) const = default;
};

struct LeaveGroupApi {
  static constexpr ApiKey kKey = ApiKey::kLeaveGroup;
  static constexpr std::string_view kName = "LeaveGroup";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 5;
  static constexpr int16_t kFirstFlexibleVersion = 4;
  using Request = LeaveGroupRequest;
  using Response = LeaveGroupResponse;
};

}  // namespace kafka::protocol
