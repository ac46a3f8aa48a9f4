#include "server/producer_service.hpp"

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "server/bidi_reactor.hpp"
#include "server/service_status.hpp"

namespace kafka::sidecar {

namespace {

using StreamReactor = grpc::ServerBidiReactor<v1::ProduceStreamRequest, v1::ProduceStreamResponse>;
using Clock = std::chrono::steady_clock;

// Acks are coalesced into one response per write up to about this many bytes, well below the
// 4 MiB that gRPC clients accept by default.
constexpr size_t kMaxAckBytesPerWrite = 1024 * 1024;

const grpc::Status kDraining{grpc::StatusCode::UNAVAILABLE,
                             "the sidecar is shutting down and accepts no new records"};

protocol::ByteView bytesOf(const std::string& bytes) {
  return {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
}

// The value paired with `key` in `table`, or nullopt.
template <class Key, class Value, size_t N>
std::optional<Value> lookUp(const std::pair<Key, Value> (&table)[N], Key key) {
  for (const auto& [candidate, value] : table) {
    if (candidate == key) return value;
  }
  return std::nullopt;
}

// The offset of the record `k` places after the first of a report; -1 when there is none.
int64_t offsetAt(const producer::DeliveryReport& report, size_t k) {
  if (report.error.code != ErrorCode::kNone || report.base_offset < 0) return -1;
  return report.base_offset + static_cast<int64_t>(k);
}

// The key + value bytes of each record, by its index in `records`, for the bytes metric: the
// records are the producer's once sent.
std::vector<uint32_t> sizesOf(const std::vector<producer::OutgoingRecord>& records) {
  std::vector<uint32_t> sizes;
  sizes.reserve(records.size());
  for (const producer::OutgoingRecord& record : records) {
    sizes.push_back(static_cast<uint32_t>((record.key ? record.key->size() : 0) +
                                          (record.value ? record.value->size() : 0)));
  }
  return sizes;
}

// Counts the outcome of a report's records, sent at `sent` with the sizes `sizes` (by index).
void countOutcome(Metrics& metrics, const producer::DeliveryReport& report,
                  const std::vector<uint32_t>& sizes, Clock::time_point sent) {
  Metrics::ProduceCounters counters = metrics.produce(std::string(report.topic));
  const size_t count = report.indices.size();
  if (report.error.code == ErrorCode::kNone) {
    uint64_t bytes = 0;
    for (uint32_t index : report.indices) bytes += sizes[index];
    counters.records.Increment(static_cast<double>(count));
    counters.bytes.Increment(static_cast<double>(bytes));
  } else {
    counters.errors.Increment(static_cast<double>(count));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - sent).count();
  for (size_t k = 0; k < count; ++k) metrics.produceLatency().Observe(seconds);
}

// Records refused before sending count as errors, without a latency.
void countRejections(Metrics& metrics, const ConvertedRecords& converted) {
  for (const ConvertedRecords::Rejection& rejected : converted.rejected) {
    metrics.produce(rejected.topic).errors.Increment();
  }
}

}  // namespace

grpc::Status overridesOf(const v1::ProducerSettings& settings, ProducerOverrides& out) {
  static constexpr std::pair<v1::Acks, producer::Acks> kAcks[] = {
      {v1::ACKS_NONE, producer::Acks::kNone},
      {v1::ACKS_LEADER, producer::Acks::kLeader},
      {v1::ACKS_ALL, producer::Acks::kAll}};
  static constexpr std::pair<v1::Compression, record::Compression> kCodecs[] = {
      {v1::COMPRESSION_NONE, record::Compression::kNone},
      {v1::COMPRESSION_GZIP, record::Compression::kGzip},
      {v1::COMPRESSION_SNAPPY, record::Compression::kSnappy},
      {v1::COMPRESSION_LZ4, record::Compression::kLz4},
      {v1::COMPRESSION_ZSTD, record::Compression::kZstd}};
  auto unknown = [](std::string_view field, int value, std::string_view expected) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "settings." + std::string(field) + ": unknown value " +
                            std::to_string(value) + " (expected " + std::string(expected) + ")");
  };
  out = {};
  if (settings.acks() != v1::ACKS_UNSPECIFIED) {
    out.acks = lookUp(kAcks, settings.acks());
    if (!out.acks) return unknown("acks", settings.acks(), "ACKS_NONE, ACKS_LEADER or ACKS_ALL");
  }
  if (settings.compression() != v1::COMPRESSION_UNSPECIFIED) {
    out.compression = lookUp(kCodecs, settings.compression());
    if (!out.compression) {
      return unknown("compression", settings.compression(),
                     "COMPRESSION_NONE, _GZIP, _SNAPPY, _LZ4 or _ZSTD");
    }
  }
  return grpc::Status::OK;
}

grpc::Status mayProduce(const Caller& caller,
                        const google::protobuf::RepeatedPtrField<v1::ProduceRecord>& records,
                        std::string_view default_topic) {
  std::string_view checked;
  for (const v1::ProduceRecord& record : records) {
    std::string_view topic = record.topic().empty() ? default_topic : record.topic();
    // A record without a topic is refused on its own later.
    if (topic.empty() || topic == checked) continue;
    if (grpc::Status status = caller.mayProduce(topic); !status.ok()) return status;
    checked = topic;
  }
  return grpc::Status::OK;
}

void convertRecords(const google::protobuf::RepeatedPtrField<v1::ProduceRecord>& records,
                    std::string_view default_topic, ConvertedRecords& out) {
  out.records.clear();
  out.positions.clear();
  out.headers.clear();
  out.rejected.clear();
  size_t header_count = 0;
  for (const v1::ProduceRecord& record : records) header_count += record.headers_size();
  // The records' header spans point into this vector: it must never reallocate.
  out.headers.reserve(header_count);

  for (int i = 0; i < records.size(); ++i) {
    const v1::ProduceRecord& in = records[i];
    auto position = static_cast<uint32_t>(i);
    std::string_view topic = in.topic().empty() ? default_topic : std::string_view(in.topic());
    std::string where = "record " + std::to_string(i);
    auto reject = [&](ErrorCode code, std::string message) {
      out.rejected.push_back({position, std::string(topic), Error{code, std::move(message)}});
    };
    if (topic.empty()) {
      reject(ErrorCode::kInvalidTopicException, where + " has no topic and the request names none");
      continue;
    }
    if (in.has_partition() && in.partition() < 0) {
      reject(ErrorCode::kInvalidArgument,
             where + " has partition " + std::to_string(in.partition()) + "; partitions are >= 0");
      continue;
    }
    if (in.has_timestamp_ms() && in.timestamp_ms() < 0) {
      reject(ErrorCode::kInvalidArgument, where + " has timestamp_ms " +
                                              std::to_string(in.timestamp_ms()) +
                                              "; timestamps are >= 0");
      continue;
    }
    int empty_key = -1;
    for (int h = 0; h < in.headers_size() && empty_key < 0; ++h) {
      if (in.headers(h).key().empty()) empty_key = h;
    }
    if (empty_key >= 0) {
      reject(ErrorCode::kInvalidArgument,
             where + " header " + std::to_string(empty_key) + " has an empty key");
      continue;
    }

    size_t first_header = out.headers.size();
    for (const v1::RecordHeader& header : in.headers()) {
      record::Header& stored = out.headers.emplace_back();
      stored.key = header.key();
      if (header.has_value()) stored.value = bytesOf(header.value());
    }
    producer::OutgoingRecord& record = out.records.emplace_back();
    record.topic = topic;
    if (in.has_partition()) record.partition = in.partition();
    if (in.has_key()) record.key = bytesOf(in.key());
    if (in.has_value()) record.value = bytesOf(in.value());
    record.headers = std::span<const record::Header>(out.headers).subspan(first_header);
    if (in.has_timestamp_ms()) record.timestamp_ms = in.timestamp_ms();
    out.positions.push_back(position);
  }
}

grpc::Status ProducerService::resolve(std::string_view cluster_name,
                                      const v1::ProducerSettings& settings, Target& out) {
  {
    std::lock_guard lock(mutex_);
    if (draining_) return kDraining;
  }
  out.cluster = clusters_.find(cluster_name);
  if (!out.cluster) return unknownCluster(clusters_, cluster_name);
  ProducerOverrides overrides;
  if (grpc::Status status = overridesOf(settings, overrides); !status.ok()) return status;
  auto producer = producers_.producerFor(out.cluster, overrides);
  if (!producer.ok()) {
    if (producer.error().code == ErrorCode::kShuttingDown) return kDraining;
    return {
        grpc::StatusCode::INVALID_ARGUMENT,
        "settings do not fit the sidecar's producer configuration: " + producer.error().toString()};
  }
  out.producer = std::move(producer.value());
  return grpc::Status::OK;
}

// ---------------------------------------------------------------------------------------------
// Produce

namespace {

// One Produce call, shared by its reactor and the producer's callbacks. Everything below the
// mutex is guarded by it; the reactor and the response (which gRPC owns) are used only until
// `finished`. Finish() is called with the mutex held: gRPC runs OnCancel and OnDone of such a
// reactor on its own threads, never inline.
struct ProduceCall {
  ProduceCall(v1::ProduceResponse* response_in, Metrics& metrics_in)
      : response(response_in), metrics(metrics_in) {}

  // The request's records are in the producer's hands until `sent`: the call may finish only
  // then, or gRPC would free them. A cancel therefore waits for `sent`; a completion also waits
  // for every record's report.
  void maybeFinish() {
    if (finished || !sent) return;
    if (cancelled) {
      finish(grpc::Status::CANCELLED);
    } else if (unreported == 0) {
      finish(grpc::Status::OK);
    }
  }

  void finish(grpc::Status status) {
    finished = true;
    reactor->Finish(std::move(status));
  }

  void onDelivery(const producer::DeliveryReport& report) {
    countOutcome(metrics, report, sizes, started);
    std::lock_guard lock(mutex);
    unreported -= report.indices.size();
    if (!finished) {
      for (size_t k = 0; k < report.indices.size(); ++k) {
        v1::ProduceResult* result =
            response->mutable_results(static_cast<int>(converted.positions[report.indices[k]]));
        result->set_partition(report.partition);
        result->set_offset(offsetAt(report, k));
        result->set_log_append_time_ms(report.log_append_time_ms);
        if (report.error.code != ErrorCode::kNone) {
          fillKafkaError(report.error, *result->mutable_error());
        }
      }
    }
    maybeFinish();
  }

  std::mutex mutex;
  grpc::ServerUnaryReactor* reactor = nullptr;
  v1::ProduceResponse* const response;
  Metrics& metrics;
  const Clock::time_point started = Clock::now();
  std::vector<uint32_t> sizes;  // set before send(), constant after
  ConvertedRecords converted;
  size_t unreported = 0;
  bool sent = false;
  bool cancelled = false;
  bool finished = false;
};

class ProduceReactor final : public grpc::ServerUnaryReactor {
 public:
  explicit ProduceReactor(std::shared_ptr<ProduceCall> call) : call_(std::move(call)) {
    call_->reactor = this;
  }

  void OnCancel() override {
    std::lock_guard lock(call_->mutex);
    call_->cancelled = true;
    call_->maybeFinish();
  }
  void OnDone() override { delete this; }

 private:
  std::shared_ptr<ProduceCall> call_;
};

}  // namespace

grpc::ServerUnaryReactor* ProducerService::Produce(grpc::CallbackServerContext* context,
                                                   const v1::ProduceRequest* request,
                                                   v1::ProduceResponse* response) {
  auto call = std::make_shared<ProduceCall>(response, metrics_);
  auto* reactor = new ProduceReactor(call);
  Caller caller;
  Target target;
  grpc::Status status = authorizer_.authenticate(*context, caller);
  if (status.ok()) status = mayProduce(caller, request->records(), request->topic());
  if (status.ok()) status = resolve(request->cluster(), request->settings(), target);
  if (!status.ok()) {
    std::lock_guard lock(call->mutex);
    call->finish(std::move(status));
    return reactor;
  }

  // Nothing else touches the response until `sent` is set.
  ConvertedRecords& converted = call->converted;
  convertRecords(request->records(), request->topic(), converted);
  countRejections(metrics_, converted);
  response->mutable_results()->Reserve(request->records_size());
  for (int i = 0; i < request->records_size(); ++i) {
    v1::ProduceResult* result = response->add_results();
    result->set_partition(-1);
    result->set_offset(-1);
    result->set_log_append_time_ms(-1);
  }
  for (const ConvertedRecords::Rejection& rejected : converted.rejected) {
    fillKafkaError(
        rejected.error,
        *response->mutable_results(static_cast<int>(rejected.position))->mutable_error());
  }

  std::vector<producer::OutgoingRecord> records = std::move(converted.records);
  call->sizes = sizesOf(records);
  {
    std::lock_guard lock(call->mutex);
    call->unreported = records.size();
    if (records.empty()) {
      call->sent = true;
      call->maybeFinish();
      return reactor;
    }
  }
  target.producer->send(
      std::move(records),
      [call](const producer::DeliveryReport& report) { call->onDelivery(report); },
      [call] {
        std::lock_guard lock(call->mutex);
        call->sent = true;
        call->maybeFinish();
      });
  return reactor;
}

// ---------------------------------------------------------------------------------------------
// ProduceStream

// One ProduceStream call: the state its reactor and the producer's callbacks share. It outlives
// the reactor (OnDone) for as long as reports of its records may still arrive; from the moment it
// finishes the call it no longer uses the reactor. Everything below the mutex is guarded by it.
// Calls into the reactor are made with the mutex held: gRPC runs no reaction of a bidi stream
// inline, so none of them can re-enter.
class ProduceStreamCall : public std::enable_shared_from_this<ProduceStreamCall> {
 public:
  ProduceStreamCall(ProducerService& service, Caller caller)
      : service_(service), caller_(std::move(caller)) {}

  // `reactor` stays valid until this call finishes it; a `refusal` other than OK ends the call
  // at once.
  void start(StreamReactor* reactor, grpc::Status refusal) {
    std::lock_guard lock(mutex_);
    reactor_ = reactor;
    if (refusal.ok()) {
      reactor_->StartRead(&request_);
    } else {
      finish(std::move(refusal));
    }
  }

  void onReadDone(bool ok) {
    std::unique_lock lock(mutex_);
    if (finished_) return;
    if (!ok) {
      // The application is done writing: answer what is outstanding, then end with OK.
      if (!end_) end_ = grpc::Status::OK;
      maybeFinish();
      return;
    }
    if (end_) {
      // Ending (draining): the message is not sent, and the call ends without acks for it.
      maybeFinish();
      return;
    }
    grpc::Status status = mayProduce(caller_, request_.records(), request_.topic());
    if (status.ok()) status = adopt();
    if (!status.ok()) {
      end(std::move(status));
      return;
    }

    const Clock::time_point arrived = Clock::now();
    convertRecords(request_.records(), request_.topic(), converted_);
    countRejections(service_.metrics_, converted_);
    for (const ConvertedRecords::Rejection& rejected : converted_.rejected) {
      v1::ProduceAck& ack = acks_.emplace_back();
      ack.add_ids(request_.records(static_cast<int>(rejected.position)).id());
      ack.set_topic(rejected.topic);
      ack.set_partition(-1);
      ack.set_base_offset(-1);
      ack.set_log_append_time_ms(-1);
      fillKafkaError(rejected.error, *ack.mutable_error());
    }
    maybeWrite();
    if (converted_.records.empty()) {
      reactor_->StartRead(&request_);
      return;
    }

    // The ids and sizes outlive the message: reports keep coming after send() completes.
    auto sent = std::make_shared<SentRecords>();
    sent->arrived = arrived;
    sent->ids.reserve(converted_.positions.size());
    for (uint32_t position : converted_.positions) {
      sent->ids.push_back(request_.records(static_cast<int>(position)).id());
    }
    std::vector<producer::OutgoingRecord> records = std::move(converted_.records);
    sent->sizes = sizesOf(records);
    unacked_ += records.size();
    sending_ = true;
    std::shared_ptr<producer::Producer> producer = producer_;
    lock.unlock();
    // Outside the mutex: the producer promises reports on its strand, but need not post them.
    producer->send(
        std::move(records),
        [self = shared_from_this(), sent](const producer::DeliveryReport& report) {
          self->onDelivery(*sent, report);
        },
        [self = shared_from_this()] { self->onSent(); });
  }

  void onWriteDone(bool ok) {
    std::lock_guard lock(mutex_);
    writing_ = false;
    if (finished_) return;
    if (!ok) {
      finish({grpc::StatusCode::CANCELLED, "the stream broke while acks were being written"});
      return;
    }
    maybeWrite();
    maybeFinish();
  }

  void onCancel() {
    std::lock_guard lock(mutex_);
    if (!finished_) finish(grpc::Status::CANCELLED);
  }

  void onDone() {
    {
      std::lock_guard lock(mutex_);
      reactor_ = nullptr;
    }
    service_.unregisterStream(shared_from_this());
  }

  void drain() {
    std::lock_guard lock(mutex_);
    if (finished_ || end_) return;
    end(kDraining);
  }

 private:
  // What the reports of one message's records need, by the records' index in send().
  struct SentRecords {
    Clock::time_point arrived;
    std::vector<uint64_t> ids;
    std::vector<uint32_t> sizes;
  };

  // The message's records are buffered or reported: the message may be reused for the next.
  void onSent() {
    std::lock_guard lock(mutex_);
    sending_ = false;
    if (finished_) return;
    if (end_) {
      maybeFinish();
    } else {
      reactor_->StartRead(&request_);
    }
  }

  void onDelivery(const SentRecords& sent, const producer::DeliveryReport& report) {
    countOutcome(service_.metrics_, report, sent.sizes, sent.arrived);
    v1::ProduceAck ack;
    for (uint32_t index : report.indices) ack.add_ids(sent.ids[index]);
    ack.set_topic(std::string(report.topic));
    ack.set_partition(report.partition);
    ack.set_base_offset(offsetAt(report, 0));
    ack.set_log_append_time_ms(report.log_append_time_ms);
    if (report.error.code != ErrorCode::kNone) fillKafkaError(report.error, *ack.mutable_error());

    std::lock_guard lock(mutex_);
    unacked_ -= report.indices.size();
    if (finished_) return;
    acks_.push_back(std::move(ack));
    maybeWrite();
    maybeFinish();
  }

  // The first message sets the cluster and the settings; later ones may repeat them or leave
  // them unset, but not change them.
  grpc::Status adopt() {
    if (!producer_) {
      ProducerService::Target target;
      grpc::Status status = service_.resolve(request_.cluster(), request_.settings(), target);
      if (!status.ok()) return status;
      cluster_ = target.cluster->name();
      settings_ = request_.settings();
      producer_ = std::move(target.producer);
      return grpc::Status::OK;
    }
    auto changed = [](const std::string& field, const std::string& from, const std::string& to) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "ProduceStreamRequest." + field + " changed from " + from + " to " + to +
                              " after the first message; it holds for the whole stream");
    };
    if (!request_.cluster().empty() && request_.cluster() != cluster_) {
      return changed("cluster", "'" + cluster_ + "'", "'" + request_.cluster() + "'");
    }
    const v1::ProducerSettings& settings = request_.settings();
    if (settings.acks() != v1::ACKS_UNSPECIFIED && settings.acks() != settings_.acks()) {
      return changed("settings.acks", v1::Acks_Name(settings_.acks()),
                     v1::Acks_IsValid(settings.acks()) ? v1::Acks_Name(settings.acks())
                                                       : std::to_string(settings.acks()));
    }
    if (settings.compression() != v1::COMPRESSION_UNSPECIFIED &&
        settings.compression() != settings_.compression()) {
      return changed("settings.compression", v1::Compression_Name(settings_.compression()),
                     v1::Compression_IsValid(settings.compression())
                         ? v1::Compression_Name(settings.compression())
                         : std::to_string(settings.compression()));
    }
    return grpc::Status::OK;
  }

  // Stops reading and ends the call with `status` once every record sent has been acked.
  void end(grpc::Status status) {
    end_ = std::move(status);
    maybeFinish();
  }

  void maybeWrite() {
    if (finished_ || writing_ || acks_.empty()) return;
    response_.Clear();
    size_t bytes = 0;
    while (!acks_.empty() &&
           (bytes == 0 || bytes + acks_.front().ByteSizeLong() <= kMaxAckBytesPerWrite)) {
      bytes += acks_.front().ByteSizeLong();
      *response_.add_acks() = std::move(acks_.front());
      acks_.pop_front();
    }
    writing_ = true;
    reactor_->StartWrite(&response_);
  }

  void maybeFinish() {
    if (finished_ || !end_ || sending_ || unacked_ > 0 || writing_ || !acks_.empty()) return;
    finish(*end_);
  }

  void finish(grpc::Status status) {
    finished_ = true;
    acks_.clear();
    reactor_->Finish(std::move(status));
  }

  ProducerService& service_;  // from gRPC's reactions, and its metrics_ from reports too
  const Caller caller_;

  std::mutex mutex_;
  StreamReactor* reactor_ = nullptr;
  // Read into by gRPC while a read is outstanding; its records are the producer's until send()
  // completes (sending_), and the next read starts only then.
  v1::ProduceStreamRequest request_;
  ConvertedRecords converted_;  // views into request_
  std::string cluster_;         // set with producer_ by the first message
  v1::ProducerSettings settings_;
  std::shared_ptr<producer::Producer> producer_;
  bool sending_ = false;
  size_t unacked_ = 0;  // records sent whose reports have not arrived
  std::deque<v1::ProduceAck> acks_;
  v1::ProduceStreamResponse response_;  // gRPC's while writing_
  bool writing_ = false;
  std::optional<grpc::Status> end_;  // set once the call is to end
  bool finished_ = false;
};

StreamReactor* ProducerService::ProduceStream(grpc::CallbackServerContext* context) {
  Caller caller;
  grpc::Status refusal = authorizer_.authenticate(*context, caller);
  auto call = std::make_shared<ProduceStreamCall>(*this, std::move(caller));
  auto* reactor =
      new BidiReactor<ProduceStreamCall, v1::ProduceStreamRequest, v1::ProduceStreamResponse>(call);
  if (refusal.ok() && !registerStream(call)) refusal = kDraining;
  call->start(reactor, std::move(refusal));
  return reactor;
}

bool ProducerService::registerStream(const std::shared_ptr<ProduceStreamCall>& stream) {
  std::lock_guard lock(mutex_);
  if (draining_) return false;
  streams_.insert(stream);
  return true;
}

void ProducerService::unregisterStream(const std::shared_ptr<ProduceStreamCall>& stream) {
  std::lock_guard lock(mutex_);
  streams_.erase(stream);
}

void ProducerService::drain() {
  std::set<std::shared_ptr<ProduceStreamCall>> streams;
  {
    std::lock_guard lock(mutex_);
    draining_ = true;
    streams = streams_;
  }
  for (const auto& stream : streams) stream->drain();
}

}  // namespace kafka::sidecar
