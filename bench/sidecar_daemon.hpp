// The daemon that the sidecar clients of the benchmarks drive: a sidecar::Daemon in this process,
// pointed at the benchmark's cluster, with gRPC on a free loopback port. The constructor returns
// once the daemon is ready (its cluster's metadata is fresh), or throws std::runtime_error; the
// destructor stops it. Used from the benchmark's main thread.
#pragma once

#include <memory>
#include <string>

namespace kafka::sidecar {
class Daemon;
}

namespace kafka::bench {

class SidecarDaemon {
 public:
  // `io_threads`: the daemon's --threads.
  SidecarDaemon(const std::string& bootstraps, unsigned io_threads, std::string client_id);
  ~SidecarDaemon();
  SidecarDaemon(const SidecarDaemon&) = delete;
  SidecarDaemon& operator=(const SidecarDaemon&) = delete;

  // "127.0.0.1:PORT".
  const std::string& grpcAddress() const;

 private:
  std::unique_ptr<sidecar::Daemon> daemon_;
};

}  // namespace kafka::bench
