// Daemon: the whole kafka-sidecar process behind main(): the io_context and its thread pool, the
// configured Kafka clusters with their producers and consumer sessions, the optional embedded
// test cluster, the gRPC server (Admin, Producer, Consumer, grpc.health.v1, reflection) and the
// HTTP probe server.
//
// Readiness: the daemon is ready when every cluster is ready() (fresh metadata). /readyz and the
// grpc.health.v1 serving status (NOT_SERVING until ready) both follow it; /healthz only says the
// process is alive.
//
// Lifecycle: construct, start(), then wait(), which returns after SIGTERM, SIGINT or
// requestStop() once everything has shut down. Shutdown runs in phases, each bounded in time:
//   1. stop accepting: new produce calls fail UNAVAILABLE, open produce streams end once their
//      acks are written, and the producers send what they hold at once and fail what is left
//      after a timeout shorter than the grace period that in-flight gRPC calls get before they
//      are cancelled; consumer sessions commit what was acked and leave their groups, and their
//      calls end (UNAVAILABLE) once that is done;
//   2. once the producers and the sessions are done, the clusters close their connections and
//      the I/O threads drain; the io_context is stopped outright if they have not within a
//      bounded time.
//
// Owned by main() (or a test). start() and wait() are called from one thread, which is not an
// I/O thread; requestStop() and the accessors may be called from any thread.
#pragma once

#include <grpcpp/server.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "server/config.hpp"
#include "server/metrics.hpp"

namespace kafka::mock {
class MockCluster;
}

namespace kafka::sidecar {

class AdminService;
class ConsumerService;
class ConsumerSessions;
class HttpServer;
class ProducerPool;
class ProducerService;
class RestGateway;

struct Readiness {
  bool ready = false;
  std::string reason;  // why not, when not ready
};

class Daemon {
 public:
  enum class Signals { kHandle, kIgnore };

  explicit Daemon(DaemonConfig config, Signals signals = Signals::kHandle);
  // Stops and waits if the daemon is still running.
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Starts the embedded cluster (if configured), the I/O threads, the clusters, the gRPC server
  // and the HTTP server, and logs one line per listener. Throws std::runtime_error naming what
  // failed (e.g. an address that cannot be bound), after stopping whatever had started.
  void start();
  // Makes wait() shut down and return. Idempotent.
  void requestStop();
  // Blocks until a stop is requested, then shuts everything down.
  void wait();

  // Valid after start(). "127.0.0.1:43121" (the bound port) or "unix:PATH".
  const std::string& grpcAddress() const { return grpc_address_; }
  const boost::asio::ip::tcp::endpoint& httpEndpoint() const { return http_endpoint_; }
  // The embedded cluster's "host:port,..." list; empty without --embedded-broker.
  std::string embeddedBootstraps() const;
  Readiness readiness() const;
  // Valid after start().
  const ProducerPool& producersForTest() const { return *producers_; }

  // How long in-flight gRPC calls get to finish on shutdown before they are cancelled, and how
  // long the I/O threads then get to drain before the io_context is stopped outright.
  static constexpr std::chrono::seconds kGrpcGrace{5};
  static constexpr std::chrono::seconds kDrainTimeout{5};
  // How long the producers get to deliver what they hold; shorter than kGrpcGrace, so that
  // produce calls can still be answered.
  static constexpr std::chrono::seconds kProducerCloseTimeout{4};
  // How long consumer sessions get for their final commit and LeaveGroup; they close while the
  // producers do, and their calls end once they have.
  static constexpr std::chrono::seconds kConsumerCloseTimeout{4};
  // How often readiness is re-evaluated for the gRPC health status.
  static constexpr std::chrono::milliseconds kReadinessPoll{200};

 private:
  void startGrpc();
  void startHttp();
  boost::asio::awaitable<void> publishReadiness();
  void shutdown();
  void runIoThread();

  DaemonConfig config_;
  Signals signals_mode_;

  // Declared first so that it is destroyed last: everything below uses it.
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  boost::asio::strand<boost::asio::io_context::executor_type> control_strand_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer readiness_timer_;

  // Before everything that counts into it, so that it outlives them.
  Metrics metrics_;
  std::unique_ptr<mock::MockCluster> embedded_;
  std::unique_ptr<ClusterRegistry> clusters_;
  std::unique_ptr<ProducerPool> producers_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<ProducerService> producer_service_;
  std::unique_ptr<ConsumerSessions> consumer_sessions_;
  std::unique_ptr<ConsumerService> consumer_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  // Between the two: it calls the gRPC server, and the HTTP server calls it.
  std::unique_ptr<RestGateway> rest_;
  std::unique_ptr<HttpServer> http_;

  std::string grpc_address_;
  boost::asio::ip::tcp::endpoint http_endpoint_;

  std::vector<std::thread> threads_;
  std::mutex mutex_;  // guards the members below
  std::condition_variable changed_;
  bool started_ = false;
  bool stop_requested_ = false;
  bool stopping_ = false;  // read on control_strand_ too, hence also set under the mutex
  bool shut_down_ = false;
  unsigned running_threads_ = 0;
};

}  // namespace kafka::sidecar
