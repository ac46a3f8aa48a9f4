// ConnectionObserver: how the owner of the client core (the daemon's metrics, or a test) learns
// what broker connections do, without the client core depending on any metrics library.
//
// A cluster asks the observer for one ConnectionEvents per connection it creates, naming the
// cluster and the broker; the connection keeps it and reports to it from its strand only, so an
// implementation may resolve whatever it needs (metric series, say) once, in attach() or on first
// use, and need not lock on the hot path. Set through ConnectionConfig::observer; none by
// default.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "client_core/protocol/api.hpp"

namespace kafka::net {

// What one connection reports. Called on the connection's strand; must be quick and not block.
class ConnectionEvents {
 public:
  virtual ~ConnectionEvents() = default;
  // Connected and negotiated API versions: the connection is up.
  virtual void onConnected() = 0;
  // A connection that was up dropped or was closed.
  virtual void onDisconnected() = 0;
  // An attempt to connect (resolve, connect or negotiate) failed.
  virtual void onConnectFailed() = 0;
  // A request was written and its response is awaited: it is in flight until onRequestDone().
  virtual void onRequestSent(protocol::ApiKey api) = 0;
  // A request finished. `in_flight`: it had been reported by onRequestSent(). `answered`: its
  // response arrived, `seconds` after it was written (0 when not answered). A request that is
  // not answered failed: timed out, its connection dropped, or no version could be agreed.
  // Requests sent without expecting a response (acks=0) are reported neither way.
  virtual void onRequestDone(protocol::ApiKey api, std::string_view api_name, bool in_flight,
                             bool answered, double seconds) = 0;
};

class ConnectionObserver {
 public:
  virtual ~ConnectionObserver() = default;
  // For a new connection of cluster `cluster` to `broker`: the node id ("1"), or "bootstrap"
  // for a connection to a configured bootstrap address. Any thread.
  virtual std::unique_ptr<ConnectionEvents> attach(const std::string& cluster,
                                                   const std::string& broker) = 0;
};

}  // namespace kafka::net
