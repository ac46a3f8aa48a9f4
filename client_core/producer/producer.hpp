// kafka::producer::Producer: batches records per partition, compresses them and delivers them to
// the partition leaders with Kafka's guarantees, reporting exactly once what became of each
// record.
//
//   send() ──► waiting submissions ──► per-partition batches ──► a Produce request per leader
//              (buffer.memory full,      (batch.size, linger)     (one batch per partition;
//               topic being looked up)                             max_in_flight per broker)
//
// - Records wait, in order, while their topic's metadata is looked up or while buffer.memory is
//   full; send() completes only once all of its records are buffered, which is the backpressure.
// - Each partition has at most one batch in flight, so records stay in order through retries.
// - Retriable errors are retried with backoff until delivery_timeout; routing errors refresh the
//   topic's metadata first, so batches follow a moved leader.
// - Idempotence (on by default, acks=all): a producer id from InitProducerId and a sequence
//   number per partition let the broker drop duplicates of retried batches. A sequence that
//   cannot be continued (a batch failed for good, or the broker saw a gap) bumps the epoch and
//   restarts the sequences, as Kafka's Java client does; a broker that lost the producer's
//   state gets a new producer id.
//
// Owned by shared_ptr (create()); all state lives on the producer's own strand, and batches are
// compressed on the executor beside it. send(), flush() and close() may be called from any
// thread. Delivery handlers run on the producer's strand and
// must not block; completion tokens run on their associated executor.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "client_core/common/completion.hpp"
#include "client_core/net/backoff.hpp"
#include "client_core/producer/partitioner.hpp"
#include "client_core/producer/producer_config.hpp"
#include "client_core/protocol/messages/init_producer_id.hpp"
#include "client_core/protocol/messages/produce.hpp"
#include "client_core/protocol/result.hpp"
#include "client_core/record/record_batch.hpp"
#include "client_core/record/record_batch_builder.hpp"

namespace kafka::producer {

inline constexpr int32_t kAnyPartition = -1;

// One record handed to send(). Views into memory the caller keeps alive until send() completes.
struct OutgoingRecord {
  std::string_view topic;
  int32_t partition = kAnyPartition;  // kAnyPartition: by key, or sticky when there is no key
  std::optional<protocol::ByteView> key;
  std::optional<protocol::ByteView> value;
  std::span<const record::Header> headers;
  int64_t timestamp_ms = record::kNoTimestamp;  // kNoTimestamp: the time of send()
};

// What became of some records of one send(): all of one partition, consecutive in its log.
struct DeliveryReport {
  std::string_view topic;
  // kAnyPartition when the records never got one; for a partition that does not exist, the one
  // they asked for.
  int32_t partition = kAnyPartition;
  Error error;                        // code kNone when delivered
  // The offset of indices[0]; the others follow one by one. -1 when the broker did not say
  // (acks=0, or a retry the broker recognised as a duplicate of a written batch).
  int64_t base_offset = -1;
  // The broker's append time when the topic uses LogAppendTime; -1 otherwise (records keep the
  // timestamps they were sent with).
  int64_t log_append_time_ms = -1;
  std::span<const uint32_t> indices;  // positions in the records given to send()
};
using DeliveryHandler = std::function<void(const DeliveryReport&)>;

class Producer : public std::enable_shared_from_this<Producer> {
 public:
  // Checks the settings fit together (sizes, timeouts); kInvalidArgument naming the setting.
  static Result<void> validate(const ProducerConfig& config);
  // `config` must pass validate().
  static std::shared_ptr<Producer> create(boost::asio::any_io_executor executor,
                                          std::shared_ptr<Cluster> cluster,
                                          ProducerConfig config);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Hands `records` to the producer. `on_delivery` is called, on the producer's strand, until
  // every record has been reported exactly once (a record that cannot be sent, such as one for
  // an unknown topic or too large, is reported at once). Completes with void() when every
  // record is buffered or reported: the caller may then release the records' memory and send
  // more.
  template <class Token>
  auto send(std::vector<OutgoingRecord> records, DeliveryHandler on_delivery, Token&& token) {
    return boost::asio::async_initiate<Token, void()>(
        [self = shared_from_this()](auto handler, std::vector<OutgoingRecord> batch,
                                    DeliveryHandler reports) {
          self->submit(std::move(batch), std::move(reports),
                       postingCallback<>(self->strand_, std::move(handler)));
        },
        token, std::move(records), std::move(on_delivery));
  }

  // Sends every buffered batch at once and completes with void(Result<void>) when every record
  // given to send() before this call has been reported, or with kRequestTimedOutLocally once
  // `timeout` has passed (the records are still being delivered).
  template <class Token>
  auto flush(std::chrono::milliseconds timeout, Token&& token) {
    return boost::asio::async_initiate<Token, void(Result<void>)>(
        [self = shared_from_this(), timeout](auto handler) {
          self->startFlush(timeout, postingCallback<Result<void>>(self->strand_,
                                                                   std::move(handler)));
        },
        token);
  }

  // Refuses records sent after this call (they are reported as kShuttingDown), flushes the
  // others, and after `timeout` fails whatever is left with kShuttingDown. Completes with void()
  // when every record is reported.
  template <class Token>
  auto close(std::chrono::milliseconds timeout, Token&& token) {
    return boost::asio::async_initiate<Token, void()>(
        [self = shared_from_this(), timeout](auto handler) {
          self->startClose(timeout, postingCallback<>(self->strand_, std::move(handler)));
        },
        token);
  }

  const ProducerConfig& config() const { return config_; }
  // Bytes of records held now, waiting or in batches (bounded by buffer_memory). Any thread.
  size_t bufferedBytes() const { return buffered_bytes_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Submission;
  struct Batch;
  struct PartitionState;
  struct TopicState;
  struct Run;
  struct FlushWaiter;
  struct InFlight;

  Producer(boost::asio::any_io_executor executor, std::shared_ptr<Cluster> cluster,
           ProducerConfig config);

  // All on the strand.
  void submit(std::vector<OutgoingRecord> records, DeliveryHandler on_delivery,
              std::function<void()> accepted);
  // Buffers waiting submissions in order until one has to wait (for memory or metadata).
  void appendWaiting();
  enum class AppendOutcome { kDone, kBlocked };
  AppendOutcome appendRecords(const std::shared_ptr<Submission>& submission);
  TopicState& topicFor(std::string_view name);
  void learnPartitions(TopicState& topic, const MetadataSnapshot& metadata);
  void lookUpTopic(TopicState& topic);
  void onTopicMetadata(const std::string& name, Result<MetadataPtr> result);
  void failRecord(Submission& submission, uint32_t index, std::string_view topic,
                  int32_t partition, Error error);
  PartitionState& partitionState(TopicState& topic, int32_t partition);
  // Whether a record of `record_size` bytes would take the partition's open batch past
  // batch.size (false when there is no open batch).
  bool batchWouldOverflow(const PartitionState& partition, size_t record_size) const;
  void openBatch(PartitionState& partition, const Submission& submission, Clock::time_point now);
  // Numbers the partition's open batch (when the producer id is known) and has it built and
  // compressed on the executor; onBatchBuilt() takes it back on the strand.
  void closeOpenBatch(PartitionState& partition);
  void onBatchBuilt(PartitionState& partition, uint64_t id,
                    std::unique_ptr<record::RecordBatchBuilder> builder,
                    Result<protocol::Bytes> built);

  // Sends what is due, expires what is late, and re-arms the wake-up timer.
  void drain();
  void sendTo(NodeId leader, std::vector<PartitionState*>& partitions);
  void onProduceResponse(const std::shared_ptr<InFlight>& sent,
                         Result<protocol::ProduceResponse> result);
  void onBatchError(PartitionState& partition, Error error);
  // Reports the batch at `position` of the partition's queue and forgets it.
  void completeBatch(PartitionState& partition, size_t position, const Error& error,
                     int64_t base_offset, int64_t log_append_time_ms);
  void expire(PartitionState& partition, Clock::time_point now);

  // Why sequence numbers must restart, in increasing order of what it takes.
  enum class Renumbering { kNone, kBumpEpoch, kNewProducerId };
  bool producerIdReady() const;
  void renumber(Renumbering how);
  void bumpEpoch();
  void requestProducerId();
  void onProducerId(Result<protocol::InitProducerIdResponse> result);
  // After a new producer id or epoch: sequences restart at 0 for every queued batch.
  void renumberBatches();

  void startFlush(std::chrono::milliseconds timeout, std::function<void(Result<void>)> done);
  void startClose(std::chrono::milliseconds timeout, std::function<void()> done);
  // Reports every record not yet reported with `error`.
  void abandonEverything(const Error& error);
  void finishRecords(Submission& submission, size_t count);
  void checkFlushWaiters(Clock::time_point now);
  void wakeAt(Clock::time_point when);
  void release(size_t bytes);

  const ProducerConfig config_;
  const std::shared_ptr<Cluster> cluster_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer wake_timer_;
  Clock::time_point wake_at_ = Clock::time_point::max();

  std::deque<std::shared_ptr<Submission>> waiting_;  // not yet fully buffered, in send() order
  std::map<std::string, std::unique_ptr<TopicState>, std::less<>> topics_;
  std::vector<PartitionState*> active_;  // partitions with batches, in no particular order
  std::map<NodeId, size_t> requests_in_flight_;
  size_t batches_in_flight_ = 0;
  size_t builds_in_flight_ = 0;
  StickyPartitioner sticky_;
  // Builders of built batches, kept with their grown buffers for the next batches.
  static constexpr size_t kSpareBuilders = 8;
  std::vector<std::unique_ptr<record::RecordBatchBuilder>> spare_builders_;
  size_t buffered_ = 0;
  std::atomic<size_t> buffered_bytes_{0};
  uint64_t next_batch_id_ = 1;
  uint64_t next_serial_ = 1;
  std::set<uint64_t> unfinished_;  // serials of submissions with records not yet reported
  std::vector<FlushWaiter> flush_waiters_;
  int flushing_ = 0;            // flushes in progress: send open batches without lingering
  bool memory_blocked_ = false;  // a submission waits for buffer memory: send without lingering
  bool closing_ = false;         // close() was called, after submission close_serial_
  uint64_t close_serial_ = 0;
  bool closed_ = false;          // close() is done: records are refused

  // Idempotence.
  bool idempotent_;
  int64_t producer_id_ = record::kNoProducerId;
  int16_t producer_epoch_ = record::kNoProducerEpoch;
  bool producer_id_requested_ = false;
  size_t producer_id_attempts_ = 0;
  Renumbering renumbering_ = Renumbering::kNone;
  std::optional<Error> fatal_;  // the producer cannot go on (e.g. InitProducerId refused)
  net::Backoff producer_id_backoff_;
  Clock::time_point producer_id_retry_at_{};
};

}  // namespace kafka::producer
