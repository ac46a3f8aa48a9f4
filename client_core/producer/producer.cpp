#include "client_core/producer/producer.hpp"

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <limits>

#include "client_core/cluster/topic_name.hpp"
#include "client_core/common/log.hpp"

namespace kafka::producer {

namespace {

using protocol::Bytes;
using protocol::ByteView;

int64_t wallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Kafka's sequence numbers wrap around to 0 after INT32_MAX.
int32_t advanceSequence(int32_t sequence, int32_t records) {
  const int64_t next = static_cast<int64_t>(sequence) + records;
  return static_cast<int32_t>(next %
                              (static_cast<int64_t>(std::numeric_limits<int32_t>::max()) + 1));
}

bool retriable(ErrorAction action) {
  return action == ErrorAction::kRetry || action == ErrorAction::kRefreshMetadata;
}

// Broker answers that mean the broker no longer knows where this producer's sequence stands.
bool sequenceLost(ErrorCode code) {
  return code == ErrorCode::kOutOfOrderSequenceNumber || code == ErrorCode::kUnknownProducerId ||
         code == ErrorCode::kInvalidProducerEpoch || code == ErrorCode::kInvalidProducerIdMapping;
}

}  // namespace

struct Producer::Submission {
  uint64_t serial = 0;
  std::vector<OutgoingRecord> records;  // released once every record is buffered or reported
  DeliveryHandler on_delivery;
  std::function<void()> accepted;
  size_t next = 0;        // the first record not yet buffered
  size_t unreported = 0;  // records whose outcome is not reported yet
  int64_t send_time_ms = 0;
  Clock::time_point deadline;
};

// The records of one submission in one batch: consecutive in the batch from `first` on.
struct Producer::Run {
  std::shared_ptr<Submission> submission;
  int32_t first = 0;
  std::vector<uint32_t> indices;
};

struct Producer::Batch {
  uint64_t id = 0;
  std::unique_ptr<record::RecordBatchBuilder> builder;  // while records may still be added
  std::shared_ptr<Bytes> bytes;                         // once built
  std::vector<Run> runs;
  int32_t records = 0;
  size_t memory = 0;  // counted against buffer_memory
  Clock::time_point created;
  Clock::time_point deadline;
  int attempts = 0;
  bool maybe_written = false;  // an earlier attempt may have been appended
  std::optional<Error> last_error;
  int64_t producer_id = record::kNoProducerId;
  int16_t producer_epoch = record::kNoProducerEpoch;
  int32_t base_sequence = record::kNoSequence;
  bool renumbered_while_building = false;  // the built bytes carry older numbers
};

struct Producer::PartitionState {
  PartitionState(TopicState* owner, int32_t index, const ProducerConfig& config)
      : topic(owner), partition(index), backoff(config.retry_backoff, config.retry_backoff_max) {}

  TopicState* topic;
  int32_t partition;
  std::deque<Batch> batches;  // the front may be in flight; only the back may be open
  bool in_flight = false;
  bool active = false;  // listed in active_
  Clock::time_point retry_at{};
  net::Backoff backoff;
  int32_t next_sequence = 0;
};

struct Producer::TopicState {
  std::string name;
  protocol::Uuid id;
  int32_t partition_count = 0;  // 0 until metadata names the topic's partitions
  std::optional<Error> error;   // why the last lookup failed; cleared when records are failed
  bool refresh_in_flight = false;
  Clock::time_point refresh_not_before{};
  std::vector<std::unique_ptr<PartitionState>> partitions;
};

struct Producer::FlushWaiter {
  uint64_t last_serial;  // every submission up to this one must be reported
  Clock::time_point deadline;
  std::function<void(Result<void>)> done;
};

// One Produce request awaiting its answer.
struct Producer::InFlight {
  NodeId leader = kNoNode;
  std::vector<std::pair<PartitionState*, uint64_t>> batches;  // partition, batch id
};

Result<void> Producer::validate(const ProducerConfig& config) {
  auto invalid = [](std::string message) {
    return Error{ErrorCode::kInvalidArgument, std::move(message)};
  };
  if (config.acks != Acks::kNone && config.acks != Acks::kLeader && config.acks != Acks::kAll) {
    return invalid("acks must be 0, 1 or all (-1)");
  }
  if (config.max_request_size < 1024) return invalid("max.request.size must be at least 1024");
  if (config.batch_size < 1) return invalid("batch.size must be at least 1");
  if (config.buffer_memory < config.max_request_size) {
    return invalid("buffer.memory (" + std::to_string(config.buffer_memory) +
                   ") must be at least max.request.size (" +
                   std::to_string(config.max_request_size) + ")");
  }
  if (config.max_in_flight < 1) return invalid("max.in.flight must be at least 1");
  if (config.linger.count() < 0) return invalid("linger.ms must not be negative");
  if (config.request_timeout.count() < 1) return invalid("request.timeout.ms must be positive");
  if (config.retry_backoff.count() < 1 || config.retry_backoff_max < config.retry_backoff) {
    return invalid("retry.backoff.ms must be positive and at most retry.backoff.max.ms");
  }
  if (config.delivery_timeout < config.linger + config.request_timeout) {
    return invalid("delivery.timeout.ms (" + std::to_string(config.delivery_timeout.count()) +
                   ") must be at least linger.ms + request.timeout.ms (" +
                   std::to_string((config.linger + config.request_timeout).count()) + ")");
  }
  return {};
}

std::shared_ptr<Producer> Producer::create(boost::asio::any_io_executor executor,
                                           std::shared_ptr<Cluster> cluster,
                                           ProducerConfig config) {
  return std::shared_ptr<Producer>(
      new Producer(std::move(executor), std::move(cluster), std::move(config)));
}

Producer::Producer(boost::asio::any_io_executor executor, std::shared_ptr<Cluster> cluster,
                   ProducerConfig config)
    : config_(std::move(config)),
      cluster_(std::move(cluster)),
      strand_(boost::asio::make_strand(executor)),
      wake_timer_(strand_),
      idempotent_(config_.idempotent()),
      producer_id_backoff_(config_.retry_backoff, config_.retry_backoff_max) {}

Producer::~Producer() {
  // Owners close() first; whatever is left is still reported, exactly once.
  abandonEverything(Error{ErrorCode::kShuttingDown, "the producer was destroyed"});
}

// ---------------------------------------------------------------------------------------------
// Buffering records.

void Producer::submit(std::vector<OutgoingRecord> records, DeliveryHandler on_delivery,
                      std::function<void()> accepted) {
  auto submission = std::make_shared<Submission>();
  submission->records = std::move(records);
  submission->on_delivery = std::move(on_delivery);
  submission->accepted = std::move(accepted);
  submission->unreported = submission->records.size();
  submission->send_time_ms = wallClockMs();
  submission->deadline = Clock::now() + config_.delivery_timeout;
  boost::asio::post(strand_, [self = shared_from_this(), submission] {
    submission->serial = self->next_serial_++;
    if (submission->unreported > 0) self->unfinished_.insert(submission->serial);
    self->waiting_.push_back(submission);
    // After close(), appendRecords() refuses the records at once.
    self->appendWaiting();
    self->drain();
  });
}

void Producer::appendWaiting() {
  memory_blocked_ = false;
  while (!waiting_.empty()) {
    auto submission = waiting_.front();
    if (appendRecords(submission) == AppendOutcome::kBlocked) return;
    waiting_.pop_front();
    std::vector<OutgoingRecord>().swap(submission->records);
    submission->accepted();
  }
}

Producer::AppendOutcome Producer::appendRecords(const std::shared_ptr<Submission>& submission) {
  Submission& sub = *submission;
  const auto now = Clock::now();
  TopicState* topic = nullptr;
  for (; sub.next < sub.records.size(); ++sub.next) {
    const auto index = static_cast<uint32_t>(sub.next);
    const OutgoingRecord& rec = sub.records[sub.next];
    if ((closing_ && sub.serial > close_serial_) || closed_ || fatal_) {
      failRecord(sub, index, rec.topic, kAnyPartition,
                 fatal_ ? *fatal_ : Error{ErrorCode::kShuttingDown, "the producer is closing"});
      continue;
    }
    if (now >= sub.deadline) {
      failRecord(
          sub, index, rec.topic, kAnyPartition,
          Error{ErrorCode::kDeliveryTimedOut,
                "the record for topic " + std::string(rec.topic) + " waited delivery.timeout.ms (" +
                    std::to_string(config_.delivery_timeout.count()) +
                    " ms) for buffer memory or topic metadata; it was never sent"});
      continue;
    }
    if (topic == nullptr || topic->name != rec.topic) {
      if (auto problem = topicNameProblem(rec.topic)) {
        failRecord(sub, index, rec.topic, kAnyPartition,
                   Error{ErrorCode::kInvalidTopicException, *problem});
        continue;
      }
      topic = &topicFor(rec.topic);
    }
    if (topic->partition_count == 0) {
      if (topic->error) {
        failRecord(sub, index, topic->name, kAnyPartition, *topic->error);
        continue;
      }
      lookUpTopic(*topic);
      return AppendOutcome::kBlocked;
    }

    const size_t size = record::RecordBatchBuilder::maxRecordSize(
        rec.key ? rec.key->size() : 0, rec.value ? rec.value->size() : 0, rec.headers);
    int32_t partition = rec.partition;
    const bool sticky = partition == kAnyPartition && !rec.key;
    if (partition == kAnyPartition) {
      partition = rec.key ? partitionForKey(*rec.key, topic->partition_count)
                          : sticky_.partition(topic->name, topic->partition_count);
    } else if (partition < 0 || partition >= topic->partition_count) {
      failRecord(sub, index, topic->name, partition,
                 Error{ErrorCode::kUnknownTopicOrPartition,
                       "partition " + std::to_string(partition) + " of topic " + topic->name +
                           " does not exist (the topic has " +
                           std::to_string(topic->partition_count) + " partitions)"});
      continue;
    }
    if (size + record::kBatchHeaderSize > config_.max_request_size) {
      failRecord(sub, index, topic->name, partition,
                 Error{ErrorCode::kMessageTooLarge,
                       "the record for topic " + topic->name + " is " + std::to_string(size) +
                           " bytes encoded, more than max.request.size (" +
                           std::to_string(config_.max_request_size) + " bytes)"});
      continue;
    }
    if (buffered_ > 0 && buffered_ + size > config_.buffer_memory) {
      memory_blocked_ = true;
      wakeAt(sub.deadline);
      return AppendOutcome::kBlocked;
    }

    PartitionState* state = &partitionState(*topic, partition);
    if (batchWouldOverflow(*state, size)) {
      closeOpenBatch(*state);
      // A keyless record that would start a new batch goes where the sticky partitioner has
      // moved on to (KIP-480), rather than leaving a batch of one behind.
      if (sticky) {
        partition = sticky_.partition(topic->name, topic->partition_count);
        state = &partitionState(*topic, partition);
        if (batchWouldOverflow(*state, size)) closeOpenBatch(*state);
      }
    }
    if (state->batches.empty() || !state->batches.back().builder) openBatch(*state, sub, now);
    Batch& batch = state->batches.back();
    const int64_t timestamp =
        rec.timestamp_ms == record::kNoTimestamp ? sub.send_time_ms : rec.timestamp_ms;
    auto appended = batch.builder->append(timestamp, rec.key, rec.value, rec.headers);
    if (!appended.ok()) {
      failRecord(sub, index, topic->name, partition, appended.error());
      continue;
    }
    if (batch.runs.empty() || batch.runs.back().submission != submission) {
      batch.runs.push_back(Run{submission, batch.records, {}});
    }
    batch.runs.back().indices.push_back(index);
    ++batch.records;
    batch.memory += size;
    buffered_ += size;
  }
  buffered_bytes_.store(buffered_, std::memory_order_relaxed);
  return AppendOutcome::kDone;
}

Producer::TopicState& Producer::topicFor(std::string_view name) {
  auto it = topics_.find(name);
  if (it != topics_.end()) return *it->second;
  auto topic = std::make_unique<TopicState>();
  topic->name = std::string(name);
  if (auto metadata = cluster_->metadata()) learnPartitions(*topic, *metadata);
  return *topics_.emplace(topic->name, std::move(topic)).first->second;
}

void Producer::learnPartitions(TopicState& topic, const MetadataSnapshot& metadata) {
  const TopicInfo* info = metadata.topic(topic.name);
  if (info == nullptr || info->error != ErrorCode::kNone || info->partitions.empty()) return;
  topic.id = info->id;
  // Partitions are only ever added to a topic; a smaller count is a stale answer.
  topic.partition_count =
      std::max(topic.partition_count, static_cast<int32_t>(info->partitions.size()));
}

void Producer::lookUpTopic(TopicState& topic) {
  const auto now = Clock::now();
  if (topic.refresh_in_flight) return;
  if (now < topic.refresh_not_before) return wakeAt(topic.refresh_not_before);
  topic.refresh_in_flight = true;
  topic.refresh_not_before = now + config_.retry_backoff;
  cluster_->refreshMetadata(
      {topic.name},
      boost::asio::bind_executor(
          strand_, [self = shared_from_this(), name = topic.name](Result<MetadataPtr> result) {
            self->onTopicMetadata(name, std::move(result));
          }));
}

void Producer::onTopicMetadata(const std::string& name, Result<MetadataPtr> result) {
  TopicState& topic = *topics_.at(name);
  topic.refresh_in_flight = false;
  if (result.ok()) learnPartitions(topic, **result);
  if (topic.partition_count == 0) {
    // Records wait for a topic that is being created (LEADER_NOT_AVAILABLE) or for a cluster
    // that is not reachable yet, up to their delivery timeout; other answers fail them now.
    const TopicInfo* info = result.ok() ? (*result)->topic(name) : nullptr;
    const ErrorCode code = result.ok() ? (info ? info->error : ErrorCode::kUnknownTopicOrPartition)
                                       : result.error().code;
    const bool keep_waiting = code == ErrorCode::kLeaderNotAvailable ||
                              (!result.ok() && retriable(errorAction(code))) ||
                              (info && code == ErrorCode::kNone);
    if (!keep_waiting) {
      topic.error =
          Error{code, result.ok() ? "topic " + name + " in cluster " + cluster_->name() + ": " +
                                        std::string(errorDescription(code))
                                  : "looking up topic " + name + ": " + result.error().message};
    }
    appendWaiting();
    // Later records for the topic look it up again.
    topic.error.reset();
  } else {
    appendWaiting();
  }
  drain();
}

void Producer::failRecord(Submission& submission, uint32_t index, std::string_view topic,
                          int32_t partition, Error error) {
  DeliveryReport report;
  report.topic = topic;
  report.partition = partition;
  report.error = std::move(error);
  report.indices = std::span<const uint32_t>(&index, 1);
  submission.on_delivery(report);
  finishRecords(submission, 1);
}

Producer::PartitionState& Producer::partitionState(TopicState& topic, int32_t partition) {
  if (topic.partitions.size() <= static_cast<size_t>(partition)) {
    topic.partitions.resize(static_cast<size_t>(topic.partition_count));
  }
  auto& state = topic.partitions[static_cast<size_t>(partition)];
  if (!state) state = std::make_unique<PartitionState>(&topic, partition, config_);
  return *state;
}

bool Producer::batchWouldOverflow(const PartitionState& partition, size_t record_size) const {
  if (partition.batches.empty() || !partition.batches.back().builder) return false;
  const size_t limit = std::min(config_.batch_size, config_.max_request_size);
  return partition.batches.back().builder->uncompressedSize() + record_size > limit;
}

void Producer::openBatch(PartitionState& partition, const Submission& submission,
                         Clock::time_point now) {
  Batch batch;
  batch.id = next_batch_id_++;
  if (!spare_builders_.empty()) {
    batch.builder = std::move(spare_builders_.back());
    spare_builders_.pop_back();
  } else {
    record::RecordBatchOptions options;
    options.compression = config_.compression;
    options.compression_level = config_.compression_level;
    // Builders are reused, and keep what their buffer has grown to.
    batch.builder = std::make_unique<record::RecordBatchBuilder>(
        options, std::min({config_.batch_size, config_.max_request_size, size_t{64 * 1024}}));
  }
  batch.created = now;
  batch.deadline = submission.deadline;
  partition.batches.push_back(std::move(batch));
  if (!partition.active) {
    partition.active = true;
    active_.push_back(&partition);
  }
}

void Producer::closeOpenBatch(PartitionState& partition) {
  Batch& batch = partition.batches.back();
  if (producerIdReady()) {
    batch.producer_id = producer_id_;
    batch.producer_epoch = producer_epoch_;
    batch.base_sequence = partition.next_sequence;
    partition.next_sequence = advanceSequence(partition.next_sequence, batch.records);
  }
  batch.builder->setProducerState(batch.producer_id, batch.producer_epoch, batch.base_sequence);
  sticky_.onBatchComplete(partition.topic->name, partition.partition,
                          partition.topic->partition_count);
  // Compression is most of the cost of a batch: it runs off the strand, so that batches of
  // different partitions compress on different threads while records keep being appended.
  ++builds_in_flight_;
  boost::asio::post(
      strand_.get_inner_executor(), [self = shared_from_this(), partition = &partition,
                                     id = batch.id, builder = std::move(batch.builder)]() mutable {
        auto built = builder->build();
        boost::asio::post(self->strand_, [self, partition, id, builder = std::move(builder),
                                          built = std::move(built)]() mutable {
          self->onBatchBuilt(*partition, id, std::move(builder), std::move(built));
        });
      });
}

void Producer::onBatchBuilt(PartitionState& partition, uint64_t id,
                            std::unique_ptr<record::RecordBatchBuilder> builder,
                            Result<Bytes> built) {
  --builds_in_flight_;
  if (spare_builders_.size() < kSpareBuilders) spare_builders_.push_back(std::move(builder));
  auto batch = std::find_if(partition.batches.begin(), partition.batches.end(),
                            [id](const Batch& b) { return b.id == id; });
  // Gone when close() or a delivery timeout reported it meanwhile.
  if (batch != partition.batches.end()) {
    if (built.ok()) {
      batch->bytes = std::make_shared<Bytes>(std::move(*built));
      if (batch->renumbered_while_building) {
        record::restampProducerState(*batch->bytes, batch->producer_id, batch->producer_epoch,
                                     batch->base_sequence);
      }
    } else {
      // Only a codec failure gets here; the records cannot be sent as they are.
      Error error{built.error().code,
                  describePartition(partition.topic->name, partition.partition) + ": " +
                      built.error().message};
      completeBatch(partition, static_cast<size_t>(batch - partition.batches.begin()), error, -1,
                    -1);
    }
  }
  appendWaiting();
  drain();
}

// ---------------------------------------------------------------------------------------------
// Sending batches.

void Producer::drain() {
  const auto now = Clock::now();
  if (fatal_) abandonEverything(*fatal_);
  bool can_send = true;
  if (idempotent_ && !producerIdReady()) {
    can_send = false;
    // Renumbering waits until nothing is in flight or being built: answers to batches sent
    // under the old numbers must be in first.
    if (!producer_id_requested_ && batches_in_flight_ == 0 && builds_in_flight_ == 0 &&
        !active_.empty()) {
      if (renumbering_ == Renumbering::kBumpEpoch &&
          producer_epoch_ < std::numeric_limits<int16_t>::max()) {
        bumpEpoch();
        can_send = true;
      } else if (now >= producer_id_retry_at_) {
        requestProducerId();
      } else {
        wakeAt(producer_id_retry_at_);
      }
    }
  }

  const MetadataPtr metadata = cluster_->metadata();
  std::map<NodeId, std::vector<PartitionState*>> ready;
  std::erase_if(active_, [](PartitionState* p) {
    if (!p->batches.empty() || p->in_flight) return false;
    p->active = false;
    return true;
  });
  for (PartitionState* partition : active_) {
    PartitionState& p = *partition;
    expire(p, now);
    if (p.batches.empty() || p.in_flight) continue;
    const Batch& front = p.batches.front();
    if (front.builder) {
      const bool due =
          flushing_ > 0 || closing_ || memory_blocked_ || now >= front.created + config_.linger;
      if (due) {
        closeOpenBatch(p);  // sent once built
      } else {
        wakeAt(front.created + config_.linger);
      }
      continue;
    }
    if (!front.bytes) continue;  // being built
    wakeAt(front.deadline);
    if (p.retry_at > now) {
      wakeAt(p.retry_at);
      continue;
    }
    if (!can_send) continue;
    const PartitionInfo* info =
        metadata ? metadata->partition(p.topic->name, p.partition) : nullptr;
    const NodeId leader = info ? info->leader : kNoNode;
    if (leader == kNoNode) {
      lookUpTopic(*p.topic);
      continue;
    }
    ready[leader].push_back(&p);
  }
  for (auto& [leader, partitions] : ready) sendTo(leader, partitions);
  checkFlushWaiters(now);
}

void Producer::sendTo(NodeId leader, std::vector<PartitionState*>& partitions) {
  auto connection = cluster_->connection(leader, ConnectionPurpose::kControl);
  if (!connection) {
    for (PartitionState* p : partitions) lookUpTopic(*p->topic);
    return;
  }
  size_t& in_flight = requests_in_flight_[leader];
  size_t next = 0;
  while (next < partitions.size() && in_flight < config_.max_in_flight) {
    auto sent = std::make_shared<InFlight>();
    sent->leader = leader;
    protocol::ProduceRequest request;
    request.transactional_id = std::nullopt;
    request.acks = static_cast<int16_t>(config_.acks);
    request.timeout_ms = static_cast<int32_t>(config_.request_timeout.count());
    std::map<const TopicState*, size_t> topic_index;
    size_t bytes = 0;
    for (; next < partitions.size(); ++next) {
      PartitionState& p = *partitions[next];
      Batch& batch = p.batches.front();
      if (!sent->batches.empty() && bytes + batch.bytes->size() > config_.max_request_size) break;
      auto [it, added] = topic_index.emplace(p.topic, request.topic_data.size());
      if (added) {
        auto& topic = request.topic_data.emplace_back();
        topic.name = p.topic->name;
        topic.topic_id = p.topic->id;
      }
      auto& data = request.topic_data[it->second].partition_data.emplace_back();
      data.index = p.partition;
      data.records = protocol::Records{batch.bytes, ByteView(*batch.bytes)};
      bytes += batch.bytes->size();
      ++batch.attempts;
      p.in_flight = true;
      ++batches_in_flight_;
      sent->batches.emplace_back(&p, batch.id);
    }
    ++in_flight;
    net::RequestOptions options;
    // The broker may take request_timeout to gather acks; give the answer a moment to arrive.
    options.timeout = config_.request_timeout + std::chrono::seconds(1);
    options.expect_response = config_.acks != Acks::kNone;
    connection->request<protocol::ProduceApi>(
        std::move(request), options,
        boost::asio::bind_executor(
            strand_, [self = shared_from_this(), sent](Result<protocol::ProduceResponse> result) {
              self->onProduceResponse(sent, std::move(result));
            }));
  }
}

void Producer::onProduceResponse(const std::shared_ptr<InFlight>& sent,
                                 Result<protocol::ProduceResponse> result) {
  --requests_in_flight_[sent->leader];
  for (auto [partition, batch_id] : sent->batches) {
    PartitionState& p = *partition;
    // A batch abandoned by close() or a fatal error has been reported already.
    if (!p.in_flight || p.batches.empty() || p.batches.front().id != batch_id) continue;
    p.in_flight = false;
    --batches_in_flight_;
    if (!result.ok()) {
      onBatchError(p, Error{result.error().code, describePartition(p.topic->name, p.partition) +
                                                     ": " + result.error().message});
      continue;
    }
    if (config_.acks == Acks::kNone) {
      completeBatch(p, 0, Error{}, -1, -1);
      continue;
    }
    const protocol::ProduceResponse::PartitionResponse* answer = nullptr;
    for (const auto& topic : result->responses) {
      const bool same_topic =
          topic.topic_id.isZero() ? topic.name == p.topic->name : topic.topic_id == p.topic->id;
      if (!same_topic) continue;
      for (const auto& candidate : topic.partition_responses) {
        if (candidate.index == p.partition) answer = &candidate;
      }
    }
    if (answer == nullptr) {
      onBatchError(p, Error{ErrorCode::kMalformedMessage,
                            describePartition(p.topic->name, p.partition) +
                                ": the Produce response has no answer for the partition"});
      continue;
    }
    const ErrorCode code = fromWire(answer->error_code);
    if (code == ErrorCode::kNone) {
      completeBatch(p, 0, Error{}, answer->base_offset, answer->log_append_time_ms);
    } else if (code == ErrorCode::kDuplicateSequenceNumber && idempotent_) {
      // The broker already has this batch from an earlier attempt.
      completeBatch(p, 0, Error{}, -1, -1);
    } else {
      std::string message = describePartition(p.topic->name, p.partition) + ": ";
      message +=
          answer->error_message ? *answer->error_message : std::string(errorDescription(code));
      onBatchError(p, Error{code, std::move(message)});
    }
  }
  appendWaiting();
  drain();
}

void Producer::onBatchError(PartitionState& p, Error error) {
  Batch& batch = p.batches.front();
  const ErrorInfo info = errorInfo(error.code);
  const auto now = Clock::now();
  const log::Context context{
      .cluster = cluster_->name(), .topic = p.topic->name, .partition = p.partition};
  if (idempotent_ && sequenceLost(error.code)) {
    // The broker refused the batch (so did not write it): renumber it and send it again.
    KS_LOG_IN(kWarn, "producer", context,
              error.toString() << "; renumbering the producer's batches");
    batch.last_error = error;
    renumber(error.code == ErrorCode::kOutOfOrderSequenceNumber ? Renumbering::kBumpEpoch
                                                                : Renumbering::kNewProducerId);
    p.retry_at = now + p.backoff.next();
    return;
  }
  batch.maybe_written = batch.maybe_written || info.may_have_been_written;
  batch.last_error = error;
  // A retriable error past the delivery timeout is left to expire(), which says so.
  if (retriable(info.action)) {
    p.retry_at = now + p.backoff.next();
    KS_LOG_IN(kDebug, "producer", context,
              error.toString()
                  << "; retry " << batch.attempts << " in "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(p.retry_at - now).count()
                  << " ms");
    // The leader may have moved, whether it said so or just stopped answering.
    if (info.action == ErrorAction::kRefreshMetadata || error.code == ErrorCode::kTransport ||
        error.code == ErrorCode::kRequestTimedOutLocally) {
      p.topic->refresh_not_before = {};
      lookUpTopic(*p.topic);
    }
    return;
  }
  if (batch.attempts > 1) {
    error.message += " (after " + std::to_string(batch.attempts) + " attempts)";
  }
  const bool sequenced = batch.base_sequence != record::kNoSequence;
  completeBatch(p, 0, error, -1, -1);
  // The failed batch leaves a gap in the partition's sequence numbers.
  if (sequenced) renumber(Renumbering::kBumpEpoch);
}

void Producer::completeBatch(PartitionState& p, size_t position, const Error& error,
                             int64_t base_offset, int64_t log_append_time_ms) {
  Batch batch = std::move(p.batches[position]);
  p.batches.erase(p.batches.begin() + static_cast<std::ptrdiff_t>(position));
  if (error.code == ErrorCode::kNone) p.backoff.reset();
  // Released first: whoever hears of the delivery may send again at once.
  release(batch.memory);
  for (const Run& run : batch.runs) {
    Submission& submission = *run.submission;
    DeliveryReport report;
    report.topic = p.topic->name;
    report.partition = p.partition;
    report.error = error;
    report.base_offset = base_offset >= 0 ? base_offset + run.first : -1;
    report.log_append_time_ms = log_append_time_ms;
    report.indices = run.indices;
    submission.on_delivery(report);
    finishRecords(submission, run.indices.size());
  }
}

void Producer::expire(PartitionState& p, Clock::time_point now) {
  while (!p.batches.empty() && !p.in_flight && now >= p.batches.front().deadline) {
    const Batch& batch = p.batches.front();
    std::string message = describePartition(p.topic->name, p.partition) + ": " +
                          std::to_string(batch.records) + " records had no outcome within " +
                          "delivery.timeout.ms (" +
                          std::to_string(config_.delivery_timeout.count()) + " ms); ";
    message += batch.last_error ? "the last of " + std::to_string(batch.attempts) +
                                      " attempts failed with " + batch.last_error->toString()
                                : "they were never sent";
    const bool sequenced = batch.base_sequence != record::kNoSequence;
    message += batch.maybe_written ? "; they may have been written" : "; they were not written";
    completeBatch(p, 0, Error{ErrorCode::kDeliveryTimedOut, std::move(message)}, -1, -1);
    if (sequenced) renumber(Renumbering::kBumpEpoch);
  }
}

// ---------------------------------------------------------------------------------------------
// Idempotence.

bool Producer::producerIdReady() const {
  return idempotent_ && producer_id_ != record::kNoProducerId && renumbering_ == Renumbering::kNone;
}

void Producer::renumber(Renumbering how) {
  if (idempotent_) renumbering_ = std::max(renumbering_, how);
}

void Producer::bumpEpoch() {
  // As Kafka's Java client does for idempotent producers: the broker takes a batch with a
  // higher epoch and sequence 0 as the start of a new sequence.
  ++producer_epoch_;
  renumbering_ = Renumbering::kNone;
  KS_LOG_IN(kInfo, "producer", cluster_->logContext(),
            "bumped producer " << producer_id_ << " to epoch " << producer_epoch_);
  renumberBatches();
}

void Producer::requestProducerId() {
  const MetadataPtr metadata = cluster_->metadata();
  producer_id_requested_ = true;
  if (!metadata || metadata->brokers.empty()) {
    cluster_->refreshMetadata(
        {}, boost::asio::bind_executor(strand_, [self = shared_from_this()](Result<MetadataPtr>) {
          self->producer_id_requested_ = false;
          self->producer_id_retry_at_ = Clock::now() + self->producer_id_backoff_.next();
          self->drain();
        }));
    return;
  }
  // Another broker on each attempt, so that one that is down does not hold everything up.
  auto broker = metadata->brokers.begin();
  std::advance(broker, producer_id_attempts_++ % metadata->brokers.size());
  auto connection = cluster_->connection(broker->first, ConnectionPurpose::kControl);
  if (!connection) {
    producer_id_requested_ = false;
    producer_id_retry_at_ = Clock::now() + producer_id_backoff_.next();
    return wakeAt(producer_id_retry_at_);
  }
  protocol::InitProducerIdRequest request;
  request.transactional_id = std::nullopt;
  request.transaction_timeout_ms = std::numeric_limits<int32_t>::max();
  // A new id each time, as librdkafka asks for: bumping the epoch of an id through the broker
  // (KIP-360) is for transactional producers.
  connection->request<protocol::InitProducerIdApi>(
      std::move(request),
      boost::asio::bind_executor(
          strand_, [self = shared_from_this()](Result<protocol::InitProducerIdResponse> result) {
            self->onProducerId(std::move(result));
          }));
}

void Producer::onProducerId(Result<protocol::InitProducerIdResponse> result) {
  producer_id_requested_ = false;
  Error error =
      result.ok() ? Error{fromWire(result->error_code), "InitProducerId"} : result.error();
  if (error.code == ErrorCode::kNone) {
    producer_id_ = result->producer_id;
    producer_epoch_ = result->producer_epoch;
    renumbering_ = Renumbering::kNone;
    producer_id_backoff_.reset();
    KS_LOG_IN(kInfo, "producer", cluster_->logContext(),
              "got producer id " << producer_id_ << " epoch " << producer_epoch_);
    renumberBatches();
  } else if (error.code == ErrorCode::kUnsupportedApi) {
    KS_LOG_IN(kWarn, "producer", cluster_->logContext(),
              "the brokers do not serve InitProducerId; producing without idempotence");
    idempotent_ = false;
  } else if (retriable(error.action()) || error.action() == ErrorAction::kFindCoordinator) {
    producer_id_retry_at_ = Clock::now() + producer_id_backoff_.next();
    KS_LOG_IN(kWarn, "producer", cluster_->logContext(),
              "InitProducerId failed: " << error.toString() << "; will retry");
  } else {
    fatal_ = Error{error.code, "the producer cannot get a producer id for idempotence in cluster " +
                                   cluster_->name() + " (" + error.toString() +
                                   "); idempotence can be turned off in the configuration"};
    KS_LOG_IN(kError, "producer", cluster_->logContext(), fatal_->message);
  }
  appendWaiting();
  drain();
}

void Producer::renumberBatches() {
  for (auto& [name, topic] : topics_) {
    for (auto& partition : topic->partitions) {
      if (!partition) continue;
      PartitionState& p = *partition;
      p.next_sequence = 0;
      // A batch that may already be in the log under the old numbers cannot be sent again
      // under new ones without risking a second copy: report it with the error of that attempt.
      while (!p.batches.empty() && p.batches.front().maybe_written) {
        Error error = *p.batches.front().last_error;
        error.message +=
            "; not retried after the producer's sequence numbers were reset, "
            "because the failed attempt may have written it";
        completeBatch(p, 0, error, -1, -1);
      }
      for (Batch& batch : p.batches) {
        if (batch.builder) continue;  // numbered when it is closed
        batch.producer_id = producer_id_;
        batch.producer_epoch = producer_epoch_;
        batch.base_sequence = p.next_sequence;
        p.next_sequence = advanceSequence(p.next_sequence, batch.records);
        if (!batch.bytes) {
          batch.renumbered_while_building = true;  // onBatchBuilt() restamps it
          continue;
        }
        if (batch.bytes.use_count() > 1) batch.bytes = std::make_shared<Bytes>(*batch.bytes);
        record::restampProducerState(*batch.bytes, producer_id_, producer_epoch_,
                                     batch.base_sequence);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Flush, close, bookkeeping.

void Producer::startFlush(std::chrono::milliseconds timeout,
                          std::function<void(Result<void>)> done) {
  boost::asio::post(strand_, [self = shared_from_this(), timeout, done = std::move(done)] {
    const auto deadline = Clock::now() + timeout;
    self->flush_waiters_.push_back(FlushWaiter{self->next_serial_ - 1, deadline, done});
    ++self->flushing_;
    self->wakeAt(deadline);
    self->drain();
  });
}

void Producer::startClose(std::chrono::milliseconds timeout, std::function<void()> done) {
  boost::asio::post(strand_, [self = shared_from_this(), timeout, done = std::move(done)] {
    self->closing_ = true;
    self->close_serial_ = self->next_serial_ - 1;
    const auto deadline = Clock::now() + timeout;
    self->flush_waiters_.push_back(
        FlushWaiter{self->next_serial_ - 1, deadline, [self, done](Result<void>) {
                      self->closed_ = true;
                      self->abandonEverything(Error{ErrorCode::kShuttingDown,
                                                    "the producer closed before the record had an "
                                                    "outcome; it may have been written"});
                      self->wake_timer_.cancel();
                      done();
                    }});
    ++self->flushing_;
    self->wakeAt(deadline);
    self->drain();
  });
}

void Producer::abandonEverything(const Error& error) {
  for (auto& submission : waiting_) {
    for (; submission->next < submission->records.size(); ++submission->next) {
      const OutgoingRecord& rec = submission->records[submission->next];
      failRecord(*submission, static_cast<uint32_t>(submission->next), rec.topic, kAnyPartition,
                 error);
    }
    std::vector<OutgoingRecord>().swap(submission->records);
    submission->accepted();
  }
  waiting_.clear();
  for (auto& [name, topic] : topics_) {
    for (auto& partition : topic->partitions) {
      if (!partition) continue;
      if (partition->in_flight) {
        partition->in_flight = false;
        --batches_in_flight_;
      }
      while (!partition->batches.empty()) completeBatch(*partition, 0, error, -1, -1);
    }
  }
  checkFlushWaiters(Clock::now());
}

void Producer::finishRecords(Submission& submission, size_t count) {
  submission.unreported -= count;
  if (submission.unreported == 0) unfinished_.erase(submission.serial);
}

void Producer::checkFlushWaiters(Clock::time_point now) {
  // Waiters are completed after the loop: a completion may add a waiter.
  std::vector<std::pair<std::function<void(Result<void>)>, Result<void>>> completed;
  std::erase_if(flush_waiters_, [&](FlushWaiter& waiter) {
    const bool done = unfinished_.empty() || *unfinished_.begin() > waiter.last_serial;
    if (!done && now < waiter.deadline) return false;
    Result<void> result;
    if (!done) {
      result = Error{ErrorCode::kRequestTimedOutLocally,
                     "flush: records sent before it still have no outcome"};
    }
    completed.emplace_back(std::move(waiter.done), std::move(result));
    --flushing_;
    return true;
  });
  for (auto& [done, result] : completed) done(std::move(result));
}

void Producer::wakeAt(Clock::time_point when) {
  if (closed_ || when >= wake_at_) return;
  wake_at_ = when;
  wake_timer_.expires_at(when);
  wake_timer_.async_wait(boost::asio::bind_executor(
      strand_, [weak = weak_from_this()](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self) return;
        self->wake_at_ = Clock::time_point::max();
        self->appendWaiting();
        self->drain();
      }));
}

void Producer::release(size_t bytes) {
  buffered_ -= bytes;
  buffered_bytes_.store(buffered_, std::memory_order_relaxed);
}

}  // namespace kafka::producer
