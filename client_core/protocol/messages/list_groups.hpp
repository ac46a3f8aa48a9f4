// ListGroups (key 16): the groups one broker coordinates (to list a cluster's groups, ask every
// broker). Used by the Admin service; librdkafka's mock cluster does not serve it.
// Versions 0-5; flexible from 3. v4 adds filtering by state, v5 by group type ("classic",
// "consumer", ...); an empty filter matches every group.
#pragma once

#include <string>
#include <vector>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct ListGroupsRequest {
  std::vector<std::string> states_filter;
  std::vector<std::string> types_filter;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = ListGroupsRequest;
    return std::tuple{field("states_filter", &R::states_filter, since(4)),
                      field("types_filter", &R::types_filter, since(5))};
  }
  bool operator==(const ListGroupsRequest&) const = default;
};

struct ListGroupsResponse {
  struct ListedGroup {
    std::string group_id;
    std::string protocol_type;
    std::string group_state;
    std::string group_type;
    UnknownTags unknown_tags;

    static constexpr auto fields() {
      using R = ListedGroup;
      return std::tuple{field("group_id", &R::group_id, since(0)),
                        field("protocol_type", &R::protocol_type, since(0)),
                        field("group_state", &R::group_state, since(4)),
                        field("group_type", &R::group_type, since(5))};
    }
    bool operator==(const ListedGroup&) const = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::vector<ListedGroup> groups;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = ListGroupsResponse;
    return std::tuple{field("throttle_time_ms", &R::throttle_time_ms, since(1)),
                      field("error_code", &R::error_code, since(0)),
                      field("groups", &R::groups, since(0))};
  }
  bool operator==(const ListGroupsResponse&) const = default;
};

struct ListGroupsApi {
  static constexpr ApiKey kKey = ApiKey::kListGroups;
  static constexpr std::string_view kName = "ListGroups";
  static constexpr int16_t kMinVersion = 0;
  static constexpr int16_t kMaxVersion = 5;
  static constexpr int16_t kFirstFlexibleVersion = 3;
  using Request = ListGroupsRequest;
  using Response = ListGroupsResponse;
};

}  // namespace kafka::protocol
