#include "server/daemon.hpp"

#include <google/protobuf/descriptor.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/server_interceptor.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "client_core/common/log.hpp"
#include "proto/status_code_name.hpp"
#include "server/admin_service.hpp"
#include "server/auth_reload.hpp"
#include "server/broker_metrics.hpp"
#include "server/consumer_service.hpp"
#include "server/consumer_sessions.hpp"
#include "server/http_server.hpp"
#include "server/producer_pool.hpp"
#include "server/producer_service.hpp"
#include "server/rest_gateway.hpp"
#include "tools/mock_cluster/mock_cluster.hpp"

namespace kafka::sidecar {

namespace asio = boost::asio;

namespace {

// The topic --embedded-broker creates, so that there is something to look at.
constexpr std::string_view kDemoTopic = "demo";
constexpr int kDemoPartitions = 3;

std::vector<std::string> splitCommas(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// The whole of a PEM file that the config named; throws std::runtime_error naming it.
std::string readPem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty()) throw std::runtime_error("cannot read " + path);
  return text.str();
}

// What a listener's log line says of its security.
std::string securityNote(bool unix_socket, const ListenerTls& tls) {
  if (unix_socket) return " (plaintext, unix socket)";
  if (!tls.enabled()) return " (plaintext)";
  return tls.mutual() ? " (TLS, client certificates required)" : " (TLS)";
}

// gRPC creates its unix socket itself, in BuildAndStart(); until this chmod the socket has the
// umask's mode (0755 under the usual 022 umask, which lets no one else connect).
void chmodSocket(const std::string& path, unsigned mode) {
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    throw std::runtime_error("cannot set the mode of " + path + ": " + std::strerror(errno));
  }
}

// gRPC's calls to the sidecar's own services go through this prefix; health checks and reflection
// do not, and a shutdown need not wait for them (a health Watch never ends by itself).
constexpr std::string_view kOwnMethods = "/kafka.sidecar.v1.";

}  // namespace

// The calls of the sidecar's own services that gRPC has not finished with, so that a shutdown
// waits for them and no longer. grpc::Server::Shutdown(deadline) also waits, up to the deadline,
// for every client connection to close, and an idle client in another process notices the
// server's GOAWAY only at its next backup poll (every 5 s by default). Any thread.
class ActiveCalls {
 public:
  void enter() {
    std::lock_guard lock(mutex_);
    ++count_;
  }
  void leave() {
    std::lock_guard lock(mutex_);
    if (--count_ == 0) none_.notify_all();
  }
  // Blocks until no call is active (true) or `deadline` has passed (false).
  bool waitNone(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return none_.wait_until(lock, deadline, [this] { return count_ == 0; });
  }
  size_t count() const {
    std::lock_guard lock(mutex_);
    return count_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable none_;
  size_t count_ = 0;
};

namespace {

// Counts one call from the moment gRPC matches it until gRPC is done with it (its reactor's
// OnDone has run): gRPC creates it with the call and destroys it with the call's context. Also
// counts the call by its status in kafka_sidecar_grpc_requests_total, as the status is sent (so
// that a client that has it sees it counted), or as CANCELLED when none is sent.
class CallCounter final : public grpc::experimental::Interceptor {
 public:
  CallCounter(ActiveCalls& calls, Metrics& metrics, std::string method)
      : calls_(calls), metrics_(metrics), method_(std::move(method)) {
    calls_.enter();
  }
  ~CallCounter() override {
    if (!counted_) metrics_.grpcRequests(method_, "CANCELLED").Increment();
    calls_.leave();
  }
  CallCounter(const CallCounter&) = delete;
  CallCounter& operator=(const CallCounter&) = delete;

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (!counted_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      counted_ = true;
      const std::string code(statusCodeName(methods->GetSendStatus().error_code()));
      metrics_.grpcRequests(method_, code).Increment();
    }
    methods->Proceed();
  }

 private:
  ActiveCalls& calls_;
  Metrics& metrics_;
  const std::string method_;
  bool counted_ = false;
};

class CallCounterFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  CallCounterFactory(ActiveCalls& calls, Metrics& metrics) : calls_(calls), metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const std::string_view method = info->method();
    if (!method.starts_with(kOwnMethods)) return nullptr;
    // A name that the services do not define counts as "unknown": clients cannot make series up.
    std::string full_name(method.substr(1));
    std::replace(full_name.begin(), full_name.end(), '/', '.');
    const bool known =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full_name) != nullptr;
    return new CallCounter(calls_, metrics_, known ? std::string(method) : "unknown");
  }

 private:
  ActiveCalls& calls_;
  Metrics& metrics_;
};

// The label of an HTTP request in kafka_sidecar_http_requests_total: the template of the route
// that serves it, or "unmatched".
std::string httpRoute(std::string_view method, std::string_view path) {
  if (method == "GET" &&
      (path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/openapi.json")) {
    return "GET " + std::string(path);
  }
  const RestRoute* route = findRestRoute(method, path);
  return route ? std::string(route->verb) + " " + std::string(route->path) : "unmatched";
}

}  // namespace

Daemon::Daemon(DaemonConfig config, Signals signals)
    : config_(std::move(config)),
      signals_mode_(signals),
      control_strand_(asio::make_strand(io_.get_executor())),
      signals_(control_strand_),
      readiness_timer_(control_strand_),
      authorizer_(config_.auth_tokens) {}

Daemon::~Daemon() {
  requestStop();
  shutdown();
}

void Daemon::start() {
  {
    std::lock_guard lock(mutex_);
    if (started_) throw std::logic_error("Daemon::start() called twice");
    started_ = true;
  }
  try {
    ClusterConfig cluster;
    cluster.connection.client_id = config_.client_id;
    cluster.connection.version_caps = config_.api_version_caps;
    cluster.bootstrap_servers = config_.bootstrap_servers;
    cluster.observer = std::make_shared<BrokerMetrics>(metrics_);
    if (config_.embedded_brokers > 0) {
      embedded_ = std::make_unique<mock::MockCluster>(config_.embedded_brokers);
      embedded_->createTopic(kDemoTopic, kDemoPartitions);
      cluster.bootstrap_servers = splitCommas(embedded_->bootstraps());
      KS_LOG(kInfo, "daemon",
             "embedded Kafka cluster: " << config_.embedded_brokers << " broker(s) at "
                                        << embedded_->bootstraps() << ", topic '" << kDemoTopic
                                        << "' with " << kDemoPartitions << " partitions");
    }

    // Early, so that a SIGTERM during start-up also ends in a clean shutdown.
    if (signals_mode_ == Signals::kHandle) {
      signals_.add(SIGTERM);
      signals_.add(SIGINT);
      asio::post(control_strand_, [this] { awaitSignal(); });
    }

    work_.emplace(io_.get_executor());
    {
      std::lock_guard lock(mutex_);
      running_threads_ = config_.threads;
    }
    for (unsigned i = 0; i < config_.threads; ++i) threads_.emplace_back([this] { runIoThread(); });

    std::vector<ClusterConfig> configs;
    for (const auto& [name, servers] : config_.named_clusters) {
      ClusterConfig named = cluster;
      named.name = name;
      named.bootstrap_servers = servers;
      configs.push_back(std::move(named));
    }
    configs.push_back(std::move(cluster));
    clusters_ = std::make_unique<ClusterRegistry>(io_.get_executor(), std::move(configs));
    clusters_->startAll();
    producers_ = std::make_unique<ProducerPool>(io_.get_executor(), config_.producer);
    consumer_sessions_ = std::make_unique<ConsumerSessions>(io_.get_executor(), *clusters_,
                                                            config_.consumer, metrics_);
    // The HTTP server checks the TLS files first, with a clearer message than gRPC's.
    http_ = std::make_unique<HttpServer>(io_.get_executor());
    std::optional<TlsPem> tls;
    if (config_.tls.enabled()) {
      tls = TlsPem{readPem(config_.tls.cert_file), readPem(config_.tls.key_file),
                   config_.tls.mutual() ? readPem(config_.tls.client_ca_file) : std::string()};
      try {
        http_->setTls(*tls);
      } catch (const boost::system::system_error& error) {
        throw std::runtime_error("cannot use " + config_.tls.cert_file + " and " +
                                 config_.tls.key_file + " for TLS: " + error.code().message());
      }
    }
    startGrpc(tls ? &*tls : nullptr);
    startHttp();
    if (authorizer_.enabled() && !config_.auth_tokens_file.empty()) {
      std::string names;
      for (const TokenGrant& token : config_.auth_tokens) names += " '" + token.name + "'";
      KS_LOG(kInfo, "daemon",
             "bearer tokens required, from " << config_.auth_tokens_file << ":" << names);
      token_watcher_ = std::make_unique<TokenFileWatcher>(io_.get_executor(),
                                                          config_.auth_tokens_file, authorizer_);
      token_watcher_->start();
    }

    asio::co_spawn(control_strand_, publishReadiness(), asio::detached);
  } catch (...) {
    requestStop();
    shutdown();
    throw;
  }
}

void Daemon::awaitSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    const char* name = signal == SIGTERM ? "SIGTERM" : "SIGINT";
    bool again = false;
    {
      std::lock_guard lock(mutex_);
      again = stop_requested_;
    }
    if (again) {
      KS_LOG(
          kWarn, "daemon",
          "received " << name << " while draining; exiting at once with status " << 128 + signal);
      std::_Exit(128 + signal);
    }
    KS_LOG(kInfo, "daemon", "received " << name << ", draining (a second signal exits at once)");
    requestStop();
    awaitSignal();
  });
}

void Daemon::startGrpc(const TlsPem* tls) {
  admin_ = std::make_unique<AdminService>(io_.get_executor(), *clusters_, authorizer_);
  producer_service_ =
      std::make_unique<ProducerService>(*clusters_, *producers_, metrics_, authorizer_);
  consumer_service_ = std::make_unique<ConsumerService>(*consumer_sessions_, authorizer_);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  // gRPC shares ports by default (SO_REUSEPORT); a second daemon on our port must fail instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  const bool unix_socket = config_.grpc_listen.starts_with("unix:");
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (tls && !unix_socket) {
    grpc::SslServerCredentialsOptions options(
        tls->client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                               : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_key_cert_pairs.push_back({tls->private_key, tls->cert_chain});
    options.pem_root_certs = tls->client_ca;
    credentials = grpc::SslServerCredentials(options);
  }
  int selected_port = 0;
  builder.AddListeningPort(config_.grpc_listen, credentials, &selected_port);
  builder.RegisterService(admin_.get());
  builder.RegisterService(producer_service_.get());
  builder.RegisterService(consumer_service_.get());
  active_calls_ = std::make_unique<ActiveCalls>();
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counters;
  counters.push_back(std::make_unique<CallCounterFactory>(*active_calls_, metrics_));
  builder.experimental().SetInterceptorCreators(std::move(counters));
  grpc_server_ = builder.BuildAndStart();
  if (!grpc_server_ || selected_port == 0) {
    grpc_server_.reset();
    throw std::runtime_error("cannot listen for gRPC on " + config_.grpc_listen);
  }
  // Not serving until the clusters are ready; publishReadiness() takes it from here. Naming the
  // services registers them, so that checks of "kafka.sidecar.v1.Admin" work as well as "".
  grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
  health->SetServingStatus(v1::Admin::service_full_name(), false);
  health->SetServingStatus(v1::Producer::service_full_name(), false);
  health->SetServingStatus(v1::Consumer::service_full_name(), false);
  health->SetServingStatus(false);

  if (unix_socket) {
    grpc_address_ = config_.grpc_listen;
    chmodSocket(config_.grpc_listen.substr(5), config_.unix_socket_mode);
  } else {
    net::HostPort address = *parseListenAddress(config_.grpc_listen);
    address.port = static_cast<uint16_t>(selected_port);
    grpc_address_ = address.toString();
  }
  KS_LOG(kInfo, "daemon",
         "gRPC listening on " << grpc_address_ << securityNote(unix_socket, config_.tls));
}

void Daemon::startHttp() {
  // The probes answer clients without a certificate under mTLS: kubelet cannot present one.
  http_->addRoute(
      "/healthz",
      [] {
        return HttpResponse{200, "ok\n"};
      },
      HttpServer::Access::kAnyone);
  http_->addRoute(
      "/readyz",
      [this] {
        Readiness now = readiness();
        return now.ready ? HttpResponse{200, "ok\n"} : HttpResponse{503, now.reason + "\n"};
      },
      HttpServer::Access::kAnyone);
  http_->addRoute("/metrics", [this] {
    metrics_.producerBufferBytes().Set(static_cast<double>(producers_->bufferedBytes()));
    return HttpResponse{200, metrics_.scrape(), std::string(Metrics::kContentType)};
  });
  http_->setObserver([this](std::string_view method, std::string_view path, unsigned status) {
    metrics_.httpRequests(httpRoute(method, path), status).Increment();
  });
  // The REST gateway calls the gRPC services in-process; their answers may be large (a Poll's
  // max_bytes is the application's to choose), and this channel carries nothing from outside.
  grpc::ChannelArguments gateway_channel;
  gateway_channel.SetMaxReceiveMessageSize(-1);
  rest_ = std::make_unique<RestGateway>(grpc_server_->InProcessChannel(gateway_channel));
  http_->addRoute("/openapi.json", [this] {
    return HttpResponse{200, rest_->openApi(), "application/json"};
  });
  http_->setFallback([this](HttpRequest request, HttpServer::Responder respond) {
    rest_->handle(std::move(request), std::move(respond));
  });

  const bool unix_socket = !config_.http_unix_path.empty();
  if (unix_socket) {
    try {
      http_->listenUnix(config_.http_unix_path, config_.unix_socket_mode);
    } catch (const boost::system::system_error& error) {
      throw std::runtime_error("cannot listen for HTTP on unix:" + config_.http_unix_path + ": " +
                               error.code().message());
    } catch (const std::runtime_error& error) {
      throw std::runtime_error("cannot listen for HTTP on unix:" + config_.http_unix_path + ": " +
                               error.what());
    }
    http_address_ = "unix:" + config_.http_unix_path;
  } else {
    const net::HostPort& listen = config_.http_listen;
    boost::system::error_code ec;
    asio::ip::tcp::resolver resolver(io_);
    auto results = resolver.resolve(listen.host, std::to_string(listen.port),
                                    asio::ip::tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      throw std::runtime_error("cannot resolve HTTP listen address " + listen.toString() + ": " +
                               ec.message());
    }
    try {
      http_endpoint_ = http_->listen(results.begin()->endpoint());
    } catch (const boost::system::system_error& error) {
      throw std::runtime_error("cannot listen for HTTP on " + listen.toString() + ": " +
                               error.code().message());
    }
    http_address_ =
        net::HostPort{http_endpoint_.address().to_string(), http_endpoint_.port()}.toString();
  }
  KS_LOG(kInfo, "daemon",
         "HTTP listening on " << http_address_ << securityNote(unix_socket, config_.tls));
  if (config_.tls.enabled() && unix_socket && config_.grpc_listen.starts_with("unix:")) {
    KS_LOG(kWarn, "daemon", "TLS is configured, but both listeners are unix sockets: unused");
  }
}

std::string Daemon::embeddedBootstraps() const {
  return embedded_ ? embedded_->bootstraps() : std::string();
}

size_t Daemon::callsInFlightForTest() const {
  return active_calls_->count();
}

Readiness Daemon::readiness() const {
  if (stopping_) return {false, "shutting down"};
  if (!clusters_) return {false, "starting"};
  std::string reason;
  for (const auto& cluster : clusters_->all()) {
    if (cluster->ready()) continue;
    if (!reason.empty()) reason += "; ";
    reason += "cluster '" + cluster->name() + "': " +
              (cluster->metadata() ? "metadata is stale or its last refresh failed"
                                   : "no metadata yet (no broker has answered)");
  }
  if (reason.empty()) return {true, {}};
  return {false, "not ready: " + reason};
}

asio::awaitable<void> Daemon::publishReadiness() {
  std::optional<bool> published;
  for (;;) {
    if (stopping_) co_return;
    Readiness now = readiness();
    if (published != now.ready) {
      if (now.ready) {
        KS_LOG(kInfo, "daemon", "ready");
      } else if (published) {
        KS_LOG(kWarn, "daemon", now.reason);
      }
      grpc_server_->GetHealthCheckService()->SetServingStatus(now.ready);
      published = now.ready;
    }
    readiness_timer_.expires_after(kReadinessPoll);
    auto [ec] = co_await readiness_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

void Daemon::requestStop() {
  std::lock_guard lock(mutex_);
  stop_requested_ = true;
  changed_.notify_all();
}

void Daemon::wait() {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return stop_requested_; });
  }
  shutdown();
}

void Daemon::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (!started_ || shut_down_) return;
    shut_down_ = true;
  }
  stopping_ = true;
  const ShutdownTimeouts timeouts = ShutdownTimeouts::of(config_.shutdown_timeout);
  const auto begun = std::chrono::steady_clock::now();
  KS_LOG(kInfo, "daemon",
         "draining: not ready, refusing new produce calls and sessions, for at most "
             << config_.shutdown_timeout.count() << " ms");
  // NOT_SERVING for every service, and no later SetServingStatus (publishReadiness may be
  // about to publish) can undo it.
  if (grpc_server_) grpc_server_->GetHealthCheckService()->Shutdown();
  asio::post(control_strand_, [this] { readiness_timer_.cancel(); });
  if (token_watcher_) token_watcher_->stop();
  // New produce calls are refused from here on, and open produce streams end once the acks of
  // what they sent are written. The producers send what they hold at once, and fail what is left
  // before the calls' share is over, so that in-flight produce calls are answered for every
  // record.
  if (producer_service_) producer_service_->drain();
  if (producers_) producers_->startClose(timeouts.producers);
  // Meanwhile the consumer sessions commit what was acked and leave their groups; their calls
  // end once that is done. Nothing orders the two: a record acked to the sidecar is committed
  // whatever the producers do, and a produce ack never waits for a commit.
  if (consumer_sessions_) consumer_sessions_->startClose();
  if (grpc_server_) {
    if (!active_calls_->waitNone(begun + timeouts.calls)) {
      KS_LOG(kWarn, "daemon",
             active_calls_->count() << " call(s) still in flight after " << timeouts.calls.count()
                                    << " ms; cancelling them");
    }
    // Cancels what is left (see UnaryReactor and ProducerService), and closes the clients'
    // channels instead of waiting for them to hang up.
    grpc_server_->Shutdown(std::chrono::system_clock::now());
  }
  if (http_) http_->stop();
  auto left = [](std::chrono::steady_clock::time_point deadline) {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  // Records of cancelled calls may still be being delivered: they need the clusters up.
  if (producers_) producers_->waitClosed(left(begun + timeouts.calls));
  if (consumer_sessions_) consumer_sessions_->waitClosed(left(begun + timeouts.calls));
  if (clusters_) clusters_->stopAll();

  // The wait for signals keeps the io_context busy: from here on a signal takes its default
  // action, which ends the process as promptly.
  asio::post(control_strand_, [this] {
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    signals_.clear(ignored);
  });
  work_.reset();
  {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeouts.io_drain, [this] { return running_threads_ == 0; })) {
      KS_LOG(
          kWarn, "daemon",
          "I/O did not drain within " << timeouts.io_drain.count() << " ms; stopping it outright");
      io_.stop();
    }
  }
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  embedded_.reset();
  KS_LOG(kInfo, "daemon", "stopped");
}

void Daemon::runIoThread() {
  for (;;) {
    try {
      io_.run();
      break;
    } catch (const std::exception& error) {
      // A handler threw: log it and keep the thread serving everything else.
      KS_LOG(kError, "daemon", "uncaught exception on an I/O thread: " << error.what());
    }
  }
  std::lock_guard lock(mutex_);
  --running_threads_;
  changed_.notify_all();
}

}  // namespace kafka::sidecar
