#include "server/consumer_session.hpp"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <limits>
#include <utility>

#include "client_core/common/log.hpp"
#include "client_core/group/assignor.hpp"
#include "client_core/group/consumer_protocol.hpp"
#include "server/service_status.hpp"

namespace kafka::sidecar {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kComponent = "consumer-session";

// Keys and values one take() hands a stream: about what one write carries.
constexpr size_t kTakeBytes = 1024 * 1024;

grpc::Status invalid(std::string message) {
  return {grpc::StatusCode::INVALID_ARGUMENT, std::move(message)};
}

grpc::Status notAssigned(std::string_view what, const TopicPartition& partition) {
  return {grpc::StatusCode::FAILED_PRECONDITION,
          std::string(what) + " " + describePartition(partition.topic, partition.partition) +
              ": the partition is not assigned to this session (revoked, lost or never "
              "assigned)"};
}

void fillPartitions(const std::vector<TopicPartition>& partitions, v1::TopicPartitionsEvent& out) {
  for (const group::TopicPartitions& topic : group::groupByTopic(partitions)) {
    v1::TopicPartitions* entry = out.add_partitions();
    entry->set_topic(topic.topic);
    entry->mutable_partitions()->Add(topic.partitions.begin(), topic.partitions.end());
  }
}

// One field's value as text: "unset", a value, or "[a, b]" for a repeated field.
std::string fieldText(const google::protobuf::Message& message,
                      const google::protobuf::FieldDescriptor* field) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::string out;
  if (field->is_repeated()) {
    out = "[";
    for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
      std::string value;
      google::protobuf::TextFormat::PrintFieldValueToString(message, field, i, &value);
      out += (i > 0 ? ", " : "") + value;
    }
    return out + "]";
  }
  if (field->has_presence() && !reflection->HasField(message, field)) return "unset";
  google::protobuf::TextFormat::PrintFieldValueToString(message, field, -1, &out);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The spec

grpc::Status resolveSpec(const v1::SessionSpec& in, const std::string& cluster_name,
                         const ConsumerSessionConfig& defaults, ResolvedSpec& out) {
  out = ResolvedSpec{};
  v1::SessionSpec& spec = out.spec;
  spec = in;
  spec.set_cluster(cluster_name);
  consumer::ConsumerConfig& config = out.config;

  if (in.group().empty()) {
    return invalid(
        "spec.group is empty: every session needs a consumer group, also one that reads an "
        "assignment (for its offsets)");
  }
  config.group.group_id = in.group();

  std::vector<std::string> chosen;
  if (in.topics_size() > 0) chosen.emplace_back("topics");
  if (!in.topic_pattern().empty()) chosen.emplace_back("topic_pattern");
  if (in.assignment_size() > 0) chosen.emplace_back("assignment");
  if (chosen.size() != 1) {
    std::string which =
        chosen.empty() ? "none is set" : chosen[0] + " and " + chosen[1] + " are set";
    return invalid("spec: set exactly one of topics, topic_pattern and assignment (" + which + ")");
  }

  if (in.topics_size() > 0) {
    group::TopicSubscription subscription;
    subscription.topics.assign(in.topics().begin(), in.topics().end());
    std::sort(subscription.topics.begin(), subscription.topics.end());
    subscription.topics.erase(std::unique(subscription.topics.begin(), subscription.topics.end()),
                              subscription.topics.end());
    if (Result<void> valid = group::validate(subscription); !valid.ok()) {
      return invalid("spec.topics: " + valid.error().message);
    }
    spec.clear_topics();
    for (const std::string& topic : subscription.topics) spec.add_topics(topic);
    out.subscription = std::move(subscription);
  } else if (!in.topic_pattern().empty()) {
    group::TopicSubscription subscription;
    subscription.pattern = in.topic_pattern();
    if (Result<void> valid = group::validate(subscription); !valid.ok()) {
      return invalid("spec.topic_pattern: " + valid.error().message);
    }
    out.subscription = std::move(subscription);
  } else {
    for (int i = 0; i < in.assignment_size(); ++i) {
      const v1::TopicPartitions& entry = in.assignment(i);
      const std::string field = "spec.assignment[" + std::to_string(i) + "]";
      if (Result<void> valid = group::validate(group::TopicSubscription{{entry.topic()}, {}});
          !valid.ok()) {
        return invalid(field + ": " + valid.error().message);
      }
      if (entry.partitions_size() == 0) {
        return invalid(field + ": topic '" + entry.topic() + "' lists no partitions");
      }
      for (int32_t partition : entry.partitions()) {
        if (partition < 0) {
          return invalid(field + ": partition " + std::to_string(partition) + " of topic '" +
                         entry.topic() + "' is negative");
        }
        out.assignment.push_back({entry.topic(), partition});
      }
    }
    std::sort(out.assignment.begin(), out.assignment.end());
    out.assignment.erase(std::unique(out.assignment.begin(), out.assignment.end()),
                         out.assignment.end());
    spec.clear_assignment();
    for (const group::TopicPartitions& topic : group::groupByTopic(out.assignment)) {
      v1::TopicPartitions* entry = spec.add_assignment();
      entry->set_topic(topic.topic);
      entry->mutable_partitions()->Add(topic.partitions.begin(), topic.partitions.end());
    }
  }

  if (in.assignors_size() > 0) {
    config.group.assignors.clear();
    for (int i = 0; i < in.assignors_size(); ++i) {
      if (!group::makeAssignor(in.assignors(i))) {
        return invalid("spec.assignors[" + std::to_string(i) + "]: unknown assignor '" +
                       in.assignors(i) + "' (expected range, roundrobin or cooperative-sticky)");
      }
      config.group.assignors.push_back(in.assignors(i));
    }
  }
  spec.clear_assignors();
  for (const std::string& name : config.group.assignors) spec.add_assignors(name);

  if (in.has_group_instance_id()) {
    if (in.group_instance_id().empty()) {
      return invalid(
          "spec.group_instance_id is set but empty; leave it unset for a dynamic member");
    }
    config.group.group_instance_id = in.group_instance_id();
  }

  config.check_crcs = defaults.check_crcs;
  config.max_buffered_bytes = defaults.max_buffered_bytes;
  config.partition_max_bytes = defaults.fetch.partition_max_bytes;
  switch (in.offset_reset()) {
    case v1::OFFSET_RESET_UNSPECIFIED:
      config.offset_reset = defaults.offset_reset;
      break;
    case v1::OFFSET_RESET_EARLIEST:
      config.offset_reset = consumer::OffsetReset::kEarliest;
      break;
    case v1::OFFSET_RESET_LATEST:
      config.offset_reset = consumer::OffsetReset::kLatest;
      break;
    case v1::OFFSET_RESET_NONE:
      config.offset_reset = consumer::OffsetReset::kNone;
      break;
    default:
      return invalid("spec.offset_reset: unknown value " + std::to_string(in.offset_reset()) +
                     " (expected OFFSET_RESET_EARLIEST, _LATEST or _NONE)");
  }
  constexpr v1::OffsetReset kResetNames[] = {v1::OFFSET_RESET_EARLIEST, v1::OFFSET_RESET_LATEST,
                                             v1::OFFSET_RESET_NONE};
  spec.set_offset_reset(kResetNames[static_cast<int>(config.offset_reset)]);

  switch (in.ack_mode()) {
    case v1::ACK_MODE_UNSPECIFIED:
    case v1::ACK_MODE_MANUAL:
      spec.set_ack_mode(v1::ACK_MODE_MANUAL);
      break;
    case v1::ACK_MODE_AUTO:
      out.auto_ack = true;
      break;
    default:
      return invalid("spec.ack_mode: unknown value " + std::to_string(in.ack_mode()) +
                     " (expected ACK_MODE_MANUAL or ACK_MODE_AUTO)");
  }

  switch (in.isolation_level()) {
    case v1::ISOLATION_LEVEL_UNSPECIFIED:
    case v1::ISOLATION_LEVEL_READ_UNCOMMITTED:
      spec.set_isolation_level(v1::ISOLATION_LEVEL_READ_UNCOMMITTED);
      break;
    case v1::ISOLATION_LEVEL_READ_COMMITTED:
      config.isolation = consumer::IsolationLevel::kReadCommitted;
      break;
    default:
      return invalid("spec.isolation_level: unknown value " + std::to_string(in.isolation_level()) +
                     " (expected ISOLATION_LEVEL_READ_UNCOMMITTED or _READ_COMMITTED)");
  }

  if (in.has_max_unacked_records() &&
      (in.max_unacked_records() < 1 || in.max_unacked_records() > kMaxMaxUnackedRecords)) {
    return invalid("spec.max_unacked_records: " + std::to_string(in.max_unacked_records()) +
                   " is not from 1 to " + std::to_string(kMaxMaxUnackedRecords));
  }
  out.max_unacked =
      in.has_max_unacked_records() ? in.max_unacked_records() : kDefaultMaxUnackedRecords;
  config.commit_metadata = in.commit_metadata();
  spec.set_max_unacked_records(static_cast<uint32_t>(out.max_unacked));

  // Durations: at least 1 ms when set.
  struct Duration {
    std::string_view field;
    bool set;
    uint32_t value;
    std::chrono::milliseconds fallback;
    std::chrono::milliseconds& target;
  };
  const Duration durations[] = {
      {"ack_timeout_ms", in.has_ack_timeout_ms(), in.ack_timeout_ms(), kDefaultAckTimeout,
       out.ack_timeout},
      {"idle_ttl_ms", in.has_idle_ttl_ms(), in.idle_ttl_ms(), defaults.idle_ttl, out.idle_ttl},
      {"session_timeout_ms", in.has_session_timeout_ms(), in.session_timeout_ms(),
       config.group.session_timeout, config.group.session_timeout},
      {"auto_commit_interval_ms", in.has_auto_commit_interval_ms(), in.auto_commit_interval_ms(),
       config.auto_commit_interval, config.auto_commit_interval}};
  for (const Duration& duration : durations) {
    if (duration.set && duration.value == 0) {
      return invalid("spec." + std::string(duration.field) + " is 0; it must be at least 1");
    }
    duration.target = duration.set ? std::chrono::milliseconds(duration.value) : duration.fallback;
  }
  spec.set_ack_timeout_ms(static_cast<uint32_t>(out.ack_timeout.count()));
  spec.set_idle_ttl_ms(static_cast<uint32_t>(out.idle_ttl.count()));
  spec.set_session_timeout_ms(static_cast<uint32_t>(config.group.session_timeout.count()));
  spec.set_auto_commit_interval_ms(static_cast<uint32_t>(config.auto_commit_interval.count()));
  // Heartbeats a third of the session timeout apart at most, as Kafka's clients advise.
  config.group.heartbeat_interval =
      std::min(config.group.heartbeat_interval, config.group.session_timeout / 3);
  if (Result<void> valid = group::validate(config.group); !valid.ok()) {
    return invalid("spec: " + valid.error().message);
  }
  return grpc::Status::OK;
}

std::string specDifference(const v1::SessionSpec& open, const v1::SessionSpec& wanted) {
  const google::protobuf::Descriptor* descriptor = v1::SessionSpec::descriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    std::string was = fieldText(open, field);
    std::string now = fieldText(wanted, field);
    if (was != now) {
      return "spec." + field->name() + " is " + now + " here, but " + was + " in the open session";
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Life cycle

std::shared_ptr<ConsumerSession> ConsumerSession::create(boost::asio::any_io_executor executor,
                                                         std::string id,
                                                         std::shared_ptr<Cluster> cluster,
                                                         std::shared_ptr<consumer::Fetcher> fetcher,
                                                         ResolvedSpec resolved, Hooks hooks,
                                                         Metrics::SessionCounters counters) {
  std::shared_ptr<ConsumerSession> session(new ConsumerSession(
      std::move(executor), std::move(id), std::move(resolved), std::move(hooks), counters));
  session->consumer_ = consumer::Consumer::create(
      session->strand_, std::move(cluster), std::move(fetcher), session->resolved_.config,
      std::weak_ptr<consumer::ConsumerListener>(session));
  return session;
}

ConsumerSession::ConsumerSession(boost::asio::any_io_executor executor, std::string id,
                                 ResolvedSpec resolved, Hooks hooks,
                                 Metrics::SessionCounters counters)
    : id_(std::move(id)),
      resolved_(std::move(resolved)),
      hooks_(std::move(hooks)),
      counters_(counters),
      strand_(asio::make_strand(std::move(executor))),
      ack_timer_(strand_),
      idle_timer_(strand_) {
  receivers_[kPollReceiver] = Receiver{};
}

ConsumerSession::~ConsumerSession() = default;

void ConsumerSession::start(bool polling) {
  asio::post(strand_, [self = shared_from_this(), polling] {
    if (self->state_ != State::kOpen) return;
    self->polling_ = polling;
    KS_LOG_IN(kInfo, kComponent, self->logContext(),
              "session opened: name '" << self->spec().name() << "'");
    if (self->resolved_.subscription) {
      self->consumer_->subscribe(*self->resolved_.subscription);
    } else {
      self->consumer_->assign(self->resolved_.assignment);
    }
    self->refreshIdle();
  });
}

bool ConsumerSession::attach(std::shared_ptr<SessionOutlet> outlet) {
  if (state_ != State::kOpen) return false;
  const uint64_t id = next_receiver_++;
  SessionOutlet* key = outlet.get();
  receivers_[id] = Receiver{std::move(outlet), 0};
  receiver_ids_[key] = id;
  if (!partitions_.empty()) {
    std::vector<TopicPartition> owned;
    for (const auto& [partition, state] : partitions_) owned.push_back(partition);
    v1::ConsumerEvent event;
    fillPartitions(owned, *event.mutable_assigned());
    key->sendEvent(event);
  }
  refreshIdle();
  pump();
  return true;
}

void ConsumerSession::detach(SessionOutlet* outlet) {
  auto found = receiver_ids_.find(outlet);
  if (found == receiver_ids_.end()) return;
  const uint64_t id = found->second;
  receiver_ids_.erase(found);
  for (auto& [partition, state] : partitions_) {
    state.unacked.visit([&](int64_t /*offset*/, Unacked& entry) {
      if (entry.holder == id) {
        release(entry);
        ++state.waiting;
      }
      return true;
    });
  }
  receivers_.erase(id);
  refreshIdle();
  pump();
}

void ConsumerSession::touch(bool polling) {
  polling_ = polling_ || polling;
  refreshIdle();
}

void ConsumerSession::refreshIdle() {
  if (state_ != State::kOpen) return;
  const uint64_t generation = ++idle_generation_;
  if (!receiver_ids_.empty() || !waiters_.empty()) {
    idle_timer_.cancel();
    return;
  }
  idle_timer_.expires_after(resolved_.idle_ttl);
  idle_timer_.async_wait([weak = weak_from_this(), generation](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!self || ec || generation != self->idle_generation_) return;
    KS_LOG_IN(kInfo, kComponent, self->logContext(),
              "session not used for " << self->resolved_.idle_ttl.count() << " ms: closing it");
    self->close(CloseReason::kIdle, nullptr, nullptr);
  });
}

void ConsumerSession::close(CloseReason reason, SessionOutlet* requester, CloseDone done) {
  if (state_ == State::kClosed) {
    if (done) {
      std::vector<v1::PartitionCommit> commits;
      for (const auto& [partition, commit] : final_commit_) commits.push_back(commit);
      done(std::move(commits));
    }
    return;
  }
  if (done) close_waiters_.push_back(std::move(done));
  if (state_ == State::kClosing) return;
  state_ = State::kClosing;
  close_reason_ = reason;
  closer_ = requester;
  ++idle_generation_;
  idle_timer_.cancel();
  ack_timer_.cancel();
  if (hooks_.closing) hooks_.closing(*this);
  // Commit first, so that the final outcome is known even for partitions the close itself has
  // nothing more to commit for.
  consumer_->commit(
      [self = shared_from_this()](const Result<std::vector<group::PartitionResult>>& results) {
        self->onCommitted(results);
        self->consumer_->close([self] { self->finishClose(); });
      });
}

void ConsumerSession::onLag(const TopicPartition& partition, int64_t lag) {
  // A partition being given up may still report; its series is gone with it.
  if (state_ == State::kClosed || !find(partition)) return;
  auto [last, added] = lag_.try_emplace(partition, lag);
  if (!added && last->second == lag) return;
  last->second = lag;
  counters_.lag.set(partition.topic, partition.partition, lag);
}

void ConsumerSession::forgetLag(const TopicPartition& partition) {
  if (lag_.erase(partition) > 0) counters_.lag.remove(partition.topic, partition.partition);
}

void ConsumerSession::finishClose() {
  state_ = State::kClosed;
  for (const auto& [partition, lag] : lag_) {
    counters_.lag.remove(partition.topic, partition.partition);
  }
  lag_.clear();
  grpc::Status others;
  switch (close_reason_) {
    case CloseReason::kShutdown:
      others = {grpc::StatusCode::UNAVAILABLE, "the sidecar is shutting down; session " + id_ +
                                                   " was closed and what was acked committed"};
      break;
    case CloseReason::kFatal:
      others = {grpc::StatusCode::ABORTED,
                "session " + id_ + " ended after an error it cannot survive: " + fatal_error_};
      break;
    case CloseReason::kRequested:
    case CloseReason::kIdle:
      others = {grpc::StatusCode::ABORTED, "session " + id_ + " was closed by another call"};
      break;
  }
  std::map<uint64_t, Receiver> receivers = std::move(receivers_);
  receivers_.clear();
  receivers_[kPollReceiver] = Receiver{};
  receiver_ids_.clear();
  for (auto& [id, receiver] : receivers) {
    if (receiver.outlet) {
      receiver.outlet->end(receiver.outlet.get() == closer_ ? grpc::Status::OK : others);
    }
  }
  closer_ = nullptr;
  const grpc::Status poll_status =
      close_reason_ == CloseReason::kShutdown ? others : grpc::Status::OK;
  while (!waiters_.empty()) completeWaiter(waiters_.begin(), poll_status);
  leases_.clear();
  partitions_.clear();
  KS_LOG_IN(kInfo, kComponent, logContext(), "session closed");
  std::vector<v1::PartitionCommit> commits;
  for (const auto& [partition, commit] : final_commit_) commits.push_back(commit);
  for (CloseDone& done : std::exchange(close_waiters_, {})) done(commits);
  if (hooks_.closed) hooks_.closed();
}

// ---------------------------------------------------------------------------------------------
// Delivery

ConsumerSession::PartitionState* ConsumerSession::find(const TopicPartition& partition) {
  auto found = partitions_.find(partition);
  return found == partitions_.end() ? nullptr : &found->second;
}

size_t ConsumerSession::creditOf(uint64_t receiver) const {
  auto found = receivers_.find(receiver);
  if (found == receivers_.end()) return 0;
  return resolved_.max_unacked > found->second.unacked
             ? resolved_.max_unacked - found->second.unacked
             : 0;
}

bool ConsumerSession::anyRedeliverable() const {
  return std::any_of(partitions_.begin(), partitions_.end(), [](const auto& entry) {
    return !entry.second.paused && entry.second.waiting > 0;
  });
}

void ConsumerSession::pump() {
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  trimLeases();
  do {
    pump_again_ = false;
    if (state_ != State::kOpen) break;
    servePolls();
    deliverToStreams();
  } while (pump_again_);
  pumping_ = false;
}

void ConsumerSession::deliverToStreams() {
  std::vector<uint64_t> order;
  for (const auto& [id, receiver] : receivers_) {
    if (receiver.outlet) order.push_back(id);
  }
  if (order.empty()) return;
  std::rotate(order.begin(), order.begin() + static_cast<long>(rotation_++ % order.size()),
              order.end());
  // Records to deliver again go first, and new ones only once none are left.
  for (uint64_t id : order) {
    if (size_t credit = creditOf(id)) redeliverTo(id, credit, kTakeBytes);
  }
  for (uint64_t id : order) {
    while (size_t credit = creditOf(id)) {
      if (!consumer_may_have_records_ || takeInto(id, credit, kTakeBytes) == 0) return;
    }
  }
}

void ConsumerSession::servePolls() {
  while (!waiters_.empty()) {
    auto waiter = waiters_.begin();
    auto events_waiting = [this] { return !poll_events_.empty() || poll_events_dropped_ > 0; };
    size_t credit = std::min(creditOf(kPollReceiver), waiter->limits.max_records);
    if (!waiter->claimed) {
      const bool records_likely = credit > 0 && (anyRedeliverable() || consumer_may_have_records_);
      if (!events_waiting() && !records_likely) return;
      if (!waiter->finisher->claim()) {
        // Cancelled: nothing was given to it.
        waiter->timer->cancel();
        waiters_.erase(waiter);
        refreshIdle();
        continue;
      }
      waiter->claimed = true;
    }
    if (credit > 0) credit -= redeliverTo(kPollReceiver, credit, waiter->limits.max_bytes);
    while (credit > 0 && consumer_may_have_records_ &&
           (waiter->records == 0 || waiter->bytes < waiter->limits.max_bytes)) {
      const size_t room =
          waiter->limits.max_bytes > waiter->bytes ? waiter->limits.max_bytes - waiter->bytes : 0;
      const size_t taken = takeInto(kPollReceiver, credit, room);
      if (taken == 0) break;
      credit -= taken;
    }
    if (waiter->records == 0 && !events_waiting()) return;
    completeWaiter(waiter, grpc::Status::OK);
  }
}

size_t ConsumerSession::redeliverTo(uint64_t receiver, size_t credit, size_t max_bytes) {
  size_t given = 0;
  size_t bytes = 0;
  for (auto& [partition, state] : partitions_) {
    if (given >= credit || (given > 0 && bytes >= max_bytes)) break;
    if (state.paused || state.waiting == 0) continue;
    std::vector<EncodedRecord> out;
    Lease* held = nullptr;
    state.unacked.visit([&](int64_t offset, Unacked& entry) {
      if (state.waiting == 0 || given >= credit || (given > 0 && bytes >= max_bytes)) return false;
      if (entry.holder != kNobody) return true;
      if (!held) held = &lease(state, offset);
      --state.waiting;
      hold(entry, *held, receiver);
      out.push_back(entry.record);
      bytes += entry.record.payload_bytes;
      ++given;
      return true;
    });
    send(receiver, partition, std::move(out));
  }
  if (given > 0) counters_.redelivered.Increment(static_cast<double>(given));
  return given;
}

size_t ConsumerSession::takeInto(uint64_t receiver, size_t max_records, size_t max_bytes) {
  std::vector<PartitionState*> touched;
  const size_t taken =
      consumer_->take(max_records, max_bytes, [&](const consumer::TakenRecords& run) {
        PartitionState* state = find(run.partition);
        if (!state || run.records.empty()) return;
        if (!state->tracker) {
          // The position is where the consumer started (or the first record, once moved past
          // it): the tracker starts at the lower, so that nothing unacked is committed past.
          const int64_t first = run.records.front().offset;
          std::optional<int64_t> position = consumer_->position(run.partition);
          state->tracker.emplace(position ? std::min(*position, first) : first);
        }
        std::vector<EncodedRecord> out;
        out.reserve(run.records.size());
        Lease* held = nullptr;
        for (const record::Record& record : run.records) {
          if (!state->tracker->delivered(record.offset).ok()) {
            // The consumer moved back by itself (an offset reset): start the partition over.
            KS_LOG_IN(kInfo, kComponent, logContext(&run.partition),
                      "the partition went back to offset " << record.offset
                                                           << "; its unacked records are dropped");
            restartPartition(*state, record.offset);
            out.clear();
            held = nullptr;
            if (!state->tracker->delivered(record.offset).ok()) continue;
          }
          if (!held) held = &lease(*state, record.offset);
          Unacked& entry = state->unacked.push(record.offset);
          entry.record = encodeRecord(run.batch, record);
          hold(entry, *held, receiver);
          out.push_back(entry.record);
        }
        touched.push_back(state);
        if (!out.empty()) counters_.delivered.Increment(static_cast<double>(out.size()));
        send(receiver, run.partition, std::move(out));
      });
  if (taken == 0) consumer_may_have_records_ = false;
  for (PartitionState* state : touched) {
    // Records the consumer skipped (transaction markers, aborted records) are not waited for.
    if (std::optional<int64_t> position = consumer_->position(state->partition)) {
      state->tracker->skippedTo(*position);
    }
    markCommittable(*state);
  }
  return taken;
}

void ConsumerSession::send(uint64_t receiver, const TopicPartition& partition,
                           std::vector<EncodedRecord> records) {
  if (records.empty()) return;
  if (receiver != kPollReceiver) {
    auto found = receivers_.find(receiver);
    if (found != receivers_.end()) found->second.outlet->sendRecords(partition, std::move(records));
    return;
  }
  PollWaiter& waiter = waiters_.front();
  auto& out = *waiter.response->mutable_records();
  if (out.empty() || out.rbegin()->topic() != partition.topic ||
      out.rbegin()->partition() != partition.partition) {
    v1::PartitionRecords& entry = *out.Add();
    entry.set_topic(partition.topic);
    entry.set_partition(partition.partition);
  }
  for (const EncodedRecord& record : records) {
    appendDecoded(record, *out.rbegin());
    waiter.bytes += record.payload_bytes;
  }
  waiter.records += records.size();
}

ConsumerSession::Lease& ConsumerSession::lease(PartitionState& state, int64_t first) {
  Lease& added = leases_.emplace_back();
  added.id = next_lease_++;
  added.deadline = Clock::now() + resolved_.ack_timeout;
  added.state = &state;
  added.first = first;
  added.last = first;
  armAckTimer();
  return added;
}

void ConsumerSession::hold(Unacked& entry, Lease& lease, uint64_t receiver) {
  entry.holder = receiver;
  entry.lease = lease.id;
  lease.last = entry.record.offset;
  ++lease.held;
  if (auto found = receivers_.find(receiver); found != receivers_.end()) ++found->second.unacked;
}

void ConsumerSession::release(Unacked& entry) {
  if (entry.holder == kNobody) return;
  if (auto found = receivers_.find(entry.holder); found != receivers_.end()) {
    --found->second.unacked;
  }
  // Every held record's lease is still queued: leases go only once they hold nothing.
  --leases_[entry.lease - leases_.front().id].held;
  entry.holder = kNobody;
  entry.lease = 0;
}

void ConsumerSession::trimLeases() {
  while (!leases_.empty() && leases_.front().held == 0) leases_.pop_front();
}

void ConsumerSession::dropRecords(PartitionState& state) {
  state.unacked.visit([this](int64_t /*offset*/, Unacked& entry) {
    release(entry);
    return true;
  });
  state.unacked.clear();
  state.waiting = 0;
  for (auto& [id, receiver] : receivers_) {
    if (receiver.outlet) receiver.outlet->withdraw(state.partition, [](int64_t) { return true; });
  }
}

void ConsumerSession::restartPartition(PartitionState& state, int64_t offset) {
  dropRecords(state);
  state.tracker.emplace(offset);
  markCommittable(state);
}

void ConsumerSession::markCommittable(PartitionState& state) {
  if (!state.tracker) return;
  const int64_t offset = state.tracker->committable();
  auto [marked, inserted] = marked_.try_emplace(state.partition, offset);
  if (!inserted && marked->second == offset) return;
  marked->second = offset;
  consumer_->markCommittable(state.partition, offset);
}

Result<void> ConsumerSession::applyAck(PartitionState& state, int64_t offset) {
  if (!state.tracker) {
    return Error{ErrorCode::kInvalidArgument,
                 "offset " + std::to_string(offset) + " was never delivered"};
  }
  if (Result<void> acked = state.tracker->ack(offset); !acked.ok()) return acked;
  Unacked* entry = state.unacked.find(offset);
  if (!entry) return {};
  if (entry->holder == kNobody) --state.waiting;
  release(*entry);
  state.unacked.remove(offset);
  counters_.acked.Increment();
  return {};
}

grpc::Status ConsumerSession::ack(
    const google::protobuf::RepeatedPtrField<v1::PartitionOffsets>& partitions) {
  grpc::Status first;
  for (const v1::PartitionOffsets& acked : partitions) {
    const TopicPartition partition{acked.topic(), acked.partition()};
    PartitionState* state = find(partition);
    if (!state) {
      if (first.ok() && acked.offsets_size() > 0) {
        first = notAssigned("ack of offset " + std::to_string(acked.offsets(0)) + " of", partition);
      }
      continue;
    }
    for (int64_t offset : acked.offsets()) {
      Result<void> applied = applyAck(*state, offset);
      if (!applied.ok() && first.ok()) {
        first = invalid("ack of " + describePartition(partition.topic, partition.partition) + ": " +
                        applied.error().message);
      }
    }
    markCommittable(*state);
  }
  pump();
  return first;
}

void ConsumerSession::written(SessionOutlet* /*outlet*/, const TopicPartition& partition,
                              std::span<const EncodedRecord> records) {
  if (!resolved_.auto_ack) return;
  PartitionState* state = find(partition);
  if (!state) return;
  for (const EncodedRecord& record : records) {
    // A record dropped meanwhile (a seek) is not acked in its new life.
    if (state->unacked.find(record.offset)) {
      (void)applyAck(*state, record.offset);
    }
  }
  markCommittable(*state);
  pump();
}

// ---------------------------------------------------------------------------------------------
// Requests

void ConsumerSession::commit(CommitDone done) {
  if (state_ != State::kOpen) {
    if (done) done({grpc::StatusCode::NOT_FOUND, "session " + id_ + " is closing"}, {});
    return;
  }
  consumer_->commit([self = shared_from_this(), done = std::move(done)](
                        const Result<std::vector<group::PartitionResult>>& results) {
    if (!results.ok()) {
      self->emitError(Error{results.error().code, "commit of group '" + self->spec().group() +
                                                      "' failed: " + results.error().message},
                      false);
      if (done)
        done(statusOf(results.error(), "commit of group '" + self->spec().group() + "'"), {});
      return;
    }
    std::vector<v1::PartitionCommit> commits = self->describeCommit(*results);
    v1::ConsumerEvent event;
    for (const v1::PartitionCommit& commit : commits) {
      *event.mutable_committed()->add_partitions() = commit;
    }
    if (!event.has_committed()) event.mutable_committed();
    self->emit(event);
    if (done) done(grpc::Status::OK, std::move(commits));
  });
}

std::vector<v1::PartitionCommit> ConsumerSession::describeCommit(
    const std::vector<group::PartitionResult>& results) const {
  std::vector<v1::PartitionCommit> out;
  for (const group::PartitionResult& result : results) {
    v1::PartitionCommit& commit = out.emplace_back();
    commit.set_topic(result.partition.topic);
    commit.set_partition(result.partition.partition);
    auto marked = marked_.find(result.partition);
    commit.set_offset(marked == marked_.end() ? -1 : marked->second);
    if (result.error.code != ErrorCode::kNone) {
      fillKafkaError(result.error, *commit.mutable_error());
    }
  }
  return out;
}

grpc::Status ConsumerSession::seek(const v1::SeekTarget& target, SeekDone done) {
  if (state_ != State::kOpen)
    return {grpc::StatusCode::NOT_FOUND, "session " + id_ + " is closing"};
  const TopicPartition partition{target.topic(), target.partition()};
  const std::string what = "seek of " + describePartition(partition.topic, partition.partition);
  consumer::SeekTarget to;
  switch (target.position_case()) {
    case v1::SeekTarget::kOffset:
      if (target.offset() < 0) {
        return invalid(what + ": offset " + std::to_string(target.offset()) + " is negative");
      }
      to = {consumer::SeekTarget::Kind::kOffset, target.offset()};
      break;
    case v1::SeekTarget::kBeginning:
    case v1::SeekTarget::kEnd:
      if (!(target.beginning() || target.end())) {
        return invalid(what + ": seek.beginning and seek.end must be true when set");
      }
      to.kind = target.beginning() ? consumer::SeekTarget::Kind::kBeginning
                                   : consumer::SeekTarget::Kind::kEnd;
      break;
    case v1::SeekTarget::kTimestampMs:
      if (target.timestamp_ms() < 0) {
        return invalid(what + ": timestamp_ms " + std::to_string(target.timestamp_ms()) +
                       " is negative");
      }
      to = {consumer::SeekTarget::Kind::kTimestamp, target.timestamp_ms()};
      break;
    case v1::SeekTarget::POSITION_NOT_SET:
      return invalid(what + ": no position (set offset, beginning, end or timestamp_ms)");
  }
  if (!find(partition)) return notAssigned("seek of", partition);
  consumer_->seek(
      partition, to,
      [self = shared_from_this(), partition, what, done = std::move(done)](Result<int64_t> result) {
        v1::ConsumerEvent event;
        v1::SeekEvent& seeked = *event.mutable_seeked();
        seeked.set_topic(partition.topic);
        seeked.set_partition(partition.partition);
        grpc::Status status;
        if (result.ok()) {
          seeked.set_offset(*result);
          if (PartitionState* state = self->find(partition))
            self->restartPartition(*state, *result);
        } else {
          seeked.set_offset(-1);
          fillKafkaError(result.error(), *seeked.mutable_error());
          status = self->find(partition) ? statusOf(result.error(), what)
                                         : notAssigned("seek of", partition);
        }
        self->emit(event);
        if (done) done(status, result.ok() ? *result : -1);
        self->pump();
      });
  return grpc::Status::OK;
}

grpc::Status ConsumerSession::pause(
    const google::protobuf::RepeatedPtrField<v1::TopicPartitions>& partitions) {
  return setPaused(partitions, true);
}

grpc::Status ConsumerSession::resume(
    const google::protobuf::RepeatedPtrField<v1::TopicPartitions>& partitions) {
  grpc::Status status = setPaused(partitions, false);
  pump();
  return status;
}

grpc::Status ConsumerSession::setPaused(
    const google::protobuf::RepeatedPtrField<v1::TopicPartitions>& partitions, bool paused) {
  const std::string_view what = paused ? "pause of" : "resume of";
  if (state_ != State::kOpen)
    return {grpc::StatusCode::NOT_FOUND, "session " + id_ + " is closing"};
  std::vector<TopicPartition> list;
  for (const v1::TopicPartitions& topic : partitions) {
    for (int32_t number : topic.partitions()) {
      TopicPartition partition{topic.topic(), number};
      if (!find(partition)) return notAssigned(what, partition);
      list.push_back(std::move(partition));
    }
  }
  Result<void> done = paused ? consumer_->pause(list) : consumer_->resume(list);
  if (!done.ok()) return statusOf(done.error(), std::string(what) + " partitions");
  for (const TopicPartition& partition : list) find(partition)->paused = paused;
  return grpc::Status::OK;
}

void ConsumerSession::poll(PollLimits limits, v1::PollResponse* response,
                           std::shared_ptr<UnaryReactor::Finisher> finisher) {
  if (state_ != State::kOpen) {
    if (finisher->claim()) {
      finisher->finish({grpc::StatusCode::NOT_FOUND, "session " + id_ + " is closing"});
    }
    return;
  }
  polling_ = true;
  PollWaiter& waiter = waiters_.emplace_back();
  waiter.id = next_waiter_++;
  waiter.limits = limits;
  waiter.response = response;
  waiter.finisher = std::move(finisher);
  waiter.timer = std::make_unique<asio::steady_timer>(strand_);
  waiter.timer->expires_after(limits.timeout);
  waiter.timer->async_wait([weak = weak_from_this(), id = waiter.id](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!self || ec) return;
    auto found = std::find_if(self->waiters_.begin(), self->waiters_.end(),
                              [id](const PollWaiter& candidate) { return candidate.id == id; });
    if (found == self->waiters_.end()) return;
    self->completeWaiter(found, grpc::Status::OK);
    self->refreshIdle();
    self->pump();
  });
  refreshIdle();
  pump();
}

void ConsumerSession::completeWaiter(std::list<PollWaiter>::iterator waiter, grpc::Status status) {
  waiter->timer->cancel();
  if (!waiter->claimed && !waiter->finisher->claim()) {
    waiters_.erase(waiter);
    return;
  }
  v1::PollResponse& response = *waiter->response;
  if (status.ok()) {
    for (v1::ConsumerEvent& event : poll_events_) *response.add_events() = std::move(event);
    response.set_events_dropped(static_cast<uint32_t>(
        std::min<uint64_t>(poll_events_dropped_, std::numeric_limits<uint32_t>::max())));
    poll_events_.clear();
    poll_events_dropped_ = 0;
  }
  if (resolved_.auto_ack) {
    // Returned is delivered: the records count as acked.
    for (const v1::PartitionRecords& records : response.records()) {
      PartitionState* state = find({records.topic(), records.partition()});
      if (!state) continue;
      for (const v1::ConsumedRecord& record : records.records()) {
        (void)applyAck(*state, record.offset());
      }
      markCommittable(*state);
    }
  }
  waiter->finisher->finish(std::move(status));
  waiters_.erase(waiter);
  refreshIdle();
}

// ---------------------------------------------------------------------------------------------
// Timers and events

void ConsumerSession::armAckTimer() {
  if (ack_timer_armed_ || leases_.empty() || state_ != State::kOpen) return;
  ack_timer_armed_ = true;
  ack_timer_.expires_at(leases_.front().deadline);
  ack_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!self) return;
    self->ack_timer_armed_ = false;
    if (ec || self->state_ != State::kOpen) return;
    self->expireAcks();
    self->armAckTimer();
  });
}

void ConsumerSession::expireAcks() {
  const Clock::time_point now = Clock::now();
  while (!leases_.empty() && leases_.front().deadline <= now) {
    Lease& lease = leases_.front();
    if (lease.held == 0) {
      leases_.pop_front();
      continue;
    }
    PartitionState& state = *lease.state;
    std::vector<int64_t> expired;
    uint64_t holder = kNobody;
    state.unacked.visitFrom(lease.first, [&](int64_t offset, Unacked& entry) {
      if (offset > lease.last) return false;
      if (entry.lease == lease.id) {
        holder = entry.holder;
        expired.push_back(offset);
        release(entry);
        ++state.waiting;
      }
      return true;
    });
    leases_.pop_front();
    auto receiver = receivers_.find(holder);
    if (receiver != receivers_.end() && receiver->second.outlet) {
      receiver->second.outlet->withdraw(state.partition, [&expired](int64_t offset) {
        return std::binary_search(expired.begin(), expired.end(), offset);
      });
    }
    KS_LOG_IN(kDebug, kComponent, logContext(&state.partition),
              expired.size() << " record(s) not acked within " << resolved_.ack_timeout.count()
                             << " ms; delivering them again");
  }
  pump();
}

log::Context ConsumerSession::logContext(const TopicPartition* partition) const {
  log::Context context{.cluster = spec().cluster(), .group = spec().group(), .session = id_};
  if (partition) {
    context.topic = partition->topic;
    context.partition = partition->partition;
  }
  return context;
}

void ConsumerSession::emit(const v1::ConsumerEvent& event) {
  for (const auto& [id, receiver] : receivers_) {
    if (receiver.outlet) receiver.outlet->sendEvent(event);
  }
  if (!polling_) return;
  if (poll_events_.size() >= kMaxPollEvents) {
    poll_events_.pop_front();
    ++poll_events_dropped_;
  }
  poll_events_.push_back(event);
  pump();
}

void ConsumerSession::emitError(const Error& error, bool fatal) {
  v1::ConsumerEvent event;
  fillKafkaError(error, *event.mutable_error()->mutable_error());
  event.mutable_error()->set_fatal(fatal);
  emit(event);
}

void ConsumerSession::onPartitionsAssigned(const std::vector<TopicPartition>& partitions) {
  std::vector<TopicPartition> added;
  for (const TopicPartition& partition : partitions) {
    auto [state, inserted] = partitions_.try_emplace(partition);
    if (!inserted) continue;
    state->second.partition = partition;
    marked_.erase(partition);
    added.push_back(partition);
  }
  if (added.empty()) return;
  v1::ConsumerEvent event;
  fillPartitions(added, *event.mutable_assigned());
  emit(event);
}

void ConsumerSession::onPartitionsRevoked(const std::vector<TopicPartition>& partitions) {
  counters_.rebalances.Increment();
  for (const TopicPartition& partition : partitions) {
    PartitionState* state = find(partition);
    if (!state) continue;
    if (state->tracker) {
      marked_[partition] = state->tracker->committable();
      consumer_->markCommittable(partition, state->tracker->committable());
    }
    dropRecords(*state);
    partitions_.erase(partition);
    forgetLag(partition);
  }
  v1::ConsumerEvent event;
  fillPartitions(partitions, *event.mutable_revoked());
  emit(event);
}

void ConsumerSession::onPartitionsLost(const std::vector<TopicPartition>& partitions) {
  counters_.rebalances.Increment();
  for (const TopicPartition& partition : partitions) {
    if (PartitionState* state = find(partition)) {
      dropRecords(*state);
      partitions_.erase(partition);
    }
    forgetLag(partition);
    marked_.erase(partition);
  }
  v1::ConsumerEvent event;
  fillPartitions(partitions, *event.mutable_lost());
  emit(event);
}

void ConsumerSession::onRecordsAvailable() {
  consumer_may_have_records_ = true;
  pump();
}

void ConsumerSession::onEndOfPartition(const TopicPartition& partition, int64_t offset) {
  PartitionState* state = find(partition);
  if (!state) return;
  // Caught up: the end is committable once everything delivered is acked, even where the last
  // offsets held nothing to deliver.
  if (state->tracker) {
    state->tracker->skippedTo(offset);
  } else {
    state->tracker.emplace(offset);
  }
  markCommittable(*state);
  v1::ConsumerEvent event;
  v1::EndOfPartition& end = *event.mutable_end_of_partition();
  end.set_topic(partition.topic);
  end.set_partition(partition.partition);
  end.set_offset(offset);
  emit(event);
}

void ConsumerSession::onCommitted(const Result<std::vector<group::PartitionResult>>& results) {
  if (!results.ok()) {
    emitError(Error{results.error().code,
                    "commit of group '" + spec().group() + "' failed: " + results.error().message},
              false);
    return;
  }
  std::vector<v1::PartitionCommit> commits = describeCommit(*results);
  if (commits.empty()) return;
  v1::ConsumerEvent event;
  for (const v1::PartitionCommit& commit : commits) {
    if (state_ == State::kClosing) final_commit_[{commit.topic(), commit.partition()}] = commit;
    *event.mutable_committed()->add_partitions() = commit;
  }
  emit(event);
}

void ConsumerSession::onError(const Error& error) {
  const bool fatal = error.action() == ErrorAction::kFatalToSession;
  emitError(error, fatal);
  if (fatal && state_ == State::kOpen) {
    KS_LOG(kWarn, kComponent, "session " << id_ << " ends: " << error.toString());
    fatal_error_ = error.toString();
    close(CloseReason::kFatal, nullptr, nullptr);
  }
}

}  // namespace kafka::sidecar
