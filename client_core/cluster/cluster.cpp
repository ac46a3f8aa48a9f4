#include "client_core/cluster/cluster.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client_core/common/log.hpp"
#include "client_core/net/host_port.hpp"
#include "client_core/protocol/messages/metadata.hpp"

namespace kafka {

namespace asio = boost::asio;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

std::string_view purposeName(ConnectionPurpose purpose) {
  switch (purpose) {
    case ConnectionPurpose::kControl:
      return "control";
    case ConnectionPurpose::kFetch:
      return "fetch";
    case ConnectionPurpose::kGroup:
      return "group";
  }
  return "?";
}

MetadataSnapshot snapshotFrom(const protocol::MetadataResponse& response) {
  MetadataSnapshot snapshot;
  snapshot.cluster_id = response.cluster_id.value_or("");
  snapshot.controller_id = response.controller_id;
  snapshot.fetched_at = std::chrono::steady_clock::now();
  for (const auto& b : response.brokers) {
    snapshot.brokers[b.node_id] = BrokerInfo{b.node_id, b.host, b.port, b.rack};
  }
  for (const auto& t : response.topics) {
    if (!t.name) continue;  // asked by id only; we always ask by name
    TopicInfo topic;
    topic.name = *t.name;
    topic.id = t.topic_id;
    topic.error = fromWire(t.error_code);
    topic.internal = t.is_internal;
    for (const auto& p : t.partitions) {
      topic.partitions.push_back(PartitionInfo{p.partition_index, fromWire(p.error_code),
                                               p.leader_id, p.leader_epoch, p.replica_nodes,
                                               p.isr_nodes, p.offline_replicas});
    }
    std::sort(
        topic.partitions.begin(), topic.partitions.end(),
        [](const PartitionInfo& a, const PartitionInfo& b) { return a.partition < b.partition; });
    snapshot.topics[topic.name] = std::move(topic);
  }
  return snapshot;
}

bool hasLeaderlessPartitions(const MetadataSnapshot& snapshot) {
  for (const auto& [name, topic] : snapshot.topics) {
    if (topic.error == ErrorCode::kLeaderNotAvailable) return true;
    for (const PartitionInfo& p : topic.partitions) {
      if (p.leader == kNoNode || errorAction(p.error) == ErrorAction::kRefreshMetadata) return true;
    }
  }
  return false;
}

}  // namespace

const BrokerInfo* MetadataSnapshot::broker(NodeId id) const {
  auto it = brokers.find(id);
  return it == brokers.end() ? nullptr : &it->second;
}

const TopicInfo* MetadataSnapshot::topic(const std::string& name) const {
  auto it = topics.find(name);
  return it == topics.end() ? nullptr : &it->second;
}

const PartitionInfo* MetadataSnapshot::partition(const std::string& topic_name,
                                                 int32_t index) const {
  const TopicInfo* info = topic(topic_name);
  if (info == nullptr) return nullptr;
  auto it = std::lower_bound(info->partitions.begin(), info->partitions.end(), index,
                             [](const PartitionInfo& p, int32_t i) { return p.partition < i; });
  return it == info->partitions.end() || it->partition != index ? nullptr : &*it;
}

std::string describePartition(std::string_view topic, int32_t partition) {
  return "topic " + std::string(topic) + " partition " + std::to_string(partition);
}

Cluster::Cluster(asio::any_io_executor executor, ClusterConfig config)
    : config_(std::move(config)), strand_(asio::make_strand(executor)), refresh_timer_(strand_) {
  for (const std::string& server : config_.bootstrap_servers) {
    auto address = net::parseHostPort(server);
    if (!address.ok()) {
      KS_LOG_IN(kError, "cluster", logContext(), address.error().message);
      continue;
    }
    bootstrap_connections_.push_back(
        makeConnection(address->host, address->port, kNoNode, "bootstrap " + address->toString()));
  }
}

Cluster::~Cluster() = default;

std::shared_ptr<net::BrokerConnection> Cluster::makeConnection(const std::string& host,
                                                               uint16_t port, NodeId node,
                                                               const std::string& label) {
  const std::string broker = node == kNoNode ? "bootstrap" : std::to_string(node);
  return net::BrokerConnection::create(
      strand_.get_inner_executor(), host, port, config_.connection,
      {config_.name + " " + label, config_.name, node},
      config_.observer ? config_.observer->attach(config_.name, broker) : nullptr);
}

void Cluster::start() {
  asio::co_spawn(strand_, refreshLoop(), asio::detached);
}

void Cluster::stop() {
  // Set before the connections are collected under the mutex, which connection() takes too:
  // a connection is either handed out before this and closed below, or not at all.
  stopped_ = true;
  asio::post(strand_, [self = shared_from_this()] {
    self->refresh_timer_.cancel();
    std::vector<std::shared_ptr<net::BrokerConnection>> to_close;
    {
      std::lock_guard lock(self->mutex_);
      for (auto& [key, connection] : self->connections_) to_close.push_back(connection);
      self->connections_.clear();
      to_close.insert(to_close.end(), self->bootstrap_connections_.begin(),
                      self->bootstrap_connections_.end());
    }
    for (auto& connection : to_close) connection->close();
  });
}

MetadataPtr Cluster::metadata() const {
  std::lock_guard lock(mutex_);
  return metadata_;
}

bool Cluster::ready() const {
  std::lock_guard lock(mutex_);
  return metadata_ && last_refresh_ok_ &&
         std::chrono::steady_clock::now() - metadata_->fetched_at < config_.metadata_max_staleness;
}

const BrokerInfo* Cluster::connectableBroker(NodeId node) const {
  if (stopped_) return nullptr;
  const BrokerInfo* broker = metadata_ ? metadata_->broker(node) : nullptr;
  if (!broker || broker->port <= 0 || broker->port > 65535) return nullptr;
  return broker;
}

std::shared_ptr<net::BrokerConnection> Cluster::dedicatedConnection(NodeId node,
                                                                    const std::string& label) {
  std::lock_guard lock(mutex_);
  const BrokerInfo* broker = connectableBroker(node);
  if (!broker) return nullptr;
  return makeConnection(broker->host, static_cast<uint16_t>(broker->port), node,
                        "broker " + std::to_string(node) + " " + label);
}

std::shared_ptr<net::BrokerConnection> Cluster::connection(NodeId node, ConnectionPurpose purpose,
                                                           const std::string& key) {
  std::lock_guard lock(mutex_);
  const BrokerInfo* broker = connectableBroker(node);
  if (!broker) return nullptr;
  auto& slot = connections_[{node, purpose, key}];
  if (slot && (slot->host() != broker->host || slot->port() != broker->port)) {
    slot->close();  // the broker moved: its old address is of no use
    slot.reset();
  }
  if (!slot) {
    std::string label = "broker " + std::to_string(node) + " " + std::string(purposeName(purpose));
    if (!key.empty()) label += " " + key;
    slot = makeConnection(broker->host, static_cast<uint16_t>(broker->port), node, label);
  }
  return slot;
}

void Cluster::startRefresh(std::vector<std::string> topics, MetadataCallback done) {
  if (!topics.empty()) {
    asio::co_spawn(
        strand_,
        [self = shared_from_this(), topics = std::move(topics), done = std::move(done)]() mutable
        -> asio::awaitable<void> { done(co_await self->fetchMetadata(std::move(topics))); },
        asio::detached);
    return;
  }
  // Callers that want every topic while such a refresh is in flight share its answer: a burst
  // of calls (or of producers reacting to one leader change) costs the brokers one request.
  asio::post(strand_, [self = shared_from_this(), done = std::move(done)]() mutable {
    self->full_refresh_waiters_.push_back(std::move(done));
    if (self->full_refresh_waiters_.size() > 1) return;
    asio::co_spawn(
        self->strand_,
        [self]() -> asio::awaitable<void> {
          auto result = co_await self->fetchMetadata({});
          auto waiters = std::move(self->full_refresh_waiters_);
          self->full_refresh_waiters_.clear();
          for (auto& waiter : waiters) waiter(result);
        },
        asio::detached);
  });
}

asio::awaitable<void> Cluster::refreshLoop() {
  auto self = shared_from_this();
  net::Backoff backoff(
      config_.connection.reconnect_backoff,
      std::max(config_.connection.reconnect_backoff_max, std::chrono::milliseconds(1000)));
  while (!stopped_) {
    auto result = co_await fetchMetadata({});
    std::chrono::milliseconds delay = config_.metadata_refresh_interval;
    if (result.ok() && leaderless_partitions_) {
      // A leader is being elected: look again soon rather than after the full interval, so that
      // traffic for those partitions resumes as soon as the new leader is known.
      delay = std::min(delay, backoff.next());
    } else if (result.ok()) {
      backoff.reset();
    } else {
      delay = backoff.next();
      KS_LOG_IN(kWarn, "cluster", logContext(),
                "metadata refresh failed, retrying in " << delay.count()
                                                        << " ms: " << result.error().message);
    }
    refresh_timer_.expires_after(delay);
    co_await refresh_timer_.async_wait(kNoThrow);
  }
}

asio::awaitable<Result<MetadataPtr>> Cluster::fetchMetadata(std::vector<std::string> topics) {
  if (stopped_) co_return Error{ErrorCode::kShuttingDown, config_.name + ": cluster stopped"};
  protocol::MetadataRequest request;
  request.allow_auto_topic_creation = false;
  if (topics.empty()) {
    request.topics.reset();  // every topic (v0 writes this as the empty list, which means all)
  } else {
    request.topics.emplace();
    for (auto& name : topics) request.topics->push_back({{}, std::move(name), {}});
  }

  // Known brokers first, starting from one whose control connection is up; then the bootstrap
  // servers, so that a cluster whose every known broker moved can still be found again.
  std::vector<std::shared_ptr<net::BrokerConnection>> candidates;
  if (MetadataPtr snapshot = metadata()) {
    for (const auto& [id, broker] : snapshot->brokers) {
      if (auto c = connection(id, ConnectionPurpose::kControl)) candidates.push_back(c);
    }
    std::stable_partition(candidates.begin(), candidates.end(), [](const auto& c) {
      return c->state() == net::BrokerConnection::State::kUp;
    });
  }
  {
    std::lock_guard lock(mutex_);
    candidates.insert(candidates.end(), bootstrap_connections_.begin(),
                      bootstrap_connections_.end());
  }
  if (candidates.empty()) {
    co_return Error{ErrorCode::kNoBrokerAvailable,
                    config_.name + ": no bootstrap servers are configured"};
  }

  Error last_error;
  for (const auto& candidate : candidates) {
    auto response =
        co_await candidate->request<protocol::MetadataApi>(request, asio::use_awaitable);
    if (stopped_) co_return Error{ErrorCode::kShuttingDown, config_.name + ": cluster stopped"};
    if (!response.ok()) {
      last_error = response.error();
      continue;
    }
    if (response->error_code != 0) {
      auto code = fromWire(response->error_code);
      last_error = Error{code, candidate->label() + ": Metadata failed: " + errorName(code)};
      continue;
    }
    co_return publish(snapshotFrom(*response), !topics.empty());
  }
  {
    std::lock_guard lock(mutex_);
    last_refresh_ok_ = false;
  }
  co_return Error{
      ErrorCode::kNoBrokerAvailable,
      config_.name + ": no broker answered Metadata; last error: " + last_error.toString()};
}

MetadataPtr Cluster::publish(MetadataSnapshot fresh, bool partial) {
  std::vector<std::shared_ptr<net::BrokerConnection>> retired;
  MetadataPtr published;
  {
    std::lock_guard lock(mutex_);
    if (partial && metadata_) {
      // A refresh of some topics: keep the others as they were.
      for (const auto& [name, topic] : metadata_->topics) fresh.topics.try_emplace(name, topic);
    }
    // Brokers that left the cluster take their connections with them.
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (!fresh.brokers.contains(std::get<0>(it->first))) {
        retired.push_back(it->second);
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
    metadata_ = std::make_shared<const MetadataSnapshot>(std::move(fresh));
    last_refresh_ok_ = true;
    published = metadata_;
  }
  for (auto& connection : retired) {
    KS_LOG_IN(kInfo, "cluster", logContext(), connection->label() << " left the cluster");
    connection->close();
  }
  // Whoever asked, a partition without a leader makes the refresh loop look again soon.
  leaderless_partitions_ = hasLeaderlessPartitions(*published);
  if (leaderless_partitions_) refresh_timer_.cancel();
  return published;
}

ClusterRegistry::ClusterRegistry(asio::any_io_executor executor,
                                 std::vector<ClusterConfig> configs) {
  for (auto& config : configs) {
    std::string name = config.name;
    clusters_.emplace(std::move(name), std::make_shared<Cluster>(executor, std::move(config)));
  }
}

std::shared_ptr<Cluster> ClusterRegistry::find(std::string_view name) const {
  auto it = clusters_.find(name.empty() ? std::string_view("default") : name);
  return it == clusters_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Cluster>> ClusterRegistry::all() const {
  std::vector<std::shared_ptr<Cluster>> out;
  for (const auto& [name, cluster] : clusters_) out.push_back(cluster);
  return out;
}

void ClusterRegistry::startAll() {
  for (auto& [name, cluster] : clusters_) cluster->start();
}

void ClusterRegistry::stopAll() {
  for (auto& [name, cluster] : clusters_) cluster->stop();
}

bool ClusterRegistry::allReady() const {
  return std::all_of(clusters_.begin(), clusters_.end(),
                     [](const auto& entry) { return entry.second->ready(); });
}

}  // namespace kafka
