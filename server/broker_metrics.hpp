// BrokerMetrics: the daemon's net::ConnectionObserver, which turns what the client core's broker
// connections do into Metrics series: connections up, connects, disconnects and failed
// attempts, and requests in flight, per cluster and broker; request latency and failures per
// cluster and Kafka API.
//
// Owned by shared_ptr: the Daemon sets it on every ClusterConfig, and each connection keeps the
// events object it made. The Metrics must outlive both. attach() may be called from any thread;
// each events object is used only on its connection's strand, so it looks its series up once and
// keeps the references (per API on first use, in an array indexed by API key): reporting a
// request takes no lock.
#pragma once

#include <memory>
#include <string>

#include "client_core/net/connection_observer.hpp"
#include "server/metrics.hpp"

namespace kafka::sidecar {

class BrokerMetrics final : public net::ConnectionObserver {
 public:
  explicit BrokerMetrics(Metrics& metrics) : metrics_(metrics) {}

  std::unique_ptr<net::ConnectionEvents> attach(const std::string& cluster,
                                                const std::string& broker) override;

 private:
  Metrics& metrics_;
};

}  // namespace kafka::sidecar
