// ksctl consume: a topic's records to stdout over kafka.sidecar.v1.Consumer.Subscribe.
//
// The calling thread reads the stream and prints. With --timeout, a watchdog thread ends the
// call once no record came for that long. Both may write to the stream (acks, the final close),
// so writes go through one mutex. With --manual-ack, printing holds it too: once the close is
// sent nothing more is printed, so that every record printed is acked.
#include <grpcpp/client_context.h>

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "client_core/common/utf8.hpp"
#include "kafka/sidecar/v1/consumer.grpc.pb.h"
#include "tools/ksctl/commands.hpp"
#include "tools/ksctl/ksctl.hpp"

namespace kafka::ksctl {
namespace {

namespace v1 = kafka::sidecar::v1;

constexpr std::string_view kCommand = "consume";
constexpr uint32_t kSessionTimeoutMs = 10'000;

using Stream = grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>;

struct ConsumeOptions {
  std::string topic;
  std::string group;
  bool json = false;
  std::optional<uint64_t> count;
  bool from_beginning = false;
  bool manual_ack = false;
};

std::optional<std::string> parseOptions(std::span<const std::string_view> args,
                                        ConsumeOptions& options) {
  bool have_topic = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::string_view flag = arg.starts_with("--") ? arg.substr(0, arg.find('=')) : arg;
    if (flag == "-g" || flag == "-o" || flag == "-n") {
      auto value = takeFlagValue(args, i, flag);
      if (!value) return "missing value for " + std::string(flag);
      if (flag == "-g") {
        if (value->empty()) return invalidValue(flag, *value, "a group name");
        options.group = std::string(*value);
      } else if (flag == "-o") {
        if (*value != "value" && *value != "json") {
          return invalidValue(flag, *value, "value or json");
        }
        options.json = *value == "json";
      } else {
        uint64_t count = 0;
        auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), count);
        if (ec != std::errc() || end != value->data() + value->size() || count == 0) {
          return invalidValue(flag, *value, "a count, 1 or more");
        }
        options.count = count;
      }
    } else if (arg == "--from-beginning") {
      options.from_beginning = true;
    } else if (arg == "--manual-ack") {
      options.manual_ack = true;
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
  if (options.group.empty()) return std::string("missing -g GROUP");
  return std::nullopt;
}

// Appends `text` as a JSON string: UTF-8 sequences as they are, other bytes as \u00XX.
void appendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto escape = [&](unsigned char c) {
    out += "\\u00";
    out += kHex[c >> 4];
    out += kHex[c & 15];
  };
  out += '"';
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      escape(c);
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (const size_t length = utf8SequenceLength(text.substr(i)); length > 0) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      escape(c);
      ++i;
    }
  }
  out += '"';
}

void appendOptionalBytes(std::string& out, bool present, std::string_view bytes) {
  if (present) {
    appendJsonString(out, bytes);
  } else {
    out += "null";
  }
}

std::string jsonLine(const v1::PartitionRecords& batch, const v1::ConsumedRecord& record) {
  std::string line = "{\"topic\":";
  appendJsonString(line, batch.topic());
  line += ",\"partition\":" + std::to_string(batch.partition()) +
          ",\"offset\":" + std::to_string(record.offset()) + ",\"key\":";
  appendOptionalBytes(line, record.has_key(), record.key());
  line += ",\"value\":";
  appendOptionalBytes(line, record.has_value(), record.value());
  line += ",\"headers\":[";
  for (int i = 0; i < record.headers_size(); ++i) {
    const v1::RecordHeader& header = record.headers(i);
    if (i > 0) line += ',';
    line += "{\"key\":";
    appendJsonString(line, header.key());
    line += ",\"value\":";
    appendOptionalBytes(line, header.has_value(), header.value());
    line += '}';
  }
  line += "],\"timestamp\":" + std::to_string(record.timestamp_ms()) + "}\n";
  return line;
}

// The stream's writing side, shared by the reading thread (acks) and the watchdog (close).
class StreamWriter {
 public:
  explicit StreamWriter(Stream& stream) : stream_(stream) {}

  bool write(const v1::SubscribeRequest& request) {
    std::lock_guard lock(mutex_);
    return !done_ && stream_.Write(request);
  }

  // Runs `print`, then writes `ack`, unless finish() came first: records that arrive after the
  // close could no longer be acked, so they are not printed and go to the group's next consumer.
  // False when finish() came first or the write failed.
  bool printAndAck(const std::function<void()>& print, const v1::SubscribeRequest& ack) {
    std::lock_guard lock(mutex_);
    if (done_) return false;
    print();
    return stream_.Write(ack);
  }

  // Asks the sidecar to close the session and ends our side of the call; once only.
  void finish() {
    std::lock_guard lock(mutex_);
    if (done_) return;
    done_ = true;
    v1::SubscribeRequest close;
    close.set_close(true);
    if (stream_.Write(close)) stream_.WritesDone();
  }

 private:
  Stream& stream_;
  std::mutex mutex_;
  bool done_ = false;
};

// Ends the call once `limit` passes without a record. record() restarts the wait.
class IdleWatchdog {
 public:
  IdleWatchdog(std::chrono::milliseconds limit, StreamWriter& writer)
      : limit_(limit), writer_(writer), thread_([this] { run(); }) {}
  ~IdleWatchdog() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  void record() {
    std::lock_guard lock(mutex_);
    last_record_ = std::chrono::steady_clock::now();
  }
  bool fired() const {
    std::lock_guard lock(mutex_);
    return fired_;
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopped_) {
      const auto deadline = last_record_ + limit_;
      if (std::chrono::steady_clock::now() >= deadline) {
        fired_ = true;
        lock.unlock();
        writer_.finish();
        return;
      }
      wake_.wait_until(lock, deadline);
    }
  }

  const std::chrono::milliseconds limit_;
  StreamWriter& writer_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::chrono::steady_clock::time_point last_record_ = std::chrono::steady_clock::now();
  bool stopped_ = false;
  bool fired_ = false;
  std::thread thread_;
};

v1::SubscribeRequest openRequest(const ConsumeOptions& options, const std::string& cluster) {
  v1::SubscribeRequest request;
  v1::SessionSpec* spec = request.mutable_open();
  spec->set_cluster(cluster);
  spec->set_group(options.group);
  spec->add_topics(options.topic);
  spec->set_offset_reset(options.from_beginning ? v1::OFFSET_RESET_EARLIEST
                                                : v1::OFFSET_RESET_LATEST);
  spec->set_ack_mode(options.manual_ack ? v1::ACK_MODE_MANUAL : v1::ACK_MODE_AUTO);
  // Shorter than Kafka's 45 s: a ksctl run that dies without closing holds its partitions that
  // long, and brokers that wait out a member's session on rebalance (the embedded test broker)
  // make the next run wait for it.
  spec->set_session_timeout_ms(kSessionTimeoutMs);
  return request;
}

}  // namespace

int runConsume(CommandContext& context, std::span<const std::string_view> args) {
  ConsumeOptions options;
  if (auto error = parseOptions(args, options)) return context.usageError(kCommand, *error);

  auto stub = v1::Consumer::NewStub(context.channel);
  // No deadline: records may come at any pace. --timeout is the longest wait between them.
  grpc::ClientContext call;
  context.authorize(call);
  std::unique_ptr<Stream> stream = stub->Subscribe(&call);
  StreamWriter writer(*stream);
  std::optional<IdleWatchdog> watchdog;
  uint64_t printed = 0;
  if (writer.write(openRequest(options, context.cluster))) {
    if (context.timeout_given) watchdog.emplace(context.timeout, writer);
    v1::SubscribeResponse response;
    while ((!options.count || printed < *options.count) && stream->Read(&response)) {
      if (response.has_event() && response.event().has_error()) {
        const v1::KafkaError& error = response.event().error().error();
        context.err << "ksctl: " << kCommand << ": " << error.name() << ": " << error.message()
                    << "\n";
      }
      if (!response.has_records()) continue;
      if (watchdog) watchdog->record();
      const v1::PartitionRecords& batch = response.records();
      v1::SubscribeRequest ack;
      v1::PartitionOffsets* acked = ack.mutable_ack()->add_partitions();
      acked->set_topic(batch.topic());
      acked->set_partition(batch.partition());
      const auto print = [&] {
        for (const v1::ConsumedRecord& record : batch.records()) {
          if (options.count && printed == *options.count) break;
          if (options.json) {
            context.out << jsonLine(batch, record);
          } else {
            context.out << record.value() << '\n';
          }
          acked->add_offsets(record.offset());
          ++printed;
        }
        context.out.flush();
      };
      if (!options.manual_ack) {
        print();  // the sidecar acked the records as it sent them
      } else if (!writer.printAndAck(print, ack)) {
        break;
      }
    }
  }
  writer.finish();
  // The sidecar ends the call once the session is closed; anything still arriving is not
  // printed.
  v1::SubscribeResponse rest;
  while (stream->Read(&rest)) {
  }
  const bool idle = watchdog && watchdog->fired();
  watchdog.reset();
  grpc::Status status = stream->Finish();
  if (!status.ok() && !(idle && status.error_code() == grpc::StatusCode::CANCELLED)) {
    return context.rpcFailed(status);
  }
  return kExitOk;
}

}  // namespace kafka::ksctl
