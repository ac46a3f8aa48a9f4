// Helpers for the server tests: bounded waiting, a small HTTP client, and child processes with
// captured output. Every wait here is bounded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/config.hpp"

namespace kafka::sidecar::testing {

inline constexpr std::chrono::seconds kWait{15};

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns its last value.
bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout = kWait);

// A daemon's settings for a test: gRPC and HTTP on loopback ports 0, two I/O threads, the
// cluster at `bootstraps`, and a 1 ms linger so that produce calls answer at once.
DaemonConfig loopbackDaemonConfig(const std::string& bootstraps);

struct HttpReply {
  unsigned status = 0;  // 0 when the request failed
  std::string body;
  std::string allow;         // the Allow header
  std::string content_type;  // the Content-Type header
  std::string error;         // why it failed
};

// One request on a fresh connection to 127.0.0.1:port, with a 5 s bound; a `body` is sent as
// `content_type`, and a non-empty `authorization` as the Authorization header.
HttpReply httpRequest(uint16_t port, std::string_view method, std::string_view target,
                      std::string_view body = {},
                      std::string_view content_type = "application/json",
                      std::string_view authorization = {});
// Two GETs of `target` on one kept-alive connection; empty when either failed.
std::vector<HttpReply> httpTwiceOnOneConnection(uint16_t port, std::string_view target);

struct ProcessResult {
  std::optional<int> exit_code;  // 128 + N when killed by signal N; nullopt when it timed out
  std::string out;
  std::string err;
};

// A child process with stdout and stderr captured through pipes. The destructor kills it
// (SIGKILL) if it is still running, and reaps it.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads output until a stderr line contains `needle`; returns that line.
  std::optional<std::string> waitForStderrLine(std::string_view needle,
                                               std::chrono::milliseconds timeout = kWait);
  void signal(int signal_number);
  // Reads output until the process exits; returns its exit code (see ProcessResult).
  std::optional<int> waitForExit(std::chrono::milliseconds timeout = kWait);

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

  // Runs `argv` to completion (killed after `timeout`).
  static ProcessResult run(const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout = kWait);

 private:
  // Reads whatever is available within `timeout`; false once both pipes are closed.
  bool pump(std::chrono::milliseconds timeout);
  bool reap(bool block);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  size_t err_scanned_ = 0;
  std::optional<int> exit_code_;
};

// ksctl run in-process with `args` (no input); exit_code is always set.
ProcessResult runKsctlInProcess(std::vector<std::string_view> args);

// The port of a "... listening on HOST:PORT" log line, or 0.
uint16_t portOfLogLine(std::string_view line);

}  // namespace kafka::sidecar::testing
