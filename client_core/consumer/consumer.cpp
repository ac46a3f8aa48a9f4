#include "client_core/consumer/consumer.hpp"

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <set>

#include "client_core/common/log.hpp"
#include "client_core/consumer/fetched_record_reader.hpp"

namespace kafka::consumer {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kComponent = "consumer";

// The least a fetch asks for, even with little room left in the buffer: brokers return at least
// one whole batch anyway, so smaller asks only cost round trips.
constexpr int32_t kMinFetchBytes = 64 * 1024;

size_t recordBytes(const record::Record& record) {
  return (record.key ? record.key->size() : 0) + (record.value ? record.value->size() : 0);
}

}  // namespace

// Forwards the group membership's calls to the consumer, which it must not keep alive.
class Consumer::MembershipEvents : public group::MembershipListener {
 public:
  explicit MembershipEvents(std::weak_ptr<Consumer> consumer) : consumer_(std::move(consumer)) {}

  void onPartitionsAssigned(const std::vector<TopicPartition>& added) override {
    if (auto consumer = consumer_.lock()) consumer->partitionsAssigned(added);
  }
  void onPartitionsRevoked(const std::vector<TopicPartition>& revoked,
                           std::function<void()> done) override {
    if (auto consumer = consumer_.lock()) return consumer->partitionsRevoked(revoked, done);
    done();
  }
  void onPartitionsLost(const std::vector<TopicPartition>& lost) override {
    if (auto consumer = consumer_.lock()) consumer->partitionsLost(lost);
  }
  void onFatalError(const Error& error) override {
    auto consumer = consumer_.lock();
    if (!consumer) return;
    if (auto listener = consumer->listener()) listener->onError(error);
  }

 private:
  std::weak_ptr<Consumer> consumer_;
};

std::shared_ptr<Consumer> Consumer::create(Strand strand, std::shared_ptr<Cluster> cluster,
                                           std::shared_ptr<Fetcher> fetcher, ConsumerConfig config,
                                           std::weak_ptr<ConsumerListener> listener) {
  std::shared_ptr<Consumer> consumer(new Consumer(std::move(strand), std::move(cluster),
                                                  std::move(fetcher), std::move(config),
                                                  std::move(listener)));
  consumer->membership_events_ = std::make_shared<MembershipEvents>(consumer);
  consumer->membership_ = group::GroupMembership::create(
      consumer->strand_, consumer->cluster_, consumer->config_.group, consumer->membership_events_);
  if (consumer->config_.auto_commit) consumer->scheduleAutoCommit();
  return consumer;
}

Consumer::Consumer(Strand strand, std::shared_ptr<Cluster> cluster,
                   std::shared_ptr<Fetcher> fetcher, ConsumerConfig config,
                   std::weak_ptr<ConsumerListener> listener)
    : strand_(std::move(strand)),
      cluster_(std::move(cluster)),
      fetcher_(std::move(fetcher)),
      config_(std::move(config)),
      listener_(std::move(listener)),
      auto_commit_timer_(strand_),
      retry_timer_(strand_) {}

Consumer::~Consumer() {
  for (auto& [partition, state] : partitions_) {
    if (state.fetching) fetcher_->cancel(*state.fetching);
  }
}

void Consumer::subscribe(group::TopicSubscription subscription) {
  if (closing_) return;
  subscribed_ = true;
  membership_->subscribe(std::move(subscription));
}

void Consumer::assign(std::vector<TopicPartition> partitions) {
  if (closing_) return;
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  std::vector<TopicPartition> removed;
  for (const auto& [partition, state] : partitions_) {
    if (!std::binary_search(partitions.begin(), partitions.end(), partition)) {
      removed.push_back(partition);
    }
  }
  std::vector<TopicPartition> added;
  for (auto& partition : partitions) {
    if (!partitions_.contains(partition)) added.push_back(std::move(partition));
  }
  if (!removed.empty()) {
    commitPartitions(removed, [](const auto&) {});
    removePartitions(removed);
  }
  if (!added.empty()) partitionsAssigned(added);
}

void Consumer::partitionsAssigned(const std::vector<TopicPartition>& added) {
  // A cooperative rebalance that moved nothing here still reports its (empty) assignment.
  if (added.empty()) return;
  addPartitions(added);
  if (auto l = listener()) l->onPartitionsAssigned(added);
  startPartitions(added);
}

void Consumer::partitionsRevoked(const std::vector<TopicPartition>& revoked,
                                 std::function<void()> done) {
  for (const auto& partition : revoked) {
    if (PartitionState* state = find(partition)) state->revoking = true;
  }
  if (auto l = listener()) l->onPartitionsRevoked(revoked);
  commitPartitions(revoked, [self = shared_from_this(), revoked, done = std::move(done)](
                                const Result<std::vector<group::PartitionResult>>& results) {
    self->reportCommit(results);
    self->removePartitions(revoked);
    done();
  });
}

void Consumer::partitionsLost(const std::vector<TopicPartition>& lost) {
  removePartitions(lost);
  if (auto l = listener()) l->onPartitionsLost(lost);
}

void Consumer::addPartitions(const std::vector<TopicPartition>& added) {
  for (const auto& partition : added) partitions_.try_emplace(partition);
}

void Consumer::removePartitions(const std::vector<TopicPartition>& removed) {
  for (const auto& partition : removed) {
    auto it = partitions_.find(partition);
    if (it == partitions_.end()) continue;
    if (it->second.fetching) fetcher_->cancel(*it->second.fetching);
    clearBuffer(it->second);
    buffered_bytes_ -= it->second.decoding_bytes;
    partitions_.erase(it);
  }
  fetchMore();
}

void Consumer::startPartitions(std::vector<TopicPartition> partitions) {
  std::vector<uint64_t> generations;
  for (const auto& partition : partitions) {
    PartitionState& state = *find(partition);
    state.phase = PartitionState::Phase::kStarting;
    state.backing_off = false;
    generations.push_back(++state.generation);
  }
  membership_->fetchCommittedOffsets(
      partitions, [self = shared_from_this(), partitions,
                   generations](Result<std::vector<group::CommittedOffset>> committed) {
        std::vector<TopicPartition> to_reset;
        for (size_t i = 0; i < partitions.size(); ++i) {
          PartitionState* state = self->find(partitions[i]);
          if (!state || state->generation != generations[i]) continue;
          // Without the committed offset the partition may not start: try again shortly.
          if (!committed.ok()) {
            self->failAndRetry(*state, committed.error());
            continue;
          }
          const group::CommittedOffset* answer = nullptr;
          for (const auto& candidate : *committed) {
            if (candidate.partition == partitions[i]) answer = &candidate;
          }
          if (!answer) {
            self->failAndRetry(
                *state, Error{ErrorCode::kMalformedMessage,
                              describePartition(partitions[i].topic, partitions[i].partition) +
                                  ": missing from the committed offsets"});
          } else if (answer->error.code != ErrorCode::kNone) {
            self->failAndRetry(*state, answer->error);
          } else if (answer->offset >= 0) {
            state->committed = answer->offset;
            self->setPosition(partitions[i], *state, answer->offset);
          } else {
            to_reset.push_back(partitions[i]);
          }
        }
        self->resetPartitions(
            to_reset, Error{ErrorCode::kNoOffsetToStartFrom, "the group has no committed offset"});
        self->fetchMore();
      });
}

void Consumer::resetPartitions(const std::vector<TopicPartition>& partitions, const Error& cause) {
  if (partitions.empty()) return;
  if (config_.offset_reset == OffsetReset::kNone) {
    for (const auto& partition : partitions) {
      if (PartitionState* state = find(partition)) {
        stopPartition(partition, *state,
                      Error{ErrorCode::kNoOffsetToStartFrom,
                            describePartition(partition.topic, partition.partition) + ": " +
                                cause.message + ", and the offset reset policy is none"});
      }
    }
    return;
  }
  lookUpStart(partitions, config_.offset_reset == OffsetReset::kEarliest ? kEarliestTimestamp
                                                                         : kLatestTimestamp);
}

// Looks up the offsets at `timestamp` for partitions that are starting, and starts them there.
void Consumer::lookUpStart(std::vector<TopicPartition> partitions, int64_t timestamp) {
  std::vector<OffsetQuery> queries;
  std::vector<uint64_t> generations;
  for (const auto& partition : partitions) {
    PartitionState* state = find(partition);
    if (!state) continue;
    state->phase = PartitionState::Phase::kStarting;
    generations.push_back(++state->generation);
    queries.push_back({partition.topic, partition.partition, timestamp});
  }
  if (queries.empty()) return;
  lookUpOffsets(strand_, cluster_, queries, config_.isolation,
                asio::bind_executor(strand_, [self = shared_from_this(), queries,
                                              generations](std::vector<OffsetAnswer> answers) {
                  for (size_t i = 0; i < answers.size(); ++i) {
                    TopicPartition partition{queries[i].topic, queries[i].partition};
                    PartitionState* state = self->find(partition);
                    if (!state || state->generation != generations[i]) continue;
                    if (answers[i].error.code != ErrorCode::kNone) {
                      self->failAndRetry(*state, answers[i].error);
                      continue;
                    }
                    self->setPosition(partition, *state, answers[i].offset);
                  }
                  self->fetchMore();
                }));
}

void Consumer::setPosition(const TopicPartition& partition, PartitionState& state, int64_t offset) {
  if (state.fetching) fetcher_->cancel(*state.fetching);
  state.fetching.reset();
  clearBuffer(state);
  ++state.generation;
  state.phase = PartitionState::Phase::kFetching;
  state.position = offset;
  state.fetch_offset = offset;
  state.end_reported = false;
  state.backing_off = false;
  state.last_error = ErrorCode::kNone;
  KS_LOG_IN(kDebug, kComponent, logContext(partition), "starts at offset " << offset);
  reportLag(partition, state);
}

void Consumer::stopPartition(const TopicPartition& partition, PartitionState& state, Error error) {
  if (state.fetching) fetcher_->cancel(*state.fetching);
  state.fetching.reset();
  state.phase = PartitionState::Phase::kStopped;
  ++state.generation;
  KS_LOG_IN(kWarn, kComponent, logContext(partition), "stopped: " << error.toString());
  state.last_error = ErrorCode::kNone;
  reportError(state, error);
}

void Consumer::clearBuffer(PartitionState& state) {
  buffered_bytes_ -= state.buffered_bytes;
  state.buffered_bytes = 0;
  state.buffered.clear();
}

void Consumer::reportError(PartitionState& state, const Error& error) {
  if (state.last_error == error.code) return;
  state.last_error = error.code;
  if (auto l = listener()) l->onError(error);
}

void Consumer::failAndRetry(PartitionState& state, const Error& error) {
  reportError(state, error);
  state.backing_off = true;
  if (retry_scheduled_ || closing_) return;
  retry_scheduled_ = true;
  retry_timer_.expires_after(config_.group.retry_backoff_max);
  retry_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!self || ec) return;
    self->retry_scheduled_ = false;
    std::vector<TopicPartition> starting;
    for (auto& [partition, waiting] : self->partitions_) {
      if (!waiting.backing_off) continue;
      waiting.backing_off = false;
      if (waiting.phase == PartitionState::Phase::kStarting) starting.push_back(partition);
    }
    if (!starting.empty()) self->startPartitions(std::move(starting));
    self->fetchMore();
  });
}

void Consumer::fetchMore() {
  if (closing_) return;
  for (auto& [partition, state] : partitions_) {
    if (buffered_bytes_ >= config_.max_buffered_bytes) return;
    if (state.phase != PartitionState::Phase::kFetching || state.paused || state.revoking ||
        state.backing_off || state.fetching || state.decoding) {
      continue;
    }
    const int32_t partition_max =
        config_.partition_max_bytes > 0 ? config_.partition_max_bytes : int32_t{1024 * 1024};
    const size_t room = config_.max_buffered_bytes - buffered_bytes_;
    FetchPosition position{.partition = partition,
                           .offset = state.fetch_offset,
                           .isolation = config_.isolation,
                           .max_bytes = static_cast<int32_t>(std::clamp<size_t>(
                               room, kMinFetchBytes, static_cast<size_t>(partition_max))),
                           .answer_when_empty = !state.end_reported && state.buffered.empty()};
    const uint64_t generation = state.generation;
    // The ticket is known only once fetch() returns; the answer comes later, on the strand.
    auto ticket = std::make_shared<Fetcher::Ticket>(0);
    *ticket = fetcher_->fetch(
        std::move(position), strand_,
        [weak = weak_from_this(), partition, generation, ticket](FetchedPartition fetched) {
          auto self = weak.lock();
          if (!self) return;
          PartitionState* wanted = self->find(partition);
          if (!wanted || wanted->generation != generation) return;
          self->onFetched(partition, *ticket, std::move(fetched));
        });
    state.fetching = *ticket;
  }
}

log::Context Consumer::logContext(const TopicPartition& partition) const {
  return {.cluster = cluster_->name(),
          .group = config_.group.group_id,
          .topic = partition.topic,
          .partition = partition.partition};
}

void Consumer::onFetched(const TopicPartition& partition, Fetcher::Ticket ticket,
                         FetchedPartition fetched) {
  PartitionState* state = find(partition);
  if (!state || state->fetching != ticket) return;
  state->fetching.reset();
  if (closing_ || fetched.error.code == ErrorCode::kShuttingDown) return;
  if (fetched.error.code == ErrorCode::kOffsetOutOfRange) {
    KS_LOG_IN(kInfo, kComponent, logContext(partition),
              fetched.error.toString() << "; resetting by the offset reset policy");
    resetPartitions({partition}, fetched.error);
    return;
  }
  if (fetched.error.code != ErrorCode::kNone) {
    failAndRetry(*state, fetched.error);
    return;
  }
  state->last_error = ErrorCode::kNone;
  state->high_watermark =
      config_.isolation == IsolationLevel::kReadCommitted && fetched.last_stable_offset >= 0
          ? fetched.last_stable_offset
          : fetched.high_watermark;
  if (!fetched.records.data.empty()) return decode(partition, *state, std::move(fetched));
  if (state->phase == PartitionState::Phase::kFetching) reportEndIfCaughtUp(partition, *state);
  reportLag(partition, *state);
  fetchMore();
}

Consumer::Decoded Consumer::decodeFetched(FetchedPartition fetched, IsolationLevel isolation,
                                          bool verify_crc) {
  Decoded decoded;
  std::shared_ptr<const void> lease = fetched.lease;
  FetchedRecordReader reader(std::move(fetched), isolation,
                             record::DecodeOptions{.verify_crc = verify_crc});
  while (true) {
    BufferedBatch entry;
    entry.lease = lease;
    Result<bool> more = reader.next(entry.batch);
    if (!more.ok()) {
      decoded.error = more.error();
      break;
    }
    if (!*more) break;
    if (entry.batch.records.empty()) continue;
    decoded.batches.push_back(std::move(entry));
  }
  decoded.next_offset = reader.nextOffset();
  return decoded;
}

void Consumer::decode(const TopicPartition& partition, PartitionState& state,
                      FetchedPartition fetched) {
  const uint64_t decode = ++decodes_;
  state.decoding = decode;
  state.decoding_bytes = fetched.records.data.size();
  buffered_bytes_ += state.decoding_bytes;
  asio::post(strand_.get_inner_executor(),
             [weak = weak_from_this(), strand = strand_, partition, decode,
              generation = state.generation, fetched = std::move(fetched),
              isolation = config_.isolation, verify_crc = config_.check_crcs]() mutable {
               asio::post(strand, [weak, partition, decode, generation,
                                   decoded = decodeFetched(std::move(fetched), isolation,
                                                           verify_crc)]() mutable {
                 if (auto self = weak.lock()) {
                   self->onDecoded(partition, decode, generation, decoded);
                 }
               });
             });
}

void Consumer::onDecoded(const TopicPartition& partition, uint64_t decode, uint64_t generation,
                         Decoded& decoded) {
  PartitionState* state = find(partition);
  if (!state || state->decoding != decode) return;  // removed (and maybe added again) meanwhile
  state->decoding.reset();
  buffered_bytes_ -= state->decoding_bytes;
  state->decoding_bytes = 0;
  if (closing_) return;
  if (state->generation == generation) {
    bufferRecords(partition, *state, decoded);
    if (state->phase == PartitionState::Phase::kFetching) reportEndIfCaughtUp(partition, *state);
    reportLag(partition, *state);
  }
  fetchMore();
}

void Consumer::bufferRecords(const TopicPartition& partition, PartitionState& state,
                             Decoded& decoded) {
  const bool was_empty = state.buffered.empty();
  for (BufferedBatch& entry : decoded.batches) {
    state.buffered_bytes += entry.batch.size_in_bytes;
    buffered_bytes_ += entry.batch.size_in_bytes;
    state.buffered.push_back(std::move(entry));
  }
  state.fetch_offset = decoded.next_offset;
  if (decoded.error) {
    // Nothing past a corrupt batch can be trusted: what came before it is delivered, and the
    // partition waits for a seek past it.
    stopPartition(partition, state, *decoded.error);
  }
  if (state.buffered.empty()) {
    // Only control records, aborted transactions or records below the position: skip them.
    state.position = std::max(state.position, state.fetch_offset);
    return;
  }
  if (was_empty && starved_) {
    starved_ = false;
    if (auto l = listener()) l->onRecordsAvailable();
  }
}

void Consumer::reportLag(const TopicPartition& partition, const PartitionState& state) {
  if (state.high_watermark < 0 || state.position < 0) return;
  if (auto l = listener()) {
    l->onLag(partition, std::max<int64_t>(0, state.high_watermark - state.position));
  }
}

void Consumer::reportEndIfCaughtUp(const TopicPartition& partition, PartitionState& state) {
  if (state.end_reported || !state.buffered.empty() || state.high_watermark < 0 ||
      state.position < state.high_watermark) {
    return;
  }
  state.end_reported = true;
  if (auto l = listener()) l->onEndOfPartition(partition, state.position);
}

size_t Consumer::take(size_t max_records, size_t max_bytes,
                      const std::function<void(const TakenRecords&)>& sink) {
  size_t taken = 0;
  size_t bytes = 0;
  std::vector<Partitions::value_type*> ready;  // with records to hand out
  for (auto& entry : partitions_) {
    const PartitionState& state = entry.second;
    if (!state.buffered.empty() && !state.paused && !state.revoking) ready.push_back(&entry);
  }
  for (size_t turn = 0; turn < ready.size() && taken < max_records; ++turn) {
    const size_t index = (next_take_ + turn) % ready.size();
    const TopicPartition& partition = ready[index]->first;
    PartitionState& state = ready[index]->second;
    while (!state.buffered.empty() && taken < max_records && (bytes < max_bytes || taken == 0)) {
      BufferedBatch& front = state.buffered.front();
      const auto& records = front.batch.records;
      size_t end = front.next_record;
      while (end < records.size() && taken < max_records && (bytes < max_bytes || taken == 0)) {
        bytes += recordBytes(records[end]);
        ++end;
        ++taken;
      }
      sink(TakenRecords{partition, front.batch,
                        std::span(records).subspan(front.next_record, end - front.next_record)});
      state.position = records[end - 1].offset + 1;
      state.end_reported = false;
      front.next_record = end;
      if (end == records.size()) {
        state.buffered_bytes -= front.batch.size_in_bytes;
        buffered_bytes_ -= front.batch.size_in_bytes;
        state.buffered.pop_front();
      }
    }
    if (state.buffered.empty()) {
      state.position = std::max(state.position, state.fetch_offset);
      reportEndIfCaughtUp(partition, state);
    }
    reportLag(partition, state);
  }
  if (!ready.empty()) next_take_ = (next_take_ + 1) % ready.size();
  starved_ = taken == 0;
  if (taken > 0) fetchMore();
  return taken;
}

void Consumer::seek(const TopicPartition& partition, SeekTarget target,
                    std::function<void(Result<int64_t>)> done) {
  PartitionState* state = find(partition);
  const std::string where = describePartition(partition.topic, partition.partition);
  if (!state || state->revoking) {
    return done(Error{ErrorCode::kInvalidArgument, where + " is not assigned to this consumer"});
  }
  if (target.kind == SeekTarget::Kind::kOffset) {
    if (target.value < 0) {
      return done(Error{ErrorCode::kInvalidArgument, where + ": cannot seek to negative offset " +
                                                         std::to_string(target.value)});
    }
    setPosition(partition, *state, target.value);
    fetchMore();
    return done(target.value);
  }
  int64_t timestamp = target.value;
  if (target.kind == SeekTarget::Kind::kBeginning) timestamp = kEarliestTimestamp;
  if (target.kind == SeekTarget::Kind::kEnd) timestamp = kLatestTimestamp;
  if (target.kind == SeekTarget::Kind::kTimestamp && timestamp < 0) {
    return done(Error{ErrorCode::kInvalidArgument,
                      where + ": cannot seek to negative timestamp " + std::to_string(timestamp)});
  }
  if (state->fetching) fetcher_->cancel(*state->fetching);
  state->fetching.reset();
  const PartitionState::Phase previous_phase = state->phase;
  state->phase = PartitionState::Phase::kStarting;
  const uint64_t generation = ++state->generation;
  std::vector<OffsetQuery> queries{{partition.topic, partition.partition, timestamp}};
  if (target.kind == SeekTarget::Kind::kTimestamp) {
    // A time after every record seeks to the end.
    queries.push_back({partition.topic, partition.partition, kLatestTimestamp});
  }
  lookUpOffsets(strand_, cluster_, std::move(queries), config_.isolation,
                asio::bind_executor(
                    strand_, [self = shared_from_this(), partition, generation, previous_phase,
                              done = std::move(done)](std::vector<OffsetAnswer> answers) {
                      PartitionState* seeking = self->find(partition);
                      if (!seeking || seeking->generation != generation) {
                        return done(Error{ErrorCode::kInvalidArgument,
                                          describePartition(partition.topic, partition.partition) +
                                              " was revoked or moved again during the seek"});
                      }
                      const OffsetAnswer* answer = &answers.front();
                      if (answer->error.code == ErrorCode::kNone && answer->offset < 0 &&
                          answers.size() > 1) {
                        answer = &answers.back();
                      }
                      if (answer->error.code != ErrorCode::kNone) {
                        // The old position (or the lack of one) still stands; a start that the
                        // seek interrupted begins again.
                        if (previous_phase == PartitionState::Phase::kStarting) {
                          self->startPartitions({partition});
                        } else {
                          seeking->phase = previous_phase;
                          self->fetchMore();
                        }
                        return done(answer->error);
                      }
                      self->setPosition(partition, *seeking, answer->offset);
                      self->fetchMore();
                      done(answer->offset);
                    }));
}

Result<void> Consumer::checkAssigned(const std::vector<TopicPartition>& partitions) const {
  for (const auto& partition : partitions) {
    if (!partitions_.contains(partition)) {
      return Error{ErrorCode::kInvalidArgument,
                   describePartition(partition.topic, partition.partition) +
                       " is not assigned to this consumer"};
    }
  }
  return {};
}

Result<void> Consumer::pause(const std::vector<TopicPartition>& partitions) {
  if (Result<void> assigned = checkAssigned(partitions); !assigned.ok()) return assigned;
  for (const auto& partition : partitions) {
    PartitionState& state = *find(partition);
    state.paused = true;
    if (state.fetching) fetcher_->cancel(*state.fetching);
    state.fetching.reset();
  }
  return {};
}

Result<void> Consumer::resume(const std::vector<TopicPartition>& partitions) {
  if (Result<void> assigned = checkAssigned(partitions); !assigned.ok()) return assigned;
  bool available = false;
  for (const auto& partition : partitions) {
    PartitionState& state = *find(partition);
    available |= state.paused && !state.buffered.empty();
    state.paused = false;
  }
  fetchMore();
  if (available && starved_) {
    starved_ = false;
    if (auto l = listener()) l->onRecordsAvailable();
  }
  return {};
}

void Consumer::markCommittable(const TopicPartition& partition, int64_t offset) {
  if (PartitionState* state = find(partition)) state->committable = offset;
}

void Consumer::commit(std::function<void(Result<std::vector<group::PartitionResult>>)> done) {
  std::vector<TopicPartition> all;
  for (const auto& [partition, state] : partitions_) all.push_back(partition);
  commitPartitions(all, std::move(done));
}

void Consumer::commitPartitions(
    const std::vector<TopicPartition>& partitions,
    std::function<void(Result<std::vector<group::PartitionResult>>)> done) {
  std::vector<group::OffsetToCommit> offsets;
  for (const auto& partition : partitions) {
    PartitionState* state = find(partition);
    if (!state || !state->committable || state->committable == state->committed) continue;
    offsets.push_back({.partition = partition,
                       .offset = *state->committable,
                       .metadata = config_.commit_metadata});
  }
  if (offsets.empty()) {
    return asio::post(strand_,
                      [done = std::move(done)] { done(std::vector<group::PartitionResult>{}); });
  }
  membership_->commitOffsets(offsets, [self = shared_from_this(), offsets, done = std::move(done)](
                                          Result<std::vector<group::PartitionResult>> results) {
    if (results.ok()) {
      for (size_t i = 0; i < results->size() && i < offsets.size(); ++i) {
        if ((*results)[i].error.code != ErrorCode::kNone) continue;
        if (PartitionState* state = self->find(offsets[i].partition)) {
          state->committed = offsets[i].offset;
        }
      }
    }
    done(std::move(results));
  });
}

void Consumer::committed(std::vector<TopicPartition> partitions,
                         std::function<void(Result<std::vector<group::CommittedOffset>>)> done) {
  membership_->fetchCommittedOffsets(std::move(partitions), std::move(done));
}

void Consumer::scheduleAutoCommit() {
  auto_commit_timer_.expires_after(config_.auto_commit_interval);
  auto_commit_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!self || ec || self->closing_) return;
    self->commit([weak](const Result<std::vector<group::PartitionResult>>& results) {
      auto consumer = weak.lock();
      if (!consumer) return;
      consumer->reportCommit(results);
      if (!consumer->closing_) consumer->scheduleAutoCommit();
    });
  });
}

std::optional<int64_t> Consumer::position(const TopicPartition& partition) const {
  auto it = partitions_.find(partition);
  if (it == partitions_.end() || it->second.position < 0) return std::nullopt;
  return it->second.position;
}

std::vector<TopicPartition> Consumer::assignment() const {
  std::vector<TopicPartition> out;
  for (const auto& [partition, state] : partitions_) out.push_back(partition);
  return out;
}

void Consumer::close(std::function<void()> done) {
  if (closing_) return asio::post(strand_, std::move(done));
  closing_ = true;
  auto_commit_timer_.cancel();
  retry_timer_.cancel();
  auto finish = [self = shared_from_this(), done = std::move(done)] {
    for (auto& [partition, state] : self->partitions_) {
      if (state.fetching) self->fetcher_->cancel(*state.fetching);
      state.fetching.reset();
      self->clearBuffer(state);
    }
    done();
  };
  if (subscribed_) return membership_->leave(std::move(finish));
  // Without a group, what leave() does for a member is done here: tell, then commit.
  if (auto l = listener(); l && !partitions_.empty()) l->onPartitionsRevoked(assignment());
  commit([self = shared_from_this(),
          finish = std::move(finish)](const Result<std::vector<group::PartitionResult>>& results) {
    self->reportCommit(results);
    finish();
  });
}

void Consumer::reportCommit(const Result<std::vector<group::PartitionResult>>& results) {
  if (results.ok() && results->empty()) return;
  if (auto l = listener()) l->onCommitted(results);
}

Consumer::PartitionState* Consumer::find(const TopicPartition& partition) {
  auto it = partitions_.find(partition);
  return it == partitions_.end() ? nullptr : &it->second;
}

}  // namespace kafka::consumer
