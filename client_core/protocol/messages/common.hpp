// Structures that several messages share. Their fields exist in every version in which the
// enclosing field exists, so they are declared from version 0: the enclosing field's own
// version range decides whether they are on the wire at all.
#pragma once

#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

// The current leader of a partition, as a broker reports it in Produce and Fetch errors.
struct LeaderIdAndEpoch {
  int32_t leader_id = -1;
  int32_t leader_epoch = -1;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = LeaderIdAndEpoch;
    return std::tuple{field("leader_id", &R::leader_id, since(0)),
                      field("leader_epoch", &R::leader_epoch, since(0))};
  }
  bool operator==(const LeaderIdAndEpoch&) const = default;
};

// A broker's address, sent along with a LeaderIdAndEpoch so the client can reach a new leader
// without a Metadata round trip.
struct NodeEndpoint {
  int32_t node_id = 0;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
  UnknownTags unknown_tags;

  static constexpr auto fields() {
    using R = NodeEndpoint;
    return std::tuple{field("node_id", &R::node_id, since(0)), field("host", &R::host, since(0)),
                      field("port", &R::port, since(0)),
                      field("rack", &R::rack, since(0), {.nullable = since(0)})};
  }
  bool operator==(const NodeEndpoint&) const = default;
};

}  // namespace kafka::protocol
