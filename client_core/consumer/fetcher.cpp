#include "client_core/consumer/fetcher.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string_view>

#include "client_core/common/log.hpp"

namespace kafka::consumer {

namespace asio = boost::asio;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// Refreshes in a row that must find a partition missing before a want of it is answered: a
// topic just created may take a moment to appear in every broker's metadata.
constexpr int kMissingConfirmations = 3;
// Retry delays grow no further than this (Kafka's retry.backoff.max.ms).
constexpr std::chrono::milliseconds kMaxRetryBackoff{1000};

std::string_view isolationName(IsolationLevel isolation) {
  return isolation == IsolationLevel::kReadCommitted ? "read-committed" : "";
}

std::string where(const FetchPosition& position) {
  return describePartition(position.partition.topic, position.partition.partition) + " at offset " +
         std::to_string(position.offset);
}

}  // namespace

struct Fetcher::Loop {
  Loop(const asio::any_io_executor& executor, std::chrono::milliseconds backoff_base)
      : timer(executor), backoff(backoff_base, std::max(backoff_base, kMaxRetryBackoff)) {}

  std::set<Ticket> wants;    // routed to this broker, in flight or not
  asio::steady_timer timer;  // the loop sleeps on it; cancelling it wakes the loop
  net::Backoff backoff;      // after failed requests and retriable errors
  Clock::time_point resume_at{};
  size_t rotation = 0;
  // Partitions answered with records and not wanted again since (when they were answered).
  std::map<TopicPartition, Clock::time_point> lent;
};

// One Fetch request in flight: which want each partition is for.
struct Fetcher::Round {
  struct Sent {
    Ticket ticket = 0;
    int32_t leader_epoch = -1;  // from the metadata the request was routed by
  };
  std::vector<Sent> sent;
  std::vector<std::pair<std::string, protocol::Uuid>> topics;  // as named in the request
  std::string label;                                           // of the connection
};

std::shared_ptr<Fetcher> Fetcher::create(asio::any_io_executor executor,
                                         std::shared_ptr<Cluster> cluster, FetchConfig config) {
  return std::shared_ptr<Fetcher>(new Fetcher(std::move(executor), std::move(cluster), config));
}

Fetcher::Fetcher(asio::any_io_executor executor, std::shared_ptr<Cluster> cluster,
                 FetchConfig config)
    : strand_(asio::make_strand(executor)),
      cluster_(std::move(cluster)),
      config_(config),
      repair_timer_(strand_),
      repair_backoff_(cluster_->config().connection.reconnect_backoff,
                      std::max(cluster_->config().connection.reconnect_backoff, kMaxRetryBackoff)) {
}

Fetcher::~Fetcher() = default;

Fetcher::Ticket Fetcher::fetch(FetchPosition position, asio::any_io_executor executor,
                               Handler done) {
  const Ticket ticket = next_ticket_.fetch_add(1, std::memory_order_relaxed);
  Want want;
  want.position = std::move(position);
  want.executor = std::move(executor);
  want.done = std::move(done);
  asio::post(strand_, [self = shared_from_this(), ticket, want = std::move(want)]() mutable {
    self->addWant(ticket, std::move(want));
  });
  return ticket;
}

void Fetcher::cancel(Ticket ticket) {
  asio::post(strand_, [self = shared_from_this(), ticket] { self->withdraw(ticket); });
}

void Fetcher::stop() {
  asio::post(strand_, [self = shared_from_this()] { self->shutDown(); });
}

void Fetcher::addWant(Ticket ticket, Want want) {
  const FetchPosition& position = want.position;
  std::optional<Error> refused;
  if (stopped_) {
    refused = Error{ErrorCode::kShuttingDown, where(position) + ": the fetcher is stopped"};
  } else if (position.offset < 0 || position.partition.partition < 0 || position.max_bytes < 0) {
    refused = Error{ErrorCode::kInvalidArgument,
                    where(position) + ": offset, partition and max_bytes cannot be negative"};
  }
  auto [it, added] = wants_.emplace(ticket, std::move(want));
  if (refused) return answerError(ticket, std::move(*refused));
  const MetadataPtr metadata = cluster_->metadata();
  if (auto error = route(ticket, it->second, metadata.get(), false)) {
    return answerError(ticket, std::move(*error));
  }
  if (it->second.leader == kNoNode) requestRefresh({it->second.position.partition.topic});
}

void Fetcher::withdraw(Ticket ticket) {
  auto it = wants_.find(ticket);
  if (it == wants_.end()) return;  // answered already
  detach(ticket, it->second);
  // A loop left without wants ends now rather than at its next wake-up.
  if (auto loop = loops_.find({it->second.leader, it->second.position.isolation});
      loop != loops_.end() && loop->second->wants.empty()) {
    loop->second->timer.cancel();
  }
  wants_.erase(it);
}

void Fetcher::shutDown() {
  if (stopped_) return;
  stopped_ = true;
  repair_timer_.cancel();
  parked_.clear();
  for (auto& [key, loop] : loops_) {
    loop->wants.clear();
    loop->timer.cancel();
  }
  std::vector<Ticket> tickets;
  for (const auto& [ticket, want] : wants_) tickets.push_back(ticket);
  for (Ticket ticket : tickets) {
    answerError(ticket, Error{ErrorCode::kShuttingDown,
                              where(wants_.at(ticket).position) + ": the fetcher stopped"});
  }
}

std::optional<Error> Fetcher::route(Ticket ticket, Want& want, const MetadataSnapshot* metadata,
                                    bool confirmed) {
  const TopicPartition& tp = want.position.partition;
  NodeId leader = kNoNode;
  std::optional<Error> missing;
  if (metadata != nullptr) {
    const TopicInfo* topic = metadata->topic(tp.topic);
    const PartitionInfo* partition = metadata->partition(tp.topic, tp.partition);
    if (topic == nullptr || topic->error == ErrorCode::kUnknownTopicOrPartition) {
      missing = Error{ErrorCode::kUnknownTopicOrPartition,
                      where(want.position) + ": the topic does not exist"};
    } else if (topic->error != ErrorCode::kNone) {
      const ErrorAction action = errorAction(topic->error);
      if (action != ErrorAction::kRetry && action != ErrorAction::kRefreshMetadata) {
        missing = Error{topic->error, where(want.position) + ": the topic's metadata says " +
                                          std::string(errorDescription(topic->error))};
      }
    } else if (partition == nullptr) {
      missing = Error{ErrorCode::kUnknownTopicOrPartition,
                      where(want.position) + ": the partition does not exist (the topic has " +
                          std::to_string(topic->partitions.size()) + " partitions)"};
    } else if (const BrokerInfo* broker = metadata->broker(partition->leader);
               broker != nullptr && broker->port > 0 && broker->port <= 65535) {
      leader = partition->leader;
    }
  }
  if (!missing) {
    want.missing = 0;
  } else if (confirmed && ++want.missing >= kMissingConfirmations) {
    return missing;
  }

  if (leader == want.leader && leader != kNoNode) return std::nullopt;
  const bool was_parked = want.leader == kNoNode && parked_.contains(ticket);
  if (leader != kNoNode && want.leader != kNoNode) {
    KS_LOG_IN(kInfo, "fetcher", partitionContext(tp, leader),
              "the leader moved from broker " << want.leader << " to broker " << leader);
  }
  detach(ticket, want);
  want.leader = leader;
  if (leader == kNoNode) {
    if (!was_parked) {
      KS_LOG_IN(kDebug, "fetcher", partitionContext(tp, kNoNode),
                "no known leader; waiting for one");
    }
    parked_.insert(ticket);
    return std::nullopt;
  }
  const LoopKey key{leader, want.position.isolation};
  ensureLoop(key);
  Loop& loop = *loops_.at(key);
  loop.wants.insert(ticket);
  loop.lent.erase(tp);
  return std::nullopt;
}

void Fetcher::detach(Ticket ticket, const Want& want) {
  if (want.leader == kNoNode) {
    parked_.erase(ticket);
    return;
  }
  if (auto it = loops_.find({want.leader, want.position.isolation}); it != loops_.end()) {
    it->second->wants.erase(ticket);
  }
}

log::Context Fetcher::partitionContext(const TopicPartition& tp, NodeId broker) const {
  return {
      .cluster = cluster_->name(), .topic = tp.topic, .partition = tp.partition, .broker = broker};
}

void Fetcher::ensureLoop(const LoopKey& key) {
  auto [it, added] = loops_.try_emplace(key);
  if (!added) {
    it->second->timer.cancel();  // a sleeping loop has a new want to consider
    return;
  }
  it->second = std::make_unique<Loop>(strand_, cluster_->config().connection.reconnect_backoff);
  // Started by a post, so that every want routed in this turn of the strand makes its first
  // request.
  asio::post(strand_, [self = shared_from_this(), key] {
    asio::co_spawn(self->strand_, self->runLoop(key), asio::detached);
  });
}

asio::awaitable<void> Fetcher::runLoop(LoopKey key) {
  auto self = shared_from_this();  // the loop's awaits touch the fetcher's members
  Loop& loop = *loops_.at(key);
  while (!stopped_ && !loop.wants.empty()) {
    const auto now = Clock::now();
    auto wake_at = Clock::time_point::max();  // woken by a new want or a released lease
    if (loop.resume_at > now) {
      wake_at = loop.resume_at;
    } else if (bufferedBytes() < config_.max_buffered_bytes) {
      std::vector<Ticket> tickets = gather(loop, now, wake_at);
      if (!tickets.empty()) {
        co_await fetchFrom(key, loop, std::move(tickets));
        continue;
      }
    }
    loop.timer.expires_at(wake_at);
    co_await loop.timer.async_wait(kNoThrow);
  }
  loops_.erase(key);
}

std::vector<Fetcher::Ticket> Fetcher::gather(Loop& loop, Clock::time_point now,
                                             Clock::time_point& wake_at) {
  // Sorted by partition, the oldest want of each: a request may name a partition only once.
  std::map<std::pair<std::string_view, int32_t>, Ticket> oldest;
  for (Ticket ticket : loop.wants) {
    const Want& want = wants_.at(ticket);
    if (want.in_flight) continue;
    if (want.not_before > now) {
      wake_at = std::min(wake_at, want.not_before);
      continue;
    }
    oldest.try_emplace({want.position.partition.topic, want.position.partition.partition}, ticket);
  }
  std::vector<Ticket> tickets;
  tickets.reserve(oldest.size());
  for (const auto& [partition, ticket] : oldest) tickets.push_back(ticket);
  if (!tickets.empty()) {
    // A different partition first each round, so that max_bytes does not starve the last ones.
    const auto first = static_cast<std::ptrdiff_t>(loop.rotation++ % tickets.size());
    std::rotate(tickets.begin(), tickets.begin() + first, tickets.end());
  }
  return tickets;
}

asio::awaitable<void> Fetcher::fetchFrom(const LoopKey& key, Loop& loop,
                                         std::vector<Ticket> tickets) {
  auto connection = cluster_->connection(key.first, ConnectionPurpose::kFetch,
                                         std::string(isolationName(key.second)));
  if (!connection) {
    // The broker left the metadata since these wants were routed to it.
    for (Ticket ticket : tickets) {
      Want& want = wants_.at(ticket);
      detach(ticket, want);
      want.leader = kNoNode;
      parked_.insert(ticket);
    }
    scheduleRepair();
    co_return;
  }

  const MetadataPtr metadata = cluster_->metadata();
  protocol::FetchRequest request;
  request.max_wait_ms = static_cast<int32_t>(maxWait(loop).count());
  request.min_bytes = config_.min_bytes;
  request.max_bytes = config_.max_bytes;
  request.isolation_level = static_cast<int8_t>(key.second);
  request.session_id = 0;  // no fetch session: every request names all its partitions
  request.session_epoch = -1;
  Round round;
  round.label = connection->label();
  std::map<std::string_view, size_t> topic_index;
  for (Ticket ticket : tickets) {
    Want& want = wants_.at(ticket);
    const TopicPartition& tp = want.position.partition;
    const TopicInfo* topic = metadata ? metadata->topic(tp.topic) : nullptr;
    const PartitionInfo* partition =
        metadata ? metadata->partition(tp.topic, tp.partition) : nullptr;
    auto [it, added] = topic_index.emplace(tp.topic, request.topics.size());
    if (added) {
      // Both names, so that whichever version the connection negotiated can encode it.
      auto& entry = request.topics.emplace_back();
      entry.topic = tp.topic;
      entry.topic_id = topic ? topic->id : protocol::Uuid{};
      round.topics.emplace_back(entry.topic, entry.topic_id);
    }
    auto& entry = request.topics[it->second].partitions.emplace_back();
    entry.partition = tp.partition;
    entry.fetch_offset = want.position.offset;
    entry.current_leader_epoch = want.position.leader_epoch;
    entry.partition_max_bytes =
        want.position.max_bytes > 0 ? want.position.max_bytes : config_.partition_max_bytes;
    entry.log_start_offset = -1;
    want.in_flight = true;
    round.sent.push_back({ticket, partition ? partition->leader_epoch : -1});
  }

  net::RequestOptions options;
  // The broker may rightly hold the request for max_wait before it answers.
  options.timeout = cluster_->config().connection.request_timeout + config_.max_wait;
  auto response = co_await connection->request<protocol::FetchApi>(std::move(request), options,
                                                                   asio::use_awaitable);
  onResponse(key, loop, round, std::move(response));
}

void Fetcher::onResponse(const LoopKey& key, Loop& loop, const Round& round,
                         Result<protocol::FetchResponse> result) {
  if (stopped_) return;  // every want was answered by stop()
  const auto now = Clock::now();
  const auto retry_at = now + cluster_->config().connection.reconnect_backoff;
  bool back_off = false;
  std::set<std::string> stale_topics;

  // A failure of the whole request: the connection, a timeout, or an error_code (v7+).
  std::optional<Error> failed;
  if (!result.ok()) {
    failed = result.error();
  } else if (result->error_code != 0) {
    const ErrorCode code = fromWire(result->error_code);
    failed = Error{code, round.label + ": Fetch failed: " + std::string(errorDescription(code))};
  }

  Answers answers;
  if (!failed) {
    for (const auto& topic : result->responses) {
      std::string_view name = topic.topic;
      if (!topic.topic_id.isZero()) {  // v13+: named by id only
        auto known = std::find_if(round.topics.begin(), round.topics.end(),
                                  [&](const auto& t) { return t.second == topic.topic_id; });
        if (known == round.topics.end()) continue;
        name = known->first;
      }
      for (const auto& partition : topic.partitions) {
        answers[{name, partition.partition_index}] = &partition;
      }
    }
  }

  FrameSharing sharing = frameSharing(round, answers);

  for (const Round::Sent& sent : round.sent) {
    auto it = wants_.find(sent.ticket);
    if (it == wants_.end()) continue;  // cancelled while in flight
    Want& want = it->second;
    want.in_flight = false;
    const TopicPartition& tp = want.position.partition;

    Error error;
    const protocol::FetchResponse::PartitionData* data = nullptr;
    if (failed) {
      error = *failed;
      // A connection retired by the cluster (its broker left) fails with kShuttingDown.
      if (error.code == ErrorCode::kShuttingDown) error.code = ErrorCode::kTransport;
    } else if (auto found = answers.find({tp.topic, tp.partition}); found != answers.end()) {
      data = found->second;
      error.code = fromWire(data->error_code);
    } else {
      KS_LOG_IN(kDebug, "fetcher", partitionContext(tp, key.first),
                "the Fetch response left out the partition");
      continue;  // as if empty
    }

    const bool has_records =
        data != nullptr && data->records.has_value() && !data->records->data.empty();
    if (error.code == ErrorCode::kNone) {
      if (!has_records) {
        // A broker that names a preferred read replica sends it no data, and at once: we do
        // not fetch from followers (we send no rack), so keep it from spinning.
        if (data->preferred_read_replica >= 0) back_off = true;
        if (!want.position.answer_when_empty) continue;
      }
    } else if (error.code == ErrorCode::kFencedLeaderEpoch) {
      // The consumer's leader epoch is older than the leader's; epochs only grow, so no retry
      // with it can pass. The consumer has to learn the new epoch (and check for truncation).
      stale_topics.insert(tp.topic);
      error.message = where(want.position) + ": " + std::string(errorDescription(error.code)) +
                      " (the consumer's leader epoch is " +
                      std::to_string(want.position.leader_epoch) + ")";
    } else if (error.action() == ErrorAction::kRefreshMetadata) {
      want.not_before = retry_at;
      stale_topics.insert(tp.topic);
      if (failed) back_off = true;
      continue;
    } else if (error.action() == ErrorAction::kRetry) {
      back_off = true;
      // The leader may have moved, whether it said so or just stopped answering.
      if (failed) stale_topics.insert(tp.topic);
      continue;
    } else if (failed) {
      error.message = where(want.position) + ": " + error.message;
    } else {
      error.message = where(want.position) + ": " + std::string(errorDescription(error.code));
      if (error.code == ErrorCode::kOffsetOutOfRange) {
        error.message += " (the log holds offsets " + std::to_string(data->log_start_offset) +
                         " to " + std::to_string(data->high_watermark) + ")";
      }
    }

    FetchedPartition fetched;
    fetched.partition = tp;
    fetched.fetch_offset = want.position.offset;
    fetched.error = std::move(error);
    fetched.leader_epoch = sent.leader_epoch;
    if (data != nullptr) {
      fetched.high_watermark = data->high_watermark;
      fetched.last_stable_offset = data->last_stable_offset;
      fetched.log_start_offset = data->log_start_offset;
      if (data->aborted_transactions) fetched.aborted_transactions = *data->aborted_transactions;
    }
    if (has_records && fetched.error.code == ErrorCode::kNone) {
      const protocol::Records& records = *data->records;
      if (!records.owner) {  // already a copy of its own
        fetched.records = records;
        fetched.lease = lease(records.data.size());
      } else if (sharing.executor && want.executor == *sharing.executor) {
        fetched.records = records;
        if (!sharing.frame_lease) sharing.frame_lease = lease(records.owner->size());
        fetched.lease = sharing.frame_lease;
      } else {
        fetched.records = protocol::Records::copyOf(records.data);
        fetched.lease = lease(records.data.size());
      }
      loop.lent[tp] = now;
    }
    answer(sent.ticket, std::move(fetched));
  }

  if (back_off) {
    const auto delay = loop.backoff.next();
    loop.resume_at = now + delay;
    if (failed && loop.backoff.attempts() == 1) {  // once per outage, not at every retry
      KS_LOG_IN(kWarn, "fetcher", (log::Context{.cluster = cluster_->name(), .broker = key.first}),
                failed->toString() << "; fetching again in " << delay.count() << " ms");
    }
  } else {
    loop.backoff.reset();
  }
  if (!stale_topics.empty()) requestRefresh(std::move(stale_topics));
}

Fetcher::FrameSharing Fetcher::frameSharing(const Round& round, const Answers& answers) const {
  std::vector<std::pair<asio::any_io_executor, size_t>> bytes_by_consumer;
  size_t frame_bytes = 0;
  for (const Round::Sent& sent : round.sent) {
    auto want = wants_.find(sent.ticket);
    if (want == wants_.end()) continue;
    const TopicPartition& tp = want->second.position.partition;
    auto answer = answers.find({tp.topic, tp.partition});
    if (answer == answers.end()) continue;
    const protocol::FetchResponse::PartitionData& data = *answer->second;
    if (data.error_code != 0 || !data.records || !data.records->owner) continue;
    frame_bytes = data.records->owner->size();
    auto consumer = std::find_if(bytes_by_consumer.begin(), bytes_by_consumer.end(),
                                 [&](const auto& c) { return c.first == want->second.executor; });
    if (consumer == bytes_by_consumer.end()) {
      bytes_by_consumer.emplace_back(want->second.executor, data.records->data.size());
    } else {
      consumer->second += data.records->data.size();
    }
  }
  auto most = std::max_element(bytes_by_consumer.begin(), bytes_by_consumer.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  FrameSharing sharing;
  if (most != bytes_by_consumer.end() && most->second * 2 >= frame_bytes) {
    sharing.executor = most->first;
  }
  return sharing;
}

std::chrono::milliseconds Fetcher::maxWait(Loop& loop) const {
  const auto expired = Clock::now() - config_.max_wait;
  std::erase_if(loop.lent, [&](const auto& entry) { return entry.second <= expired; });
  return loop.lent.empty() ? config_.max_wait : std::min(config_.max_wait, config_.busy_max_wait);
}

void Fetcher::answer(Ticket ticket, FetchedPartition fetched) {
  auto it = wants_.find(ticket);
  if (it == wants_.end()) return;
  Want want = std::move(it->second);
  detach(ticket, want);
  wants_.erase(it);
  asio::post(want.executor, [done = std::move(want.done), fetched = std::move(fetched)]() mutable {
    done(std::move(fetched));
  });
}

void Fetcher::answerError(Ticket ticket, Error error) {
  auto it = wants_.find(ticket);
  if (it == wants_.end()) return;
  FetchedPartition fetched;
  fetched.partition = it->second.position.partition;
  fetched.fetch_offset = it->second.position.offset;
  fetched.error = std::move(error);
  answer(ticket, std::move(fetched));
}

void Fetcher::requestRefresh(std::set<std::string> topics) {
  if (stopped_) return;
  refresh_topics_.merge(topics);
  if (refreshing_ || refresh_topics_.empty()) return;
  refreshing_ = true;
  std::vector<std::string> names(refresh_topics_.begin(), refresh_topics_.end());
  cluster_->refreshMetadata(
      std::move(names),
      asio::bind_executor(strand_, [self = shared_from_this(), asked = std::move(refresh_topics_)](
                                       Result<MetadataPtr> result) {
        self->refreshing_ = false;
        self->onRefreshed(result, asked);
      }));
  refresh_topics_.clear();
}

void Fetcher::onRefreshed(const Result<MetadataPtr>& result, const std::set<std::string>& asked) {
  if (stopped_) return;
  const MetadataPtr metadata = cluster_->metadata();
  std::vector<std::pair<Ticket, Error>> unservable;
  for (auto& [ticket, want] : wants_) {
    if (want.in_flight) continue;  // its response will tell
    const bool confirmed = result.ok() && asked.contains(want.position.partition.topic);
    if (auto error = route(ticket, want, metadata.get(), confirmed)) {
      unservable.emplace_back(ticket, std::move(*error));
    }
  }
  for (auto& [ticket, error] : unservable) answerError(ticket, std::move(error));
  if (!refresh_topics_.empty()) return requestRefresh({});  // asked for meanwhile
  if (parked_.empty()) {
    repair_backoff_.reset();
  } else {
    scheduleRepair();
  }
}

void Fetcher::scheduleRepair() {
  if (repair_scheduled_ || stopped_) return;
  repair_scheduled_ = true;
  repair_timer_.expires_after(repair_backoff_.next());
  repair_timer_.async_wait(
      asio::bind_executor(strand_, [self = shared_from_this()](boost::system::error_code) {
        self->repair_scheduled_ = false;
        std::set<std::string> topics;
        for (Ticket ticket : self->parked_) {
          topics.insert(self->wants_.at(ticket).position.partition.topic);
        }
        self->requestRefresh(std::move(topics));
      }));
}

void Fetcher::wakeLoops() {
  for (auto& [key, loop] : loops_) loop->timer.cancel();
}

std::shared_ptr<const void> Fetcher::lease(size_t bytes) {
  static constexpr char kLeased = 0;  // a lease points at nothing of its own
  buffered_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  return std::shared_ptr<const void>(&kLeased, [weak = weak_from_this(), bytes](const void*) {
    if (auto self = weak.lock()) self->release(bytes);
  });
}

void Fetcher::release(size_t bytes) {
  const size_t before = buffered_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  // Only the release that brings the total under the budget has loops to wake.
  if (before >= config_.max_buffered_bytes && before - bytes < config_.max_buffered_bytes) {
    asio::post(strand_, [self = shared_from_this()] { self->wakeLoops(); });
  }
}

}  // namespace kafka::consumer
