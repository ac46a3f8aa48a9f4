// DescribeGroups (key 15): a group's state, protocol and members (with their metadata and
// assignments), asked of the group's coordinator. Used by the Admin service; librdkafka's mock
// cluster does not serve it.
// Versions 0-6; flexible from 5. From v6 (Kafka 4.0) an unknown group is reported as
// GROUP_ID_NOT_FOUND with a message, instead of as a Dead group.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct DescribeGroupsRequest {
  std::vector<std::string> groups;
  bool include_authorized_operations = false;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = DescribeGroupsRequest;
    return std::tuple{
        field("groups", &R::groups, since(0)),
        field("include_authorized_operations", &R::include_authorized_operations, since(3))};
  }
  bool operator==(const DescribeGroupsRequest&) const = default;
};

struct DescribeGroupsResponse {
  struct DescribedGroupMember {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    Bytes member_metadata;
    Bytes member_assignment;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = DescribedGroupMember;
      return std::tuple{
          field("member_id", &R::member_id, since(0)),
          field("group_instance_id", &R::group_instance_id, since(4), {.nullable = since(4)}),
          field("client_id", &R::client_id, since(0)),
          field("client_host", &R::client_host, since(0)),
          field("member_metadata", &R::member_metadata, since(0)),
          field("member_assignment", &R::member_assignment, since(0))};
    }
    bool operator==(const DescribedGroupMember&) const = default;
  };
  struct DescribedGroup {
    int16_t error_code = 0;
    std::optional<std::string> error_message;
    std::string group_id;
    std::string group_state;
    std::string protocol_type;
    // The chosen protocol (assignor) name.
    std::string protocol_data;
    std::vector<DescribedGroupMember> members;
    // A bit set of ACL operations; INT32_MIN when they were not asked for.
    int32_t authorized_operations = std::numeric_limits<int32_t>::min();
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = DescribedGroup;
      return std::tuple{field("error_code", &R::error_code, since(0)),
                        field("error_message", &R::error_message, since(6), {.nullable = since(6)}),
                        field("group_id", &R::group_id, since(0)),
                        field("group_state", &R::group_state, since(0)),
                        field("protocol_type", &R::protocol_type, since(0)),
                        field("protocol_data", &R::protocol_data, since(0)),
                        field("members", &R::members, since(0)),
                        field("authorized_operations", &R::authorized_operations, since(3))};
    }
    bool operator==(const DescribedGroup&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<DescribedGroup> groups;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = DescribeGroupsResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(1)),
                      field("groups", &R::groups, since(0))};
  }
  bool operator==(const DescribeGroupsResponse&) const = default;
};

struct DescribeGroupsApi {
  static constexpr ApiKey kKey = ApiKey::kDescribeGroups;
  static constexpr std::string_view kName = "DescribeGroups";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 6;
  static constexpr int16_t kFirstFlexibleVersion = 5;
  using Request = DescribeGroupsRequest;
  using Response = DescribeGroupsResponse;
};

}  // namespace kafka::protocol
