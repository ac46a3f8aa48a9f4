// ksctl produce: lines of input to a topic over kafka.sidecar.v1.Producer.ProduceStream.
//
// Two threads share the call: an input thread reads lines and writes messages (blocking in
// Write() while gRPC flow control holds it back, which is what bounds memory), and the calling
// thread reads acks as they come. DeliveryTally is what they share.
#include <grpcpp/client_context.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include "kafka/sidecar/v1/producer.grpc.pb.h"
#include "tools/ksctl/commands.hpp"
#include "tools/ksctl/ksctl.hpp"

namespace kafka::ksctl {
namespace {

namespace v1 = kafka::sidecar::v1;

constexpr std::string_view kCommand = "produce";
constexpr size_t kMaxRecordsPerMessage = 1000;
constexpr size_t kMaxBytesPerMessage = 1 << 20;
constexpr int kMaxPrintedFailures = 20;
// Runs of consecutive line numbers printed for one failed ack; the rest are counted.
constexpr int kMaxPrintedRuns = 8;

using Stream = grpc::ClientReaderWriter<v1::ProduceStreamRequest, v1::ProduceStreamResponse>;

struct ProduceOptions {
  std::string topic;
  std::optional<std::string> key_separator;
  std::optional<int32_t> partition;
  google::protobuf::RepeatedPtrField<v1::RecordHeader> headers;
  v1::ProducerSettings settings;
};

// Applies one flag's value to `options`; on a usage error returns the message.
std::optional<std::string> applyFlag(std::string_view flag, std::string_view value,
                                     ProduceOptions& options) {
  if (flag == "-k") {
    if (value.empty()) return invalidValue(flag, value, "a non-empty separator");
    options.key_separator = std::string(value);
  } else if (flag == "-H") {
    size_t equals = value.find('=');
    std::string_view name = value.substr(0, equals);
    if (name.empty()) return invalidValue(flag, value, "NAME=VALUE or NAME, with a non-empty NAME");
    v1::RecordHeader* header = options.headers.Add();
    header->set_key(std::string(name));
    if (equals != std::string_view::npos) header->set_value(std::string(value.substr(equals + 1)));
  } else if (flag == "-p") {
    int32_t partition = -1;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), partition);
    if (ec != std::errc() || end != value.data() + value.size() || partition < 0) {
      return invalidValue(flag, value, "a partition number, 0 or more");
    }
    options.partition = partition;
  } else if (flag == "-z") {
    static constexpr std::pair<std::string_view, v1::Compression> kCodecs[] = {
        {"none", v1::COMPRESSION_NONE},     {"gzip", v1::COMPRESSION_GZIP},
        {"snappy", v1::COMPRESSION_SNAPPY}, {"lz4", v1::COMPRESSION_LZ4},
        {"zstd", v1::COMPRESSION_ZSTD},
    };
    auto found = std::find_if(std::begin(kCodecs), std::end(kCodecs),
                              [&](const auto& codec) { return codec.first == value; });
    if (found == std::end(kCodecs)) {
      return invalidValue(flag, value, "none, gzip, snappy, lz4 or zstd");
    }
    options.settings.set_compression(found->second);
  } else {
    if (value == "0") {
      options.settings.set_acks(v1::ACKS_NONE);
    } else if (value == "1") {
      options.settings.set_acks(v1::ACKS_LEADER);
    } else if (value == "all") {
      options.settings.set_acks(v1::ACKS_ALL);
    } else {
      return invalidValue(flag, value, "0, 1 or all");
    }
  }
  return std::nullopt;
}

std::optional<std::string> parseOptions(std::span<const std::string_view> args,
                                        ProduceOptions& options) {
  bool have_topic = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::string_view flag = arg.starts_with("--") ? arg.substr(0, arg.find('=')) : arg;
    if (flag == "-k" || flag == "-H" || flag == "-p" || flag == "-z" || flag == "--acks") {
      auto value = takeFlagValue(args, i, flag);
      if (!value) return "missing value for " + std::string(flag);
      if (auto error = applyFlag(flag, *value, options)) return error;
    } else if (arg.size() > 1 && arg.starts_with("-")) {
      return "unknown flag '" + std::string(flag) + "'";
    } else if (have_topic || arg.empty()) {
      return "unexpected argument '" + std::string(arg) + "'";
    } else {
      options.topic = std::string(arg);
      have_topic = true;
    }
  }
  if (!have_topic) return std::string("missing TOPIC");
  return std::nullopt;
}

// "line 7", "lines 3-5,9", or "lines 1,3,5,7,9,11,13,15 and 12 more".
std::string describeLines(const google::protobuf::RepeatedField<uint64_t>& ids) {
  std::string runs;
  int printed_runs = 0;
  int covered = 0;
  for (int i = 0; i < ids.size() && printed_runs < kMaxPrintedRuns; ++printed_runs) {
    int end = i + 1;
    while (end < ids.size() && ids[end] == ids[end - 1] + 1) ++end;
    if (!runs.empty()) runs += ',';
    runs += std::to_string(ids[i]);
    if (end - i > 1) runs += '-' + std::to_string(ids[end - 1]);
    covered = end;
    i = end;
  }
  std::string text = (ids.size() == 1 ? "line " : "lines ") + runs;
  if (covered < ids.size()) text += " and " + std::to_string(ids.size() - covered) + " more";
  return text;
}

// What the acks said so far. The input thread registers each record before it is sent; the
// ack reader settles them. Thread-safe.
class DeliveryTally {
 public:
  explicit DeliveryTally(std::ostream& err) : err_(err) {}

  void sent(uint64_t id, size_t bytes) {
    std::lock_guard lock(mutex_);
    pending_.emplace(id, bytes);
  }

  // Settles the ack's records (ids not pending, such as repeats, are ignored) and prints a
  // failed ack, up to kMaxPrintedFailures of them.
  void settle(const v1::ProduceAck& ack) {
    std::lock_guard lock(mutex_);
    uint64_t settled = 0;
    uint64_t settled_bytes = 0;
    for (uint64_t id : ack.ids()) {
      auto found = pending_.find(id);
      if (found == pending_.end()) continue;
      ++settled;
      settled_bytes += found->second;
      pending_.erase(found);
    }
    if (!ack.has_error()) {
      delivered_ += settled;
      delivered_bytes_ += settled_bytes;
      return;
    }
    failed_ += settled;
    if (printed_failures_ == kMaxPrintedFailures) {
      unprinted_failures_ += settled;
      return;
    }
    ++printed_failures_;
    err_ << "ksctl: " << kCommand << ": " << describeLines(ack.ids()) << " failed (" << ack.topic();
    if (ack.partition() >= 0) err_ << " partition " << ack.partition();
    err_ << "): " << ack.error().name() << ": " << ack.error().message() << "\n";
  }

  void streamEnded() {
    {
      std::lock_guard lock(mutex_);
      stream_ended_ = true;
    }
    ended_.notify_all();
  }

  // False if the stream has not ended within `timeout`.
  bool waitForEnd(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return ended_.wait_for(lock, timeout, [this] { return stream_ended_; });
  }

  void printSummary(std::ostream& out, std::string_view topic) const {
    std::lock_guard lock(mutex_);
    if (unprinted_failures_ > 0) {
      err_ << "ksctl: " << kCommand << ": ... and " << unprinted_failures_
           << " more failed records\n";
    }
    out << "produced " << delivered_ << " records (" << delivered_bytes_ << " bytes) to " << topic
        << ", " << failed_ << " failed\n";
  }
  uint64_t failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
  }
  size_t unanswered() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }

 private:
  std::ostream& err_;
  mutable std::mutex mutex_;
  std::condition_variable ended_;
  std::unordered_map<uint64_t, size_t> pending_;  // id -> key and value bytes
  uint64_t delivered_ = 0;
  uint64_t delivered_bytes_ = 0;
  uint64_t failed_ = 0;
  int printed_failures_ = 0;
  uint64_t unprinted_failures_ = 0;
  bool stream_ended_ = false;
};

struct InputOutcome {
  uint64_t lines = 0;         // lines read
  bool stream_broke = false;  // a Write failed: the call has ended, and its status says why
  bool read_failed = false;   // the input could not be read to its end
};

// The input thread: reads `in` line by line and writes the records to `stream`, then ends its
// side of the stream (also after a read error: what was read is still delivered).
InputOutcome sendInput(std::istream& in, const ProduceOptions& options, const std::string& cluster,
                       Stream& stream, DeliveryTally& tally) {
  v1::ProduceStreamRequest message;
  size_t message_bytes = 0;
  bool sent_any = false;
  // Every message repeats the cluster and settings: the stream's first message fixes them.
  const auto reset = [&] {
    message.Clear();
    message.set_cluster(cluster);
    *message.mutable_settings() = options.settings;
    message.set_topic(options.topic);
    message_bytes = 0;
  };
  const auto send = [&] {
    sent_any = true;
    bool ok = stream.Write(message);
    reset();
    return ok;
  };
  reset();

  InputOutcome outcome;
  uint64_t& line_number = outcome.lines;
  std::string line;
  while (std::getline(in, line)) {
    ++line_number;
    v1::ProduceRecord* record = message.add_records();
    record->set_id(line_number);
    if (options.partition) record->set_partition(*options.partition);
    *record->mutable_headers() = options.headers;
    size_t separator = options.key_separator ? line.find(*options.key_separator) : line.npos;
    if (separator == line.npos) {
      record->set_value(std::move(line));
    } else {
      record->set_key(line.substr(0, separator));
      record->set_value(line.substr(separator + options.key_separator->size()));
    }
    const size_t bytes = record->key().size() + record->value().size();
    tally.sent(line_number, bytes);
    message_bytes += bytes;
    // Send when the message is full, or when no more input is at hand, so that a slow or
    // interactive input is not held back waiting for a full message.
    if (message.records_size() >= static_cast<int>(kMaxRecordsPerMessage) ||
        message_bytes >= kMaxBytesPerMessage || in.rdbuf()->in_avail() <= 0) {
      if (!send()) {
        outcome.stream_broke = true;
        return outcome;
      }
    }
  }
  outcome.read_failed = in.bad();
  // An empty input still sends one message, so that the cluster and settings are checked.
  if ((message.records_size() > 0 || !sent_any) && !send()) {
    outcome.stream_broke = true;
    return outcome;
  }
  stream.WritesDone();
  return outcome;
}

}  // namespace

int runProduce(CommandContext& context, std::span<const std::string_view> args) {
  ProduceOptions options;
  if (auto error = parseOptions(args, options)) return context.usageError(kCommand, *error);

  auto stub = v1::Producer::NewStub(context.channel);
  // No deadline: the input may take any time. --timeout applies once the input has ended.
  grpc::ClientContext call;
  context.authorize(call);
  std::unique_ptr<Stream> stream = stub->ProduceStream(&call);
  DeliveryTally tally(context.err);
  InputOutcome input;
  bool timed_out = false;
  std::thread input_thread([&] {
    input = sendInput(context.in, options, context.cluster, *stream, tally);
    if (!input.stream_broke && !tally.waitForEnd(context.timeout)) {
      timed_out = true;
      call.TryCancel();
    }
  });
  v1::ProduceStreamResponse response;
  while (stream->Read(&response)) {
    for (const v1::ProduceAck& ack : response.acks()) tally.settle(ack);
  }
  tally.streamEnded();
  input_thread.join();
  grpc::Status status = stream->Finish();

  tally.printSummary(context.out, options.topic);
  if (timed_out) {
    context.err << "ksctl: " << kCommand << ": DEADLINE_EXCEEDED: no answer for "
                << tally.unanswered() << " records within "
                << std::chrono::duration<double>(context.timeout).count()
                << " s of the end of the input\n";
    return kExitRpcFailed;
  }
  if (!status.ok()) return context.rpcFailed(status);
  if (input.read_failed) {
    context.err << "ksctl: " << kCommand << ": reading the input failed after line " << input.lines
                << "\n";
    return kExitRpcFailed;
  }
  if (tally.unanswered() > 0) {
    context.err << "ksctl: " << kCommand << ": the call ended without an answer for "
                << tally.unanswered() << " records\n";
    return kExitRpcFailed;
  }
  return tally.failed() > 0 ? kExitNotDelivered : kExitOk;
}

}  // namespace kafka::ksctl
