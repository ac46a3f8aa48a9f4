// Daemon: the whole kafka-sidecar process behind main(): the io_context and its thread pool, the
// configured Kafka clusters with their producers and consumer sessions, the optional embedded
// test cluster, the gRPC server (Admin, Producer, Consumer, grpc.health.v1, reflection) and the
// HTTP server (probes, /metrics, the REST gateway). Both listeners serve TLS (and mTLS) on TCP
// when config.tls says so, and plaintext on unix sockets, whose mode is config.unix_socket_mode.
//
// Readiness: the daemon is ready when every cluster is ready() (fresh metadata) and it is not
// shutting down. /readyz and the grpc.health.v1 serving status (NOT_SERVING until ready, and for
// good once the drain starts) both follow it; /healthz only says the process is alive.
//
// Lifecycle: construct, start(), then wait(), which returns after SIGTERM, SIGINT or
// requestStop() once everything has shut down. Shutdown is a drain bounded by
// config.shutdown_timeout (see ShutdownTimeouts), in phases:
//   1. not ready, and nothing new: readiness goes false, new produce calls and new sessions fail
//      UNAVAILABLE; open produce streams end once the acks of what they sent are written, the
//      producers send what they hold at once and fail what is left when their share of the
//      timeout is over; meanwhile consumer sessions commit what was acked, leave their groups and
//      end their calls with UNAVAILABLE naming the shutdown;
//   2. once no call of the sidecar's services is in flight (or their share of the timeout is
//      over), gRPC shuts down at once, cancelling what is left and closing idle client channels
//      rather than waiting for the clients to hang up;
//   3. once the producers and the sessions are done, the clusters close their connections and
//      the I/O threads drain; the io_context is stopped outright if they have not in time.
// With Signals::kHandle, a signal that comes once a stop is under way ends the process at once
// with status 128 + the signal's number (143 for SIGTERM, 130 for SIGINT), skipping what is left
// of the drain; in its last phase, the signal's default action ends it the same way.
//
// Owned by main() (or a test). start() and wait() are called from one thread, which is not an
// I/O thread; requestStop() and the accessors may be called from any thread.
#pragma once

#include <grpcpp/server.h>

#include <atomic>
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
#include "server/auth.hpp"
#include "server/config.hpp"
#include "server/metrics.hpp"

namespace kafka::mock {
class MockCluster;
}

namespace kafka::sidecar {

class ActiveCalls;
class AdminService;
class ConsumerService;
class ConsumerSessions;
class HttpServer;
class ProducerPool;
class ProducerService;
class RestGateway;
struct TlsPem;
class TokenFileWatcher;

// The shares of a shutdown timeout that the phases of a drain get, all counted from its start.
struct ShutdownTimeouts {
  // In-flight calls finish within this, or are cancelled.
  std::chrono::milliseconds calls;
  // The producers deliver what they hold within this, and fail what is left; shorter than
  // `calls`, so that the outcome can still be written to the produce calls. (Consumer sessions
  // take no timeout of their own: their final commits and LeaveGroups end their calls.)
  std::chrono::milliseconds producers;
  // Then, once the clusters are stopped, the I/O threads drain within this.
  std::chrono::milliseconds io_drain;

  static constexpr ShutdownTimeouts of(std::chrono::milliseconds total) {
    const std::chrono::milliseconds io_drain = total / 10;
    const std::chrono::milliseconds calls = total - io_drain;
    return {.calls = calls, .producers = calls * 4 / 5, .io_drain = io_drain};
  }
};

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
  // Valid after start() when HTTP listens on TCP.
  const boost::asio::ip::tcp::endpoint& httpEndpoint() const { return http_endpoint_; }
  // Valid after start(): "127.0.0.1:8080" (the bound port) or "unix:PATH".
  const std::string& httpAddress() const { return http_address_; }
  // The embedded cluster's "host:port,..." list; empty without --embedded-broker.
  std::string embeddedBootstraps() const;
  Readiness readiness() const;
  // Valid after start().
  const ProducerPool& producersForTest() const { return *producers_; }
  // Calls of the sidecar's services in flight; valid after start().
  size_t callsInFlightForTest() const;

  // How long in-flight gRPC calls get to finish on shutdown with the default
  // --shutdown-timeout-ms before they are cancelled.
  static constexpr std::chrono::milliseconds kGrpcGrace =
      ShutdownTimeouts::of(kDefaultShutdownTimeout).calls;
  // How often readiness is re-evaluated for the gRPC health status.
  static constexpr std::chrono::milliseconds kReadinessPoll{200};

 private:
  // `tls`: null when the TCP listeners are plaintext.
  void startGrpc(const TlsPem* tls);
  void startHttp();
  boost::asio::awaitable<void> publishReadiness();
  // Arms signals_; on control_strand_.
  void awaitSignal();
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
  // The bearer tokens of config_ (none: every call is allowed); the services check with it, and
  // the watcher reloads it when the tokens file changes.
  Authorizer authorizer_;
  std::unique_ptr<TokenFileWatcher> token_watcher_;
  std::unique_ptr<mock::MockCluster> embedded_;
  std::unique_ptr<ClusterRegistry> clusters_;
  std::unique_ptr<ProducerPool> producers_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<ProducerService> producer_service_;
  std::unique_ptr<ConsumerSessions> consumer_sessions_;
  std::unique_ptr<ConsumerService> consumer_service_;
  // Counts the calls in flight; before the server, whose interceptors count into it.
  std::unique_ptr<ActiveCalls> active_calls_;
  std::unique_ptr<grpc::Server> grpc_server_;
  // Between the two: it calls the gRPC server, and the HTTP server calls it.
  std::unique_ptr<RestGateway> rest_;
  std::unique_ptr<HttpServer> http_;

  std::string grpc_address_;
  boost::asio::ip::tcp::endpoint http_endpoint_;
  std::string http_address_;

  std::vector<std::thread> threads_;
  std::mutex mutex_;  // guards the members below
  std::condition_variable changed_;
  bool started_ = false;
  bool stop_requested_ = false;
  // Set once, when the drain starts; read by readiness() too.
  std::atomic<bool> stopping_ = false;
  bool shut_down_ = false;
  unsigned running_threads_ = 0;
};

}  // namespace kafka::sidecar
