// grpc_only: what the sidecar's transport alone allows. A bare gRPC server in this process
// answers Consumer.Subscribe with the workload's records, encoded beforehand exactly as the
// daemon encodes them (server/encoded_record.hpp) in responses of up to 1 MiB of one partition
// each (the daemon's largest), and reads the acks without applying them. Its client is the
// sidecar's: the same synchronous reader that acks every response. No Kafka is involved: no
// fetching, decoding, session bookkeeping or commit, and the mock's thread stays idle, so the
// rate is an upper bound for the sidecar on this machine, not a figure the daemon could reach.
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench/clients.hpp"
#include "bench/subscribe_reader.hpp"
#include "server/encoded_record.hpp"

namespace kafka::bench {
namespace {

namespace v1 = sidecar::v1;

constexpr size_t kResponseValueBytes = 1024 * 1024;  // the daemon's largest take

// The responses of one run, in the order they are written.
using Responses = std::vector<grpc::ByteBuffer>;

Responses encodeWorkload(const Workload& workload, const std::string& topic, int partitions) {
  const Payloads payloads(workload.record_bytes);
  std::vector<std::vector<sidecar::EncodedRecord>> pending(static_cast<size_t>(partitions));
  std::vector<size_t> pending_bytes(pending.size(), 0);
  Responses responses;
  auto flush = [&](size_t p) {
    if (pending[p].empty()) return;
    responses.push_back(sidecar::recordsResponse({topic, static_cast<int32_t>(p)}, pending[p]));
    pending[p].clear();
    pending_bytes[p] = 0;
  };
  // A default batch: encodeRecord reads only its timestamp type (create time) from it.
  record::RecordBatch batch;
  for (size_t i = 0; i < workload.records; ++i) {
    const size_t p = i % pending.size();
    record::Record record;
    record.offset = static_cast<int64_t>(i / pending.size());
    record.timestamp = 1'700'000'000'000;
    record.value = payloads.value(i);
    pending[p].push_back(sidecar::encodeRecord(batch, record));
    pending_bytes[p] += workload.record_bytes;
    if (pending_bytes[p] >= kResponseValueBytes) flush(p);
  }
  for (size_t p = 0; p < pending.size(); ++p) flush(p);
  return responses;
}

// One Subscribe call: every prepared response written in turn while acks are read, until the
// client closes the session. gRPC may run OnReadDone and OnWriteDone at once on two threads.
class Stream : public grpc::ServerGenericBidiReactor {
 public:
  explicit Stream(const Responses& responses) : responses_(responses) { StartRead(&incoming_); }

  void OnReadDone(bool ok) override {
    bool closed = !ok;
    if (ok && opened_) {  // an ack, or the close
      v1::SubscribeRequest request;
      closed = !grpc::SerializationTraits<v1::SubscribeRequest>::Deserialize(&incoming_, &request)
                    .ok() ||
               request.has_close();
    }
    const bool open_now = ok && !opened_;
    opened_ = true;
    if (!closed) StartRead(&incoming_);  // only this callback reads, one read at a time
    std::unique_lock lock(mutex_);
    closed_ = closed_ || closed;
    if (open_now) return writeNext(lock);
    finishIfDone(lock);
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(mutex_);
    writing_ = false;
    if (!ok) closed_ = true;
    writeNext(lock);
  }

  void OnDone() override { delete this; }

 private:
  // Writes the next response, or finishes once closed with no write in flight.
  void writeNext(std::unique_lock<std::mutex>& lock) {
    if (closed_ || next_ == responses_.size()) return finishIfDone(lock);
    writing_ = true;
    const grpc::ByteBuffer* next = &responses_[next_++];
    lock.unlock();
    StartWrite(next);
  }

  void finishIfDone(std::unique_lock<std::mutex>& lock) {
    if (!closed_ || writing_ || finished_) return;
    finished_ = true;
    lock.unlock();
    Finish(grpc::Status::OK);
  }

  const Responses& responses_;
  grpc::ByteBuffer incoming_;
  bool opened_ = false;  // read callbacks only
  std::mutex mutex_;     // guards what follows
  size_t next_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  bool finished_ = false;
};

class Service : public grpc::CallbackGenericService {
 public:
  void serve(Responses responses) { responses_ = std::move(responses); }

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    if (context->method() != "/kafka.sidecar.v1.Consumer/Subscribe") {
      return grpc::CallbackGenericService::CreateReactor(context);  // UNIMPLEMENTED
    }
    return new Stream(responses_);
  }

 private:
  Responses responses_;
};

class GrpcOnlyConsumer : public ConsumeClient {
 public:
  GrpcOnlyConsumer() {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
    if (!server_ || port == 0) throw std::runtime_error("grpc_only: no gRPC server");
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Consumer::NewStub(channel_);
    channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }
  ~GrpcOnlyConsumer() override { server_->Shutdown(); }

  std::string_view name() const override { return "grpc_only"; }

  void prepareRun(const ConsumeSpec& spec) override {
    service_.serve(encodeWorkload(spec.workload, spec.topic, spec.partitions));
  }

  RunResult run(const ConsumeSpec& spec) override { return readSubscription(*stub_, spec); }

 private:
  Service service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Consumer::Stub> stub_;
};

}  // namespace

std::unique_ptr<ConsumeClient> makeGrpcOnlyConsumer() {
  return std::make_unique<GrpcOnlyConsumer>();
}

}  // namespace kafka::bench
