// Settings shared by every broker connection of a cluster.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "client_core/protocol/api.hpp"

namespace kafka::net {

struct ConnectionConfig {
  std::string client_id = "kafka-sidecar";
  std::chrono::milliseconds connect_timeout{10'000};
  // Default time a request may wait for its response (callers may pass their own, e.g. a Fetch
  // adds its MaxWait). A request that times out closes its connection: responses come strictly in
  // order, so nothing queued behind it could be answered anyway.
  std::chrono::milliseconds request_timeout{30'000};
  // Requests written but not yet answered, per connection. More wait in the send queue.
  size_t max_in_flight = 32;
  size_t max_frame_bytes = 100 * 1024 * 1024;
  std::chrono::milliseconds reconnect_backoff{100};
  std::chrono::milliseconds reconnect_backoff_max{10'000};
  // Per-API version caps (e.g. the test broker needs ListOffsets <= 3).
  std::map<protocol::ApiKey, int16_t> version_caps;
};

}  // namespace kafka::net
