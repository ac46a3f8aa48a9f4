// kafka::Cluster: one Kafka cluster as the client sees it. It bootstraps from whichever
// configured broker answers, keeps the broker registry and topic metadata fresh (on an interval,
// and when asked after a routing error), and hands out broker connections by purpose, so that a
// blocking request on one connection never stalls unrelated traffic on another.
//
// Owned by the ClusterRegistry (or a test). All state lives on the cluster's strand; public
// methods may be called from any thread. Completion handlers run on the handler's associated
// executor, or on the cluster's strand when it has none.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client_core/cluster/cluster_config.hpp"
#include "client_core/cluster/metadata.hpp"
#include "client_core/common/completion.hpp"
#include "client_core/common/log.hpp"
#include "client_core/net/broker_connection.hpp"
#include "client_core/protocol/result.hpp"

namespace kafka {

// Why a connection exists. Each purpose gets its own connection to a broker, because a broker
// answers one connection's requests strictly in order: a Fetch held for MaxWait, or a JoinGroup
// held for a rebalance, must not delay metadata, produce or heartbeats.
enum class ConnectionPurpose {
  kControl,  // metadata, produce, admin: nothing that the broker holds
  kFetch,    // Fetch with MaxWait
  kGroup,    // group coordination; blocking calls use a key of their own (see connection())
};

class Cluster : public std::enable_shared_from_this<Cluster> {
 public:
  Cluster(boost::asio::any_io_executor executor, ClusterConfig config);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  const std::string& name() const { return config_.name; }
  // The context of log entries about this cluster.
  log::Context logContext() const { return {.cluster = config_.name}; }
  const ClusterConfig& config() const { return config_; }

  // Starts bootstrapping and the periodic metadata refresh, which comes sooner while any
  // partition has no leader.
  void start();
  // Stops refreshing and closes every connection; their pending requests fail, and no
  // connection is handed out any more. Any thread.
  void stop();
  bool stopped() const { return stopped_; }

  // The newest metadata, or nullptr before any arrived. Any thread.
  MetadataPtr metadata() const;
  // Metadata is fresh (younger than metadata_max_staleness) and its last refresh succeeded,
  // i.e. at least one broker is reachable.
  bool ready() const;

  // Fetches metadata for `topics` (every topic when empty), merges it into the cache and
  // publishes a new snapshot. Completes with void(Result<MetadataPtr>). Calls for every topic
  // made while such a refresh is in flight share its answer.
  template <class Token>
  auto refreshMetadata(std::vector<std::string> topics, Token&& token) {
    return boost::asio::async_initiate<Token, void(Result<MetadataPtr>)>(
        [self = shared_from_this()](auto handler, std::vector<std::string> wanted) {
          self->startRefresh(std::move(wanted), postingCallback<Result<MetadataPtr>>(
                                                    self->strand_, std::move(handler)));
        },
        token, std::move(topics));
  }

  // The connection to broker `node` for `purpose`, created on first use; nullptr when the node
  // is not in the metadata or the cluster is stopped. `key` separates dedicated connections of the
  // same purpose (a group session's blocking JoinGroup/SyncGroup, for instance). Any thread.
  std::shared_ptr<net::BrokerConnection> connection(NodeId node, ConnectionPurpose purpose,
                                                    const std::string& key = {});
  // A new connection to broker `node` that the cluster neither caches nor closes: for a caller
  // that needs one only for a while (a group member's JoinGroup and SyncGroup, which the
  // coordinator holds for a whole rebalance), and closes it when done. nullptr when the node is
  // not in the metadata or the cluster is stopped. Any thread.
  std::shared_ptr<net::BrokerConnection> dedicatedConnection(NodeId node, const std::string& label);

 private:
  using MetadataCallback = std::function<void(Result<MetadataPtr>)>;

  void startRefresh(std::vector<std::string> topics, MetadataCallback done);
  boost::asio::awaitable<void> refreshLoop();
  boost::asio::awaitable<Result<MetadataPtr>> fetchMetadata(std::vector<std::string> topics);
  // Installs a snapshot (merged with the old one's other topics when `partial`), retires the
  // connections of brokers that are gone, and wakes the refresh loop when a partition has no
  // leader. On the strand.
  MetadataPtr publish(MetadataSnapshot fresh, bool partial);
  // The node's entry in the current metadata, when it has a usable address and the cluster is
  // not stopped. Under mutex_.
  const BrokerInfo* connectableBroker(NodeId node) const;
  // A connection to `node` (kNoNode for a bootstrap address), which logs name as their broker
  // and the observer as its node id or "bootstrap".
  std::shared_ptr<net::BrokerConnection> makeConnection(const std::string& host, uint16_t port,
                                                        NodeId node, const std::string& label);

  ClusterConfig config_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer refresh_timer_;
  std::atomic<bool> stopped_ = false;
  bool leaderless_partitions_ = false;                  // in the latest snapshot; set by publish()
  std::vector<MetadataCallback> full_refresh_waiters_;  // of the every-topic refresh in flight

  mutable std::mutex mutex_;  // guards the members below, read from any thread
  MetadataPtr metadata_;
  bool last_refresh_ok_ = false;
  std::map<std::tuple<NodeId, ConnectionPurpose, std::string>,
           std::shared_ptr<net::BrokerConnection>>
      connections_;
  std::vector<std::shared_ptr<net::BrokerConnection>> bootstrap_connections_;
};

// All configured clusters, by name. Owned by the daemon (or a test).
class ClusterRegistry {
 public:
  ClusterRegistry(boost::asio::any_io_executor executor, std::vector<ClusterConfig> configs);

  // nullptr for a name that is not configured; an empty name means "default".
  std::shared_ptr<Cluster> find(std::string_view name) const;
  std::vector<std::shared_ptr<Cluster>> all() const;
  void startAll();
  void stopAll();
  // Every cluster is ready().
  bool allReady() const;

 private:
  std::map<std::string, std::shared_ptr<Cluster>, std::less<>> clusters_;
};

}  // namespace kafka
