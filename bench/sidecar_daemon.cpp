#include "bench/sidecar_daemon.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>
#include <utility>

#include "bench/bench_support.hpp"
#include "server/daemon.hpp"

namespace kafka::bench {
namespace {

constexpr std::chrono::seconds kReadyTimeout{30};

}  // namespace

SidecarDaemon::SidecarDaemon(const std::string& bootstraps, unsigned io_threads,
                             std::string client_id) {
  sidecar::DaemonConfig config;
  config.bootstrap_servers = splitList(bootstraps);
  config.grpc_listen = "127.0.0.1:0";
  config.http_listen = {"127.0.0.1", 0};
  config.client_id = std::move(client_id);
  config.threads = io_threads;
  daemon_ = std::make_unique<sidecar::Daemon>(std::move(config), sidecar::Daemon::Signals::kIgnore);
  daemon_->start();
  const auto deadline = Clock::now() + kReadyTimeout;
  while (!daemon_->readiness().ready) {
    if (Clock::now() > deadline) {
      std::string reason = daemon_->readiness().reason;
      daemon_->requestStop();
      daemon_->wait();
      throw std::runtime_error("sidecar: " + reason);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

SidecarDaemon::~SidecarDaemon() {
  daemon_->requestStop();
  daemon_->wait();
}

const std::string& SidecarDaemon::grpcAddress() const {
  return daemon_->grpcAddress();
}

}  // namespace kafka::bench
