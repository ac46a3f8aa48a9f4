// kafka::consumer::Fetcher: fetches records for every consumer of one cluster, with one Fetch in
// flight per broker (and isolation level) covering all the partitions that broker leads and
// any consumer wants. Thousands of consumer sessions so share one fetch connection per broker.
//
// A consumer asks with fetch(): one partition from one offset. The want stands until a Fetch
// response brings records for it, or an error the fetcher cannot resolve by itself, and is then
// answered once, on the consumer's executor; the consumer asks again (from the new offset) when
// it has room. Empty responses keep the want standing, unless the consumer asked to hear of
// them (to learn the high watermark, e.g. for an end-of-partition event).
//
// - Routing errors (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, a lost connection, ...)
//   refresh the metadata and move the want to the new leader; a partition without a leader
//   waits for one; retriable errors back off the broker. Answered are: OFFSET_OUT_OF_RANGE,
//   FENCED_LEADER_EPOCH (epochs only grow, so no retry with the consumer's epoch can pass), a
//   partition that three refreshes in a row say does not exist (UNKNOWN_TOPIC_OR_PARTITION),
//   and errors fatal to the request.
// - A partition wanted twice (two consumers, e.g. two groups) goes into the next round.
// - Partitions are rotated between rounds, so that max_bytes never starves the same ones.
// - A broker may hold a Fetch for max_wait when it has nothing for it, and wants that arrive
//   meanwhile wait for the next round. While partitions just answered with records are out with
//   their consumers, whose next wants will find records, Fetches wait busy_max_wait at most.
// - Bytes handed out are counted until the answer's lease is released; while the total reaches
//   max_buffered_bytes, no Fetch is sent. The consumer that gets at least half of a response
//   is handed records that point into the response frame, all under one lease of the whole
//   frame; other consumers get copies of their parts, so that a slow consumer holding a small
//   part never keeps a large frame alive, nor its bytes counted against the others.
// - Topics are named by id for brokers that fetch by id (Fetch v13+).
// - read_committed fetches use connections of their own, so that neither isolation level's
//   MaxWait holds up the other's requests.
// - Followers are not fetched from: no rack is sent, so brokers name no preferred replica.
//
// Owned by shared_ptr (create()), typically one per cluster, shared by its consumers; its fetch
// loops hold it too while wants stand, so its owner calls stop() when done. All state lives on
// the fetcher's own strand; fetch(), cancel() and stop() may be called from any thread.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "client_core/consumer/fetch_config.hpp"
#include "client_core/consumer/offset_lookup.hpp"
#include "client_core/net/backoff.hpp"
#include "client_core/protocol/messages/fetch.hpp"
#include "client_core/protocol/result.hpp"

namespace kafka::consumer {

// One partition, wanted from one offset.
struct FetchPosition {
  TopicPartition partition;
  int64_t offset = 0;
  // The leader epoch the consumer knows (current_leader_epoch, for fencing); -1 when unknown.
  int32_t leader_epoch = -1;
  IsolationLevel isolation = IsolationLevel::kReadUncommitted;
  // Bytes of this partition in one response; 0 for the fetcher's partition_max_bytes.
  int32_t max_bytes = 0;
  // Answer a response with no records too, rather than keep the want standing.
  bool answer_when_empty = false;
};

// The answer to a fetch(). While it (or a copy of its lease) lives, its bytes count against the
// fetcher's max_buffered_bytes.
struct FetchedPartition {
  TopicPartition partition;
  int64_t fetch_offset = 0;
  Error error;  // kNone, or why the fetch cannot go on (OFFSET_OUT_OF_RANGE, ...)
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  int64_t log_start_offset = -1;
  int32_t leader_epoch = -1;  // of the leader that answered, from the metadata
  std::vector<protocol::FetchResponse::AbortedTransaction> aborted_transactions;
  protocol::Records records;          // raw batches; may end in a partial batch
  std::shared_ptr<const void> lease;  // null when there are no records
};

class Fetcher : public std::enable_shared_from_this<Fetcher> {
 public:
  using Ticket = uint64_t;
  using Handler = std::function<void(FetchedPartition)>;

  static std::shared_ptr<Fetcher> create(boost::asio::any_io_executor executor,
                                         std::shared_ptr<Cluster> cluster, FetchConfig config);
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // Wants `position`; `done` runs once, on `executor`, with the answer. After stop(), answers
  // with kShuttingDown.
  Ticket fetch(FetchPosition position, boost::asio::any_io_executor executor, Handler done);
  // Withdraws a want: its `done` is dropped without being called, unless its answer is already
  // on its way (a consumer drops answers to tickets it cancelled).
  void cancel(Ticket ticket);
  // Answers every standing want with kShuttingDown and sends no more Fetches.
  void stop();

  // Bytes handed out and not yet released. Any thread.
  size_t bufferedBytes() const { return buffered_bytes_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;
  // The fetch loop of one broker and isolation level.
  using LoopKey = std::pair<NodeId, IsolationLevel>;
  struct Loop;
  struct Round;

  struct Want {
    FetchPosition position;
    boost::asio::any_io_executor executor;
    Handler done;
    NodeId leader = kNoNode;  // whose loop has it; kNoNode while parked without a leader
    bool in_flight = false;
    Clock::time_point not_before{};  // after a routing error, until the metadata had a chance
    int missing = 0;                 // refreshes in a row whose metadata had no such partition
  };

  Fetcher(boost::asio::any_io_executor executor, std::shared_ptr<Cluster> cluster,
          FetchConfig config);

  // All on the strand.
  void addWant(Ticket ticket, Want want);
  void withdraw(Ticket ticket);
  void shutDown();
  // Files the want under its leader's loop (starting or waking it) or parks it. `confirmed`:
  // the metadata was just refreshed for the want's topic, so a partition missing from it counts
  // as missing. Returns the error to answer with when the want cannot be served at all.
  std::optional<Error> route(Ticket ticket, Want& want, const MetadataSnapshot* metadata,
                             bool confirmed);
  void detach(Ticket ticket, const Want& want);
  // The context of log entries about a partition fetched from `broker` (kNoNode: none).
  log::Context partitionContext(const TopicPartition& tp, NodeId broker) const;
  void ensureLoop(const LoopKey& key);
  boost::asio::awaitable<void> runLoop(LoopKey key);
  // The wants of the next request: one per partition, oldest first, rotated. Sets `wake_at` to
  // when a want held back by not_before becomes ready.
  std::vector<Ticket> gather(Loop& loop, Clock::time_point now, Clock::time_point& wake_at);
  boost::asio::awaitable<void> fetchFrom(const LoopKey& key, Loop& loop,
                                         std::vector<Ticket> tickets);
  void onResponse(const LoopKey& key, Loop& loop, const Round& round,
                  Result<protocol::FetchResponse> result);
  // A response's partitions by topic name and index.
  using Answers =
      std::map<std::pair<std::string_view, int32_t>, const protocol::FetchResponse::PartitionData*>;
  // Which consumer (by executor) is handed the response frame itself: the one that gets at
  // least half its bytes, if any. Its records point into the frame, under one lease of the
  // whole frame; the others get copies of their parts, each under its own lease.
  struct FrameSharing {
    std::optional<boost::asio::any_io_executor> executor;
    std::shared_ptr<const void> frame_lease;  // taken at the first partition handed over
  };
  FrameSharing frameSharing(const Round& round, const Answers& answers) const;
  // The MaxWait of the loop's next request: busy_max_wait while partitions it answered with
  // records may be asked for again soon, else max_wait.
  std::chrono::milliseconds maxWait(Loop& loop) const;
  void answer(Ticket ticket, FetchedPartition fetched);
  void answerError(Ticket ticket, Error error);
  void requestRefresh(std::set<std::string> topics);
  // Routes every want again by the new metadata; `asked`: the topics the refresh was for.
  void onRefreshed(const Result<MetadataPtr>& result, const std::set<std::string>& asked);
  void scheduleRepair();
  void wakeLoops();
  std::shared_ptr<const void> lease(size_t bytes);
  // Any thread: a lease was released.
  void release(size_t bytes);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  std::shared_ptr<Cluster> cluster_;
  const FetchConfig config_;
  std::atomic<size_t> buffered_bytes_{0};
  std::atomic<Ticket> next_ticket_{1};

  std::map<Ticket, Want> wants_;                    // standing wants, oldest first
  std::map<LoopKey, std::unique_ptr<Loop>> loops_;  // the running loops
  std::set<Ticket> parked_;                         // wants whose partition has no known leader
  // Metadata refreshes: one at a time; topics asked for meanwhile wait for the next.
  bool refreshing_ = false;
  std::set<std::string> refresh_topics_;
  // Parked wants are looked up again after a growing delay.
  boost::asio::steady_timer repair_timer_;
  bool repair_scheduled_ = false;
  net::Backoff repair_backoff_;
  bool stopped_ = false;
};

}  // namespace kafka::consumer
