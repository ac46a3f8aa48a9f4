// SidecarProcess: the built kafka-sidecar binary run as a child process against a given cluster,
// for tests that need the daemon to die the way a real one does (SIGKILL) or several daemons in
// one group.
//
// The child's stderr goes to a log file (not a pipe, which a chatty daemon could fill while the
// test is busy elsewhere); the constructor reads it until the gRPC listener line. When a test
// has failed, the destructor prints the end of the log. The child is killed (SIGKILL, by its
// pid) if it is still running when the object is destroyed. Every wait is bounded. Not
// thread-safe: one test thread drives it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kafka::interop {

class SidecarProcess {
 public:
  // Starts kafka-sidecar with --bootstrap-servers=`bootstrap`, gRPC and HTTP on 127.0.0.1 port
  // 0, and `extra_flags`; `name` tells its log apart. Waits up to `timeout` for the gRPC
  // listener; throws std::runtime_error when the child cannot start or does not listen in time.
  SidecarProcess(const std::string& name, const std::string& bootstrap,
                 const std::vector<std::string>& extra_flags = {},
                 std::chrono::milliseconds timeout = std::chrono::seconds(15));
  ~SidecarProcess();
  SidecarProcess(const SidecarProcess&) = delete;
  SidecarProcess& operator=(const SidecarProcess&) = delete;

  const std::string& name() const { return name_; }
  // "127.0.0.1:PORT" of the gRPC listener.
  const std::string& grpcAddress() const { return grpc_address_; }

  // SIGKILL, then reaps the child: it dies without a word to Kafka or to its callers.
  void kill();
  // SIGTERM, then waits up to `timeout` for the exit; the exit code (128 + N if killed by signal
  // N), nullopt if it had to be killed.
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));

  // Sends signal `number` and returns at once.
  void signal(int number);
  // Waits up to `timeout` for the child to exit; its exit code as stop() gives it, nullopt if it
  // is still running (it is not killed).
  std::optional<int> waitExit(std::chrono::milliseconds timeout);
  // The HTTP listener's port (/readyz, /metrics); 0 until the daemon has logged it.
  uint16_t httpPort() const;

  // Everything the daemon has logged so far.
  std::string log() const;

 private:
  // Reaps the child if it has exited (waits for it when `block`); true once it has.
  bool reap(bool block);

  std::string name_;
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string grpc_address_;
};

}  // namespace kafka::interop
