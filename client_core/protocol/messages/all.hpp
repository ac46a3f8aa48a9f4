// Every API the client core defines, and forEachApi() to visit them all at compile time
// (used for version negotiation, name lookup, fuzzing and the per-version round-trip tests).
#pragma once

#include "client_core/protocol/messages/api_versions.hpp"
#include "client_core/protocol/messages/create_topics.hpp"
#include "client_core/protocol/messages/delete_topics.hpp"
#include "client_core/protocol/messages/describe_configs.hpp"
#include "client_core/protocol/messages/describe_groups.hpp"
#include "client_core/protocol/messages/fetch.hpp"
#include "client_core/protocol/messages/find_coordinator.hpp"
#include "client_core/protocol/messages/heartbeat.hpp"
#include "client_core/protocol/messages/init_producer_id.hpp"
#include "client_core/protocol/messages/join_group.hpp"
#include "client_core/protocol/messages/leave_group.hpp"
#include "client_core/protocol/messages/list_groups.hpp"
#include "client_core/protocol/messages/list_offsets.hpp"
#include "client_core/protocol/messages/metadata.hpp"
#include "client_core/protocol/messages/offset_commit.hpp"
#include "client_core/protocol/messages/offset_fetch.hpp"
#include "client_core/protocol/messages/produce.hpp"
#include "client_core/protocol/messages/sasl_authenticate.hpp"
#include "client_core/protocol/messages/sasl_handshake.hpp"
#include "client_core/protocol/messages/sync_group.hpp"

namespace kafka::protocol {

template <class... Apis>
struct ApiList {
  template <class F>
  static constexpr void forEach(F&& f) {
    (f.template operator()<Apis>(), ...);
  }
};

using AllApis =
    ApiList<ApiVersionsApi, ProduceApi, FetchApi, ListOffsetsApi, MetadataApi, FindCoordinatorApi,
            InitProducerIdApi, JoinGroupApi, SyncGroupApi, HeartbeatApi, LeaveGroupApi,
            OffsetCommitApi, OffsetFetchApi, DescribeGroupsApi, ListGroupsApi, SaslHandshakeApi,
            SaslAuthenticateApi, CreateTopicsApi, DeleteTopicsApi, DescribeConfigsApi>;

// Calls f.template operator()<A>() for every API definition A.
template <class F>
constexpr void forEachApi(F&& f) {
  AllApis::forEach(std::forward<F>(f));
}

}  // namespace kafka::protocol
