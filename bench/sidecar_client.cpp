// The sidecar over gRPC: a Daemon in this process, pointed at the benchmark's cluster, and a
// synchronous gRPC client that streams records with ProduceStream, 1,000 per message, while a
// second thread reads the acks. The client reuses one request message, as an application that
// cares about allocation would; gRPC flow control (and behind it the producer's buffer) paces
// the writes.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <thread>
#include <utility>

#include "bench/clients.hpp"
#include "bench/sidecar_daemon.hpp"
#include "kafka/sidecar/v1/producer.grpc.pb.h"

namespace kafka::bench {
namespace {

namespace v1 = sidecar::v1;

constexpr size_t kRecordsPerMessage = 1000;

v1::Compression protoCompression(record::Compression codec) {
  switch (codec) {
    case record::Compression::kNone:
      return v1::COMPRESSION_NONE;
    case record::Compression::kGzip:
      return v1::COMPRESSION_GZIP;
    case record::Compression::kSnappy:
      return v1::COMPRESSION_SNAPPY;
    case record::Compression::kLz4:
      return v1::COMPRESSION_LZ4;
    case record::Compression::kZstd:
      return v1::COMPRESSION_ZSTD;
  }
  return v1::COMPRESSION_UNSPECIFIED;
}

// Counts the acks of one stream into `tally`; runs on its own thread until the stream ends.
void readAcks(grpc::ClientReaderWriter<v1::ProduceStreamRequest, v1::ProduceStreamResponse>& stream,
              DeliveryTally& tally) {
  v1::ProduceStreamResponse response;
  while (stream.Read(&response)) {
    for (const v1::ProduceAck& ack : response.acks()) {
      for (uint64_t id : ack.ids()) {
        if (ack.has_error()) {
          tally.failed(id, ack.error().name() + ": " + ack.error().message());
        } else {
          tally.delivered(id);
        }
      }
    }
  }
}

class SidecarClient : public BenchClient {
 public:
  SidecarClient(const std::string& bootstraps, unsigned io_threads)
      : daemon_(bootstraps, io_threads, "produce-bench"),
        stub_(v1::Producer::NewStub(
            grpc::CreateChannel(daemon_.grpcAddress(), grpc::InsecureChannelCredentials()))) {}

  std::string_view name() const override { return "sidecar"; }

  RunResult run(const RunSpec& spec) override {
    const auto deadline = Clock::now() + kRunTimeout;
    DeliveryTally warmup(1);
    if (std::string error = stream(spec.topic, spec, warmup, deadline); !error.empty()) {
      return {0, "warm-up: " + error};
    }
    DeliveryTally tally(spec.workload.records);
    const auto start = Clock::now();
    std::string error = stream(spec.topic, spec, tally, deadline);
    const std::chrono::duration<double> elapsed = tally.completedAt() - start;
    return {elapsed.count(), error};
  }

 private:
  // Streams records [0, tally.records()) to `topic` in one call and reads every ack. Empty when
  // each record was delivered exactly once; otherwise what went wrong.
  std::string stream(const std::string& topic, const RunSpec& spec, DeliveryTally& tally,
                     Clock::time_point deadline) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + (deadline - Clock::now()));
    auto call = stub_->ProduceStream(&context);
    std::thread reader([&] { readAcks(*call, tally); });

    v1::ProduceStreamRequest request;
    request.mutable_settings()->set_acks(v1::ACKS_ALL);
    request.mutable_settings()->set_compression(protoCompression(spec.workload.codec));
    request.set_topic(topic);
    const size_t total = tally.records();
    bool broken = false;
    for (size_t base = 0; base < total && !broken; base += kRecordsPerMessage) {
      const size_t count = std::min(kRecordsPerMessage, total - base);
      // Clear() keeps the record objects, and their value buffers, for reuse.
      request.mutable_records()->Clear();
      for (size_t i = 0; i < count; ++i) {
        v1::ProduceRecord* record = request.add_records();
        auto value = spec.payloads.value(base + i);
        record->set_value(value.data(), value.size());
        record->set_id(base + i);
      }
      broken = !call->Write(request);
    }
    if (!broken) call->WritesDone();
    reader.join();
    grpc::Status status = call->Finish();
    if (!status.ok()) {
      return "ProduceStream ended with status " + std::to_string(status.error_code()) + ": " +
             status.error_message() + " (" + tally.verdict() + ")";
    }
    return runError(tally, false);
  }

  SidecarDaemon daemon_;
  std::unique_ptr<v1::Producer::Stub> stub_;
};

}  // namespace

std::unique_ptr<BenchClient> makeSidecarClient(std::string bootstraps, unsigned io_threads) {
  return std::make_unique<SidecarClient>(bootstraps, io_threads);
}

}  // namespace kafka::bench
