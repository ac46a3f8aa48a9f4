// kafka::consumer::Consumer: one consumer of one cluster, either a member of a consumer group
// (subscribe()) or reading partitions chosen by hand (assign()). It fetches ahead through the
// cluster's shared Fetcher, starts each partition at its committed offset or where the reset
// policy says, and hands records to its owner, who decides when they were processed.
//
//   Fetcher ──► buffered fetches (≤ max_buffered_bytes) ──► take() ──► owner
//                                                                        │ markCommittable()
//   GroupMembership ◄── commits (on the interval, on revoke, on close) ◄─┘
//
// - Positions: a partition's position is the next offset take() hands out. It starts at the
//   committed offset, else at the reset policy's offset (none: an error event, and the
//   partition waits for a seek). OFFSET_OUT_OF_RANGE applies the reset policy again.
// - seek() moves a position (to an offset, the beginning, the end, or a time) and drops what
//   was fetched past the old one. pause() stops fetching and handing out a partition's records
//   without losing its place; resume() undoes it.
// - The owner calls markCommittable() with what was processed (what the app acked, or what was
//   delivered when acks are automatic); only those offsets are ever committed. On revoke the
//   listener is told first, so that it can mark its final offsets, then they are committed
//   before the partitions are given up. Lost partitions are never committed.
//
// Owned by shared_ptr (create()). The consumer, its group membership and its listener share one
// strand (strand()); public methods must be called on it, and listener calls and completions
// run on it. Only the decoding of fetched records (decompression, CRCs) leaves it, for the
// strand's inner executor, so that one consumer's partitions decode on every I/O thread. Some
// listener calls and completions run inside the call that caused them, so a listener must not
// assume it is called from an empty stack: take() may call onEndOfPartition(), resume() may call
// onRecordsAvailable(), and seek() calls `done` before returning for an offset target or a
// partition that is not assigned.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "client_core/consumer/consumer_config.hpp"
#include "client_core/consumer/fetcher.hpp"
#include "client_core/group/group_membership.hpp"
#include "client_core/record/record_batch.hpp"

namespace kafka::consumer {

// Told what happens to the consumer. Called on the consumer's strand; must not block.
class ConsumerListener {
 public:
  virtual ~ConsumerListener() = default;
  virtual void onPartitionsAssigned(const std::vector<TopicPartition>& partitions) = 0;
  // The partitions are being given up: mark their final committable offsets now; they are
  // committed when this returns.
  virtual void onPartitionsRevoked(const std::vector<TopicPartition>& partitions) = 0;
  // The partitions were taken away without a chance to commit (membership expired or fenced).
  virtual void onPartitionsLost(const std::vector<TopicPartition>& partitions) = 0;
  // take() has records again after it came back empty.
  virtual void onRecordsAvailable() = 0;
  // Everything up to the partition's high watermark was handed out (once per arrival there).
  virtual void onEndOfPartition(const TopicPartition& partition, int64_t offset) = 0;
  // Commits the consumer made by itself (auto-commit, on revoke, on close).
  virtual void onCommitted(const Result<std::vector<group::PartitionResult>>& results) = 0;
  // A partition cannot go on (its error names it), or, for kFatalToSession errors, the group
  // membership ended.
  virtual void onError(const Error& error) = 0;
  // The partition's lag changed, or may have: records between its position and its high
  // watermark (the last stable offset under read_committed), as Kafka's records-lag. Reported
  // once both are known, after each fetch, take() and seek. Optional.
  virtual void onLag(const TopicPartition& /*partition*/, int64_t /*lag*/) {}
};

// Records of one partition handed out by take(): a run of one batch's records.
struct TakenRecords {
  const TopicPartition& partition;
  const record::RecordBatch& batch;  // the batch's header fields (timestamp type, epoch, ...)
  std::span<const record::Record> records;
};

// A position to seek to.
struct SeekTarget {
  enum class Kind { kOffset, kBeginning, kEnd, kTimestamp };
  Kind kind = Kind::kOffset;
  int64_t value = 0;  // the offset, or the timestamp in milliseconds since the epoch
};

class Consumer : public std::enable_shared_from_this<Consumer> {
 public:
  using Strand = boost::asio::strand<boost::asio::any_io_executor>;

  // `config.group` must pass group::validate(). The listener is held weakly.
  static std::shared_ptr<Consumer> create(Strand strand, std::shared_ptr<Cluster> cluster,
                                          std::shared_ptr<Fetcher> fetcher, ConsumerConfig config,
                                          std::weak_ptr<ConsumerListener> listener);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  const Strand& strand() const { return strand_; }

  // Joins the group with `subscription` (see group::validate(TopicSubscription)).
  void subscribe(group::TopicSubscription subscription);
  // Reads exactly `partitions`, without joining the group.
  void assign(std::vector<TopicPartition> partitions);

  // Hands out up to `max_records` records and about `max_bytes` of keys and values (at least
  // one record when any is buffered), partitions taking turns, by calling `sink` for each run.
  // Advances the positions past them. Returns the number of records handed out; when 0, the
  // listener's onRecordsAvailable() says when to try again.
  size_t take(size_t max_records, size_t max_bytes,
              const std::function<void(const TakenRecords&)>& sink);

  // Moves an assigned partition's position. kInvalidArgument naming the partition when it is
  // not assigned, or for a negative offset. Seeks to the beginning, the end or a time complete
  // after the lookup; `done` runs on the strand once the position is set.
  void seek(const TopicPartition& partition, SeekTarget target,
            std::function<void(Result<int64_t>)> done);
  Result<void> pause(const std::vector<TopicPartition>& partitions);
  Result<void> resume(const std::vector<TopicPartition>& partitions);

  // Offsets processed by the owner: `offset` is the next record to consume, as Kafka commits.
  // Ignored for partitions not assigned.
  void markCommittable(const TopicPartition& partition, int64_t offset);
  // Commits every committable offset not committed yet (nothing to do completes at once).
  void commit(std::function<void(Result<std::vector<group::PartitionResult>>)> done);
  // The group's committed offsets (OffsetFetch).
  void committed(std::vector<TopicPartition> partitions,
                 std::function<void(Result<std::vector<group::CommittedOffset>>)> done);

  // The next offset take() hands out, when the partition is assigned and its start is known.
  std::optional<int64_t> position(const TopicPartition& partition) const;
  // Partitions assigned now, sorted.
  std::vector<TopicPartition> assignment() const;

  // Commits what is committable, leaves the group and stops fetching. `done` runs once.
  void close(std::function<void()> done);

 private:
  class MembershipEvents;

  // The context of log entries about one of the group's partitions.
  log::Context logContext(const TopicPartition& partition) const;

  // A fetched batch waiting for take(), with the records not handed out yet.
  struct BufferedBatch {
    record::RecordBatch batch;
    size_t next_record = 0;
    std::shared_ptr<const void> lease;  // the fetcher's accounting of the response's bytes
  };

  struct PartitionState {
    // kStarting: the committed offset or the reset offset is being looked up.
    // kStopped: an error left no position to go on from; a seek restarts it.
    enum class Phase { kStarting, kFetching, kStopped };
    Phase phase = Phase::kStarting;
    int64_t position = -1;      // the next offset take() hands out
    int64_t fetch_offset = -1;  // where the next fetch starts: past everything buffered
    uint64_t generation = 0;    // bumped whenever a seek or restart makes answers stale
    bool paused = false;
    bool revoking = false;        // being given up: hands out nothing more
    bool end_reported = false;    // onEndOfPartition was told of the current position
    bool backing_off = false;     // failed; the retry timer starts or fetches it again
    int64_t high_watermark = -1;  // (the last stable offset under read_committed) last seen
    std::optional<Fetcher::Ticket> fetching;
    // Fetched records being decoded off the strand: which decode, and the fetched bytes, counted
    // in buffered_bytes_ until it is done.
    std::optional<uint64_t> decoding;
    size_t decoding_bytes = 0;
    ErrorCode last_error = ErrorCode::kNone;  // reported once until it changes
    std::deque<BufferedBatch> buffered;
    size_t buffered_bytes = 0;
    std::optional<int64_t> committable;
    std::optional<int64_t> committed;
  };
  using Partitions = std::map<TopicPartition, PartitionState>;

  Consumer(Strand strand, std::shared_ptr<Cluster> cluster, std::shared_ptr<Fetcher> fetcher,
           ConsumerConfig config, std::weak_ptr<ConsumerListener> listener);

  // From the group membership.
  void partitionsAssigned(const std::vector<TopicPartition>& added);
  void partitionsRevoked(const std::vector<TopicPartition>& revoked, std::function<void()> done);
  void partitionsLost(const std::vector<TopicPartition>& lost);

  void addPartitions(const std::vector<TopicPartition>& added);
  void removePartitions(const std::vector<TopicPartition>& removed);
  // Looks up where `partitions` start: their committed offsets, else the reset policy.
  void startPartitions(std::vector<TopicPartition> partitions);
  // Resets `partitions` by the policy (OFFSET_OUT_OF_RANGE, or no committed offset).
  void resetPartitions(const std::vector<TopicPartition>& partitions, const Error& cause);
  void lookUpStart(std::vector<TopicPartition> partitions, int64_t timestamp);
  void setPosition(const TopicPartition& partition, PartitionState& state, int64_t offset);
  void stopPartition(const TopicPartition& partition, PartitionState& state, Error error);
  void clearBuffer(PartitionState& state);
  // kInvalidArgument naming the first of `partitions` that is not assigned.
  Result<void> checkAssigned(const std::vector<TopicPartition>& partitions) const;

  // Asks the fetcher for every partition that can fetch and has none asked for, while the
  // buffer has room.
  void fetchMore();
  void onFetched(const TopicPartition& partition, Fetcher::Ticket ticket, FetchedPartition fetched);
  // A fetched partition's batches for the application, decoded (and their CRCs checked) off
  // the strand, so that the partitions of one consumer decompress on every I/O thread.
  struct Decoded {
    std::vector<BufferedBatch> batches;
    int64_t next_offset = -1;    // where the next fetch starts
    std::optional<Error> error;  // a corrupt batch, after `batches`
  };
  static Decoded decodeFetched(FetchedPartition fetched, IsolationLevel isolation, bool verify_crc);
  // Decodes `fetched` on the strand's inner executor, then goes on in onDecoded.
  void decode(const TopicPartition& partition, PartitionState& state, FetchedPartition fetched);
  // Buffers what was decoded, unless a seek or stop made it stale meanwhile.
  void onDecoded(const TopicPartition& partition, uint64_t decode, uint64_t generation,
                 Decoded& decoded);
  void bufferRecords(const TopicPartition& partition, PartitionState& state, Decoded& decoded);
  void reportEndIfCaughtUp(const TopicPartition& partition, PartitionState& state);
  void reportLag(const TopicPartition& partition, const PartitionState& state);
  // Reports `error` (unless it repeats the last one) and retries the partition after a backoff.
  void failAndRetry(PartitionState& state, const Error& error);
  void reportError(PartitionState& state, const Error& error);

  void commitPartitions(const std::vector<TopicPartition>& partitions,
                        std::function<void(Result<std::vector<group::PartitionResult>>)> done);
  void scheduleAutoCommit();
  // Tells the listener of a commit the consumer made by itself, unless it had nothing to do.
  void reportCommit(const Result<std::vector<group::PartitionResult>>& results);
  std::shared_ptr<ConsumerListener> listener() const { return listener_.lock(); }
  PartitionState* find(const TopicPartition& partition);

  Strand strand_;
  std::shared_ptr<Cluster> cluster_;
  std::shared_ptr<Fetcher> fetcher_;
  const ConsumerConfig config_;
  std::weak_ptr<ConsumerListener> listener_;
  std::shared_ptr<MembershipEvents> membership_events_;
  std::shared_ptr<group::GroupMembership> membership_;
  boost::asio::steady_timer auto_commit_timer_;
  boost::asio::steady_timer retry_timer_;
  bool retry_scheduled_ = false;

  Partitions partitions_;
  size_t buffered_bytes_ = 0;
  uint64_t decodes_ = 0;     // decodes started, to tell their answers apart
  size_t next_take_ = 0;     // which partition take() starts with, for fairness
  bool starved_ = false;     // take() came back empty; tell the listener of new records
  bool subscribed_ = false;  // a group member, rather than assign()ed
  bool closing_ = false;
};

}  // namespace kafka::consumer
