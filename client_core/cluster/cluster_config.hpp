// Configuration of one named Kafka cluster.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "client_core/net/connection_config.hpp"
#include "client_core/net/connection_observer.hpp"

namespace kafka {

struct ClusterConfig {
  std::string name = "default";
  std::vector<std::string> bootstrap_servers;  // "host:port"
  net::ConnectionConfig connection;
  std::chrono::milliseconds metadata_refresh_interval{300'000};  // Kafka's metadata.max.age.ms
  // Metadata older than this is not "fresh" for readiness.
  std::chrono::milliseconds metadata_max_staleness{600'000};
  // Told of every connection the cluster makes (for metrics); none when null.
  std::shared_ptr<net::ConnectionObserver> observer;
};

}  // namespace kafka
