// The sidecar as a consumer: a Daemon in this process, read through one Consumer.Subscribe call
// per run by the client of bench/subscribe_reader.hpp.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <utility>

#include "bench/clients.hpp"
#include "bench/sidecar_daemon.hpp"
#include "bench/subscribe_reader.hpp"

namespace kafka::bench {
namespace {

namespace v1 = sidecar::v1;

class SidecarConsumer : public ConsumeClient {
 public:
  SidecarConsumer(const std::string& bootstraps, unsigned io_threads)
      : daemon_(bootstraps, io_threads, "consume-bench"),
        channel_(grpc::CreateChannel(daemon_.grpcAddress(), grpc::InsecureChannelCredentials())),
        stub_(v1::Consumer::NewStub(channel_)) {
    // Connected before the first run, as librdkafka and client_core are.
    channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }

  std::string_view name() const override { return "sidecar"; }

  RunResult run(const ConsumeSpec& spec) override { return readSubscription(*stub_, spec); }

 private:
  SidecarDaemon daemon_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Consumer::Stub> stub_;
};

}  // namespace

std::unique_ptr<ConsumeClient> makeSidecarConsumer(std::string bootstraps, unsigned io_threads) {
  return std::make_unique<SidecarConsumer>(bootstraps, io_threads);
}

}  // namespace kafka::bench
