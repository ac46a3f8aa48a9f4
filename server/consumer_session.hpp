// ConsumerSession: one session of the Consumer service, i.e. one kafka::consumer::Consumer that
// the daemon holds for an application, and the records it delivered and is waiting to see acked.
//
//   Consumer ──take()──► delivered, unacked (per partition, by offset) ──► calls (streams, Poll)
//      ▲ markCommittable()          │ ack (or the write, with ACK_MODE_AUTO) ──► AckTracker
//      └────────────────────────────┘ ack timeout or call gone ──► delivered again
//
// - Backpressure: each receiver (every attached stream, and Poll) may hold at most
//   max_unacked_records unacked records; records are taken from the consumer only while some
//   receiver has room, so the consumer's bounded prefetch holds back the rest.
// - Redelivery: a record not acked within the ack timeout, or whose call detached, goes again to
//   any receiver with room, in offset order per partition, before any new record.
// - Commits: an AckTracker per partition turns acks into the committable offset, which is marked
//   on the consumer as it advances. Revoked partitions are marked one last time and their
//   unacked records dropped (their next owner delivers them again); acks for them are refused.
// - Memory: an unacked record is kept once, serialized (EncodedRecord), and shared with the
//   responses that carry it; per partition, the unacked records sit in an OffsetQueue. Each
//   handing of records to a receiver is one lease with one deadline, in a FIFO.
// - Events (assignments, end of partition, commits, seeks, errors) go to every attached stream,
//   and, once the session has been used through Open or Poll, to a bounded queue for Poll.
// - Lifetime: the session stays open while calls use it and for its idle TTL after; unary calls
//   restart the TTL. Closing commits what was acked and leaves the group.
// - Metrics: records delivered, delivered again and acked, and revokes or losses of partitions,
//   go to its group's counters, looked up once at creation. Each owned partition's lag (as the
//   consumer reports it) is set when it changes, and its series removed when the partition is
//   revoked or lost and when the session closes.
//
// Owned by shared_ptr: by the ConsumerSessions registry while open, and by the calls using it.
// Everything runs on the strand that the session shares with its consumer and the consumer's
// group membership (strand()); every method below but the accessors must be called on it. The
// session is the consumer's listener, so its state needs no lock.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "client_core/consumer/consumer.hpp"
#include "kafka/sidecar/v1/consumer.grpc.pb.h"
#include "server/ack_tracker.hpp"
#include "server/config.hpp"
#include "server/encoded_record.hpp"
#include "server/metrics.hpp"
#include "server/offset_queue.hpp"
#include "server/unary_reactor.hpp"

namespace kafka::sidecar {

// A SessionSpec checked and resolved against the daemon's defaults.
struct ResolvedSpec {
  // Every default filled in and every list in a canonical order: two specs that mean the same
  // are equal, which is what attaching to an open session compares.
  v1::SessionSpec spec;
  consumer::ConsumerConfig config;
  // A group subscription (topics or pattern), or else `assignment`.
  std::optional<group::TopicSubscription> subscription;
  std::vector<TopicPartition> assignment;
  bool auto_ack = false;
  size_t max_unacked = 0;
  std::chrono::milliseconds ack_timeout{0};
  std::chrono::milliseconds idle_ttl{0};
  // The name of the bearer token that opened the session ("" without tokens): only calls with
  // that token may use it. Not part of `spec`: attaching checks it first.
  std::string owner;
};

// Limits of SessionSpec settings.
inline constexpr uint32_t kDefaultMaxUnackedRecords = 1000;
inline constexpr uint32_t kMaxMaxUnackedRecords = 100'000;
inline constexpr std::chrono::milliseconds kDefaultAckTimeout{60'000};

// Checks `spec` and resolves it for cluster `cluster_name`; INVALID_ARGUMENT naming the field at
// fault ("spec.topic_pattern: ...") when it cannot be used.
grpc::Status resolveSpec(const v1::SessionSpec& spec, const std::string& cluster_name,
                         const ConsumerSessionConfig& defaults, ResolvedSpec& out);

// The first field in which two resolved specs differ, with both values, for the message that
// refuses an attach; empty when they are equal.
std::string specDifference(const v1::SessionSpec& open, const v1::SessionSpec& wanted);

// A stream attached to a session: where the session sends records and events. Called on the
// session's strand.
class SessionOutlet {
 public:
  virtual ~SessionOutlet() = default;
  // Consecutive records of one partition, in offset order.
  virtual void sendRecords(const TopicPartition& partition, std::vector<EncodedRecord> records) = 0;
  virtual void sendEvent(const v1::ConsumerEvent& event) = 0;
  // Takes back the records of `partition` that are queued and not being written yet, where
  // `drop(offset)` says so: the session no longer counts them as delivered to this call.
  virtual void withdraw(const TopicPartition& partition,
                        const std::function<bool(int64_t)>& drop) = 0;
  // The session detached the call for good (it closed): end the call with `status` once the
  // events queued are written.
  virtual void end(grpc::Status status) = 0;
};

class ConsumerSession : public consumer::ConsumerListener,
                        public std::enable_shared_from_this<ConsumerSession> {
 public:
  using Strand = consumer::Consumer::Strand;
  using Clock = std::chrono::steady_clock;

  enum class CloseReason { kRequested, kIdle, kFatal, kShutdown };

  // How the session tells its registry that it starts closing (new opens of its name create a
  // new session from then on) and that it has closed. Called on the strand.
  struct Hooks {
    std::function<void(const ConsumerSession&)> closing;
    std::function<void()> closed;
  };

  // Poll's settings, resolved.
  struct PollLimits {
    size_t max_records = 500;
    size_t max_bytes = 1024 * 1024;
    std::chrono::milliseconds timeout{1'000};
  };

  using CommitDone = std::function<void(grpc::Status, std::vector<v1::PartitionCommit>)>;
  using SeekDone = std::function<void(grpc::Status, int64_t offset)>;
  using CloseDone = std::function<void(std::vector<v1::PartitionCommit>)>;

  // Creates the session and its consumer, which starts with start(). `counters` (its group's)
  // must outlive the session.
  static std::shared_ptr<ConsumerSession> create(boost::asio::any_io_executor executor,
                                                 std::string id, std::shared_ptr<Cluster> cluster,
                                                 std::shared_ptr<consumer::Fetcher> fetcher,
                                                 ResolvedSpec resolved, Hooks hooks,
                                                 Metrics::SessionCounters counters);
  ~ConsumerSession() override;
  ConsumerSession(const ConsumerSession&) = delete;
  ConsumerSession& operator=(const ConsumerSession&) = delete;

  // Any thread: immutable.
  const std::string& id() const { return id_; }
  const v1::SessionSpec& spec() const { return resolved_.spec; }
  const std::string& owner() const { return resolved_.owner; }
  const Strand& strand() const { return strand_; }

  // Any thread: subscribes or assigns, on the strand. `polling`: opened for Poll (Open), so that
  // events are queued for Poll from the first on.
  void start(bool polling);

  // ---- On the strand from here on. ----

  // Attaches a stream; false when the session is closing (open a new one). The stream gets an
  // `assigned` event with the partitions owned now, if any.
  bool attach(std::shared_ptr<SessionOutlet> outlet);
  // The stream's unacked records go to the other receivers. Idempotent.
  void detach(SessionOutlet* outlet);
  // A write of `records` to `outlet` completed: with ACK_MODE_AUTO, that acks them.
  void written(SessionOutlet* outlet, const TopicPartition& partition,
               std::span<const EncodedRecord> records);

  // Applies every ack it can; the first refusal, naming topic, partition and offset:
  // FAILED_PRECONDITION for a partition the session does not own, INVALID_ARGUMENT for an offset
  // never delivered.
  grpc::Status ack(const google::protobuf::RepeatedPtrField<v1::PartitionOffsets>& partitions);
  // Commits what was acked. Every attached stream gets a `committed` event (or an error event
  // when the commit failed as a whole); `done`, if set, the outcome.
  void commit(CommitDone done);
  // Refuses a seek that cannot start (FAILED_PRECONDITION for a partition not owned,
  // INVALID_ARGUMENT for a bad target); otherwise starts it, and when it completes every
  // attached stream gets a `seeked` event and `done`, if set, the outcome.
  grpc::Status seek(const v1::SeekTarget& target, SeekDone done);
  grpc::Status pause(const google::protobuf::RepeatedPtrField<v1::TopicPartitions>& partitions);
  grpc::Status resume(const google::protobuf::RepeatedPtrField<v1::TopicPartitions>& partitions);

  // Waits for records (or events) up to the limits, then answers the call through `finisher`
  // (which this claims first, so that a cancelled call is never answered twice).
  void poll(PollLimits limits, v1::PollResponse* response,
            std::shared_ptr<UnaryReactor::Finisher> finisher);
  // A unary call used the session: restarts the idle TTL. `polling`: from now on events are
  // also queued for Poll.
  void touch(bool polling);

  // Commits what was acked, leaves the group, and ends every attached stream: `requester` (if
  // any) with OK, the others with a status saying why. `done` (if set) gets the final commit's
  // outcome once closed; calls on a closed session get it at once.
  void close(CloseReason reason, SessionOutlet* requester, CloseDone done);
  bool open() const { return state_ == State::kOpen; }

  // consumer::ConsumerListener
  void onPartitionsAssigned(const std::vector<TopicPartition>& partitions) override;
  void onPartitionsRevoked(const std::vector<TopicPartition>& partitions) override;
  void onPartitionsLost(const std::vector<TopicPartition>& partitions) override;
  void onRecordsAvailable() override;
  void onEndOfPartition(const TopicPartition& partition, int64_t offset) override;
  void onCommitted(const Result<std::vector<group::PartitionResult>>& results) override;
  void onError(const Error& error) override;
  void onLag(const TopicPartition& partition, int64_t lag) override;

  // Events waiting for Poll, at most; beyond, the oldest are dropped and counted.
  static constexpr size_t kMaxPollEvents = 1000;

 private:
  enum class State { kOpen, kClosing, kClosed };

  // A record delivered and not acked.
  struct Unacked {
    EncodedRecord record;
    uint64_t holder = 0;  // the receiver holding it; kNobody while waiting to be delivered again
    uint64_t lease = 0;   // the delivery whose deadline applies to it
  };
  struct PartitionState {
    TopicPartition partition;
    std::optional<AckTracker> tracker;  // from the first delivery, end of partition or seek
    OffsetQueue<Unacked> unacked;
    size_t waiting = 0;  // of `unacked`, those held by nobody
    bool paused = false;
  };
  // Records of one partition handed to one receiver at once, under one deadline. The ack
  // timeout is the same for every delivery, so deadlines come in the order of the leases.
  struct Lease {
    uint64_t id = 0;
    Clock::time_point deadline;
    PartitionState* state = nullptr;  // valid while held > 0
    int64_t first = 0;                // the offsets it spans
    int64_t last = 0;
    size_t held = 0;  // records still held under it
  };
  // A stream, or (kPollReceiver) whoever polls.
  struct Receiver {
    std::shared_ptr<SessionOutlet> outlet;  // null for kPollReceiver
    size_t unacked = 0;
  };
  struct PollWaiter {
    uint64_t id = 0;
    PollLimits limits;
    v1::PollResponse* response = nullptr;
    std::shared_ptr<UnaryReactor::Finisher> finisher;
    bool claimed = false;
    size_t records = 0;
    size_t bytes = 0;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  static constexpr uint64_t kNobody = 0;
  static constexpr uint64_t kPollReceiver = 1;

  ConsumerSession(boost::asio::any_io_executor executor, std::string id, ResolvedSpec resolved,
                  Hooks hooks, Metrics::SessionCounters counters);

  // Delivery.
  void pump();
  void deliverToStreams();
  void servePolls();
  size_t creditOf(uint64_t receiver) const;
  // Hands `receiver` records to deliver again; returns how many.
  size_t redeliverTo(uint64_t receiver, size_t credit, size_t max_bytes);
  size_t takeInto(uint64_t receiver, size_t max_records, size_t max_bytes);
  void send(uint64_t receiver, const TopicPartition& partition, std::vector<EncodedRecord> records);
  // Starts a lease on `state`'s records from `first` on; hold() adds each to it.
  Lease& lease(PartitionState& state, int64_t first);
  void hold(Unacked& entry, Lease& lease, uint64_t receiver);
  void release(Unacked& entry);
  // Forgets the oldest leases while they hold nothing.
  void trimLeases();
  bool anyRedeliverable() const;
  // Forgets every delivered record of the partition, also those queued in streams.
  void dropRecords(PartitionState& state);
  // The partition starts again at `offset` (a seek, or the consumer moving back by itself).
  void restartPartition(PartitionState& state, int64_t offset);
  Result<void> applyAck(PartitionState& state, int64_t offset);
  grpc::Status setPaused(const google::protobuf::RepeatedPtrField<v1::TopicPartitions>& partitions,
                         bool paused);
  void markCommittable(PartitionState& state);
  PartitionState* find(const TopicPartition& partition);

  // Timers.
  void armAckTimer();
  void expireAcks();
  void refreshIdle();

  // Events.
  // The context of log entries about this session; with `partition`, about one of its partitions.
  log::Context logContext(const TopicPartition* partition = nullptr) const;
  void emit(const v1::ConsumerEvent& event);
  void emitError(const Error& error, bool fatal);
  void completeWaiter(std::list<PollWaiter>::iterator waiter, grpc::Status status);
  std::vector<v1::PartitionCommit> describeCommit(
      const std::vector<group::PartitionResult>& results) const;

  void finishClose();
  // Removes the partition's lag series, if set.
  void forgetLag(const TopicPartition& partition);

  const std::string id_;
  const ResolvedSpec resolved_;
  const Hooks hooks_;
  const Metrics::SessionCounters counters_;
  Strand strand_;
  std::shared_ptr<consumer::Consumer> consumer_;

  State state_ = State::kOpen;
  CloseReason close_reason_ = CloseReason::kRequested;
  SessionOutlet* closer_ = nullptr;
  std::string fatal_error_;  // for kFatal
  std::vector<CloseDone> close_waiters_;
  std::map<TopicPartition, v1::PartitionCommit> final_commit_;

  std::map<TopicPartition, PartitionState> partitions_;
  // The lag last set per owned partition, whose series exist.
  std::map<TopicPartition, int64_t> lag_;
  // The offset last marked committable per partition (kept after a revoke, for the commit event
  // that follows it).
  std::map<TopicPartition, int64_t> marked_;
  std::map<uint64_t, Receiver> receivers_;
  std::map<SessionOutlet*, uint64_t> receiver_ids_;
  uint64_t next_receiver_ = kPollReceiver + 1;
  size_t rotation_ = 0;  // which stream is served first, in turn
  // By id and so by deadline, from the oldest that still holds records (or has not expired).
  std::deque<Lease> leases_;
  uint64_t next_lease_ = 1;
  bool pumping_ = false;
  bool pump_again_ = false;
  bool consumer_may_have_records_ = true;  // false from a take() of nothing to onRecordsAvailable

  std::list<PollWaiter> waiters_;  // the first one gets records
  uint64_t next_waiter_ = 1;
  bool polling_ = false;
  std::deque<v1::ConsumerEvent> poll_events_;
  uint64_t poll_events_dropped_ = 0;

  boost::asio::steady_timer ack_timer_;
  bool ack_timer_armed_ = false;
  boost::asio::steady_timer idle_timer_;
  uint64_t idle_generation_ = 0;  // makes a superseded idle wait do nothing
};

}  // namespace kafka::sidecar
