// idle_sessions_bench: how much memory the daemon needs per idle consumer session. For each
// session count, it starts a mock-cluster process and a kafka-sidecar process (separate, so that
// neither the mock's memory nor this program's counts against the daemon), measures the daemon's
// resident memory with no session, opens the sessions with Consumer.Open (each a member of a
// group of its own, subscribed to one topic of one partition), waits until every session has
// been assigned its partition (seen through Poll), lets them idle (heartbeating, with a fetch
// standing) for a while, and measures again. Exits 0 when every level was measured with every
// session assigned, 1 otherwise, 2 on bad arguments.
#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"
#include "kafka/sidecar/v1/consumer.grpc.pb.h"

namespace kafka::bench {
namespace {

namespace v1 = sidecar::v1;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::string_view kUsage =
    R"(Usage: idle_sessions_bench [options]
Starts mock-cluster and kafka-sidecar as processes, opens idle consumer sessions (Consumer.Open,
each in a group of its own, subscribed to one topic), and prints the daemon's resident memory
(VmRSS) without sessions and with them, and the difference per session.
  --sessions LIST     comma-separated session counts, each measured with a fresh daemon and
                      mock (default 1,100,1000)
  --settle-seconds N  how long the sessions idle, once all are assigned, before the
                      measurement (default 20: past the first heartbeat of each)
  --threads N         the daemon's --threads (default 2)
  --sidecar PATH      the kafka-sidecar binary (default: the one built with this program)
  --mock-cluster PATH the mock-cluster binary (default: the one built with this program)
  --help              show this text
)";

constexpr std::string_view kTopic = "idle";
constexpr auto kStartTimeout = 30s;
// The mock holds a group's first join for 3 s; every session joins at once.
constexpr auto kAssignTimeout = 120s;
constexpr auto kStopTimeout = 20s;

struct IdleOptions {
  std::vector<size_t> sessions{1, 100, 1000};
  int settle_seconds = 20;
  unsigned threads = 2;
  std::string sidecar = SIDECAR_PATH;
  std::string mock_cluster = MOCK_CLUSTER_PATH;
};

// Throws UsageError; nullopt for --help.
std::optional<IdleOptions> parseIdleOptions(int argc, char** argv) {
  IdleOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help") return std::nullopt;
    if (i + 1 == argc) throw UsageError{std::string(flag) + " needs a value, or is unknown"};
    std::string_view value = argv[++i];
    if (flag == "--sessions") {
      options.sessions.clear();
      for (const auto& count : splitList(value)) {
        options.sessions.push_back(parseNumber<size_t>(flag, count, 1, 100'000));
      }
    } else if (flag == "--settle-seconds") {
      options.settle_seconds = parseNumber(flag, value, 0, 3600);
    } else if (flag == "--threads") {
      options.threads = parseNumber(flag, value, 1u, 64u);
    } else if (flag == "--sidecar") {
      options.sidecar = value;
    } else if (flag == "--mock-cluster") {
      options.mock_cluster = value;
    } else {
      throw UsageError{"unknown option " + std::string(flag)};
    }
  }
  return options;
}

// A child process: `argv` run with its stdin (and, when `stdout_pipe`, its stdout) on pipes to
// this process, and its stderr (and otherwise its stdout) appended to `log`. The destructor ends
// it: stdin closed and SIGTERM, a bounded wait, then SIGKILL. Used from one thread.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const fs::path& log, bool stdout_pipe) {
    int in[2];
    int out[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) != 0 || (stdout_pipe && pipe2(out, O_CLOEXEC) != 0)) {
      throw std::runtime_error("pipe failed");
    }
    const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::runtime_error("cannot open " + log.string());
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(in[0], STDIN_FILENO);
      dup2(stdout_pipe ? out[1] : log_fd, STDOUT_FILENO);
      dup2(log_fd, STDERR_FILENO);
      execv(args[0], args.data());
      _exit(127);
    }
    close(in[0]);
    close(log_fd);
    stdin_ = in[1];
    if (stdout_pipe) {
      close(out[1]);
      stdout_ = out[0];
    }
  }
  ~ChildProcess() {
    if (stdin_ >= 0) close(stdin_);
    if (stdout_ >= 0) close(stdout_);
    kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + kStopTimeout;
    while (waitpid(pid_, nullptr, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The next line of the child's stdout, without its newline; throws if none comes in time.
  std::string readLine(std::chrono::milliseconds timeout) {
    std::string line;
    const auto deadline = Clock::now() + timeout;
    char c = 0;
    while (true) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd ready{stdout_, POLLIN, 0};
      if (left.count() <= 0 || poll(&ready, 1, static_cast<int>(left.count())) <= 0 ||
          read(stdout_, &c, 1) != 1) {
        throw std::runtime_error("no line from child " + std::to_string(pid_));
      }
      if (c == '\n') return line;
      line.push_back(c);
    }
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
};

// A field of /proc/PID/status in KiB (VmRSS, VmHWM, ...); 0 when absent.
size_t statusKiB(pid_t pid, std::string_view field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(std::string(field) + ":")) {
      return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return 0;
}

size_t openFiles(pid_t pid) {
  size_t count = 0;
  for ([[maybe_unused]] const auto& entry :
       fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++count;
  }
  return count;
}

bool fileContains(const fs::path& path, std::string_view text) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

struct Measurement {
  size_t sessions = 0;
  size_t assigned = 0;
  size_t baseline_kib = 0;
  size_t rss_kib = 0;
  size_t fds_before = 0;
  size_t fds = 0;
  size_t mock_rss_kib = 0;
};

// Opens `count` sessions and polls them until each has been assigned its partition; returns how
// many were.
size_t openSessions(v1::Consumer::Stub& stub, size_t count) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < count; ++i) {
    v1::OpenRequest request;
    request.mutable_spec()->set_group("idle-" + std::to_string(i));
    request.mutable_spec()->add_topics(std::string(kTopic));
    v1::OpenResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    grpc::Status status = stub.Open(&context, request, &response);
    if (!status.ok()) {
      throw std::runtime_error("Open of session " + std::to_string(i) + ": " +
                               status.error_message());
    }
    ids.push_back(response.session_id());
  }
  std::vector<bool> assigned(count, false);
  size_t done = 0;
  const auto deadline = Clock::now() + kAssignTimeout;
  while (done < count && Clock::now() < deadline) {
    for (size_t i = 0; i < count; ++i) {
      if (assigned[i]) continue;
      v1::PollRequest request;
      request.set_session_id(ids[i]);
      request.set_timeout_ms(10);
      v1::PollResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + 10s);
      grpc::Status status = stub.Poll(&context, request, &response);
      if (!status.ok()) {
        throw std::runtime_error("Poll of session " + std::to_string(i) + ": " +
                                 status.error_message());
      }
      for (const v1::ConsumerEvent& event : response.events()) {
        if (event.has_error()) {
          std::cerr << "  session " << i << ": " << event.error().error().message() << "\n";
        }
        if (event.has_assigned() && event.assigned().partitions_size() > 0) {
          assigned[i] = true;
          ++done;
        }
      }
    }
  }
  return done;
}

Measurement measure(const IdleOptions& options, size_t sessions, const fs::path& dir) {
  Measurement m;
  m.sessions = sessions;
  const std::string tag = std::to_string(sessions);
  ChildProcess mock({options.mock_cluster, "--brokers", "3", "--topic", std::string(kTopic) + ":1"},
                    dir / ("mock-" + tag + ".log"), true);
  const std::string bootstraps = mock.readLine(kStartTimeout);

  const fs::path socket = dir / ("grpc-" + tag + ".sock");
  const fs::path log = dir / ("sidecar-" + tag + ".log");
  ChildProcess daemon({options.sidecar, "--bootstrap-servers", bootstraps, "--grpc-listen",
                       "unix:" + socket.string(), "--http-listen", "127.0.0.1:0", "--threads",
                       std::to_string(options.threads), "--max-consumer-sessions", "100000",
                       "--consumer-session-idle-ttl-ms", "3600000", "--log-level", "info"},
                      log, false);
  const auto ready_deadline = Clock::now() + kStartTimeout;
  while (!fileContains(log, "[daemon] ready")) {
    if (Clock::now() > ready_deadline) throw std::runtime_error("the daemon never got ready");
    std::this_thread::sleep_for(50ms);
  }
  auto channel = grpc::CreateChannel("unix:" + socket.string(), grpc::InsecureChannelCredentials());
  auto stub = v1::Consumer::NewStub(channel);
  channel->WaitForConnected(std::chrono::system_clock::now() + 10s);
  std::this_thread::sleep_for(2s);
  m.baseline_kib = statusKiB(daemon.pid(), "VmRSS");
  m.fds_before = openFiles(daemon.pid());

  const auto start = Clock::now();
  m.assigned = openSessions(*stub, sessions);
  std::cerr << "  " << sessions << " sessions: " << m.assigned << " assigned after "
            << fixed(std::chrono::duration<double>(Clock::now() - start).count(), 1)
            << " s; idling " << options.settle_seconds << " s\n";
  std::this_thread::sleep_for(std::chrono::seconds(options.settle_seconds));
  m.rss_kib = statusKiB(daemon.pid(), "VmRSS");
  m.fds = openFiles(daemon.pid());
  m.mock_rss_kib = statusKiB(mock.pid(), "VmRSS");
  return m;
}

int run(const IdleOptions& options) {
  char pattern[] = "/tmp/idle_sessions_bench.XXXXXX";
  if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  const fs::path dir = pattern;
  std::cout << "idle_sessions_bench: daemon --threads " << options.threads << ", sessions idle "
            << options.settle_seconds << " s after all are assigned; logs in " << dir.string()
            << " (removed unless something failed)\n"
            << std::flush;
  std::vector<Measurement> results;
  bool all_ok = true;
  for (size_t sessions : options.sessions) {
    try {
      results.push_back(measure(options, sessions, dir));
      all_ok &= results.back().assigned == sessions;
    } catch (const std::exception& e) {
      std::cerr << "  " << sessions << " sessions: FAILED: " << e.what() << "\n";
      all_ok = false;
    }
  }
  std::printf("\n%8s %8s %12s %12s %12s %9s %12s\n", "sessions", "assigned", "baseline MiB",
              "RSS MiB", "KiB/session", "fds", "mock MiB");
  for (const Measurement& m : results) {
    const double per_session =
        (static_cast<double>(m.rss_kib) - static_cast<double>(m.baseline_kib)) /
        static_cast<double>(m.sessions);
    std::printf("%8zu %8zu %12.1f %12.1f %12.1f %4zu->%-4zu %12.1f\n", m.sessions, m.assigned,
                static_cast<double>(m.baseline_kib) / 1024, static_cast<double>(m.rss_kib) / 1024,
                per_session, m.fds_before, m.fds, static_cast<double>(m.mock_rss_kib) / 1024);
  }
  std::printf("target: <= 64 KiB per idle session\n");
  if (!all_ok) {
    std::printf("FAILED: some levels were not measured, or not every session was assigned\n");
  }
  std::fflush(stdout);
  if (all_ok) fs::remove_all(dir);
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace kafka::bench

int main(int argc, char** argv) {
  using namespace kafka::bench;
  std::optional<IdleOptions> options;
  try {
    options = parseIdleOptions(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "idle_sessions_bench: " << e.message << "\n" << kUsage;
    return 2;
  }
  if (!options) {
    std::cout << kUsage;
    return 0;
  }
  try {
    return run(*options);
  } catch (const std::exception& e) {
    std::cerr << "idle_sessions_bench: " << e.what() << "\n";
    return 1;
  }
}
