#include "tests/integration/mock_cluster_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "client_core/net/host_port.hpp"

namespace kafka::integration {

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}
namespace {

using Clock = std::chrono::steady_clock;

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~UniqueFd() { reset(-1); }

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Both ends close on exec, so that no other child (tests may run several) inherits a copy that
// would keep a pipe from reporting end of file.
std::pair<UniqueFd, UniqueFd> makePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

struct Child {
  pid_t pid = -1;
  UniqueFd in;   // its stdin, our write end
  UniqueFd out;  // its stdout, our read end
  UniqueFd err;  // its stderr if captured, our read end
};

Child spawnMockCluster(const std::vector<std::string>& args, bool capture_stderr) {
  std::vector<std::string> words{MOCK_CLUSTER_PATH};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);

  auto [in_read, in_write] = makePipe();
  auto [out_read, out_write] = makePipe();
  std::pair<UniqueFd, UniqueFd> err_pipe;
  if (capture_stderr) err_pipe = makePipe();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_read.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
  if (capture_stderr)
    posix_spawn_file_actions_adddup2(&actions, err_pipe.second.get(), STDERR_FILENO);

  // The child must see SIGTERM and SIGINT whatever this test process blocks or ignores.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  Child child;
  int rc = posix_spawn(&child.pid, MOCK_CLUSTER_PATH, &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::system_error(rc, std::generic_category(), "cannot start " MOCK_CLUSTER_PATH);
  }
  child.in = std::move(in_write);
  child.out = std::move(out_read);
  child.err = std::move(err_pipe.first);
  return child;
}

int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Polls for the child's end until `deadline`, with short growing pauses.
std::optional<int> reap(pid_t pid, Clock::time_point deadline) {
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return exitCodeOf(status);
    if (r < 0 && errno != EINTR) return std::nullopt;
    Clock::time_point now = Clock::now();
    if (now >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

int killAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return exitCodeOf(status);
}

int pollTimeoutMs(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

// Writes all of `data`; false if the reader has gone. SIGPIPE is held back for this thread and
// consumed, so that a child that died fails the write instead of killing the test binary.
bool writeAll(int fd, std::string_view data) {
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
  bool ok = true;
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno == EPIPE) {
        timespec no_wait{};
        sigtimedwait(&pipe_signal, nullptr, &no_wait);
      }
      ok = false;
      break;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return ok;
}

}  // namespace

MockClusterProcess::MockClusterProcess(const MockClusterOptions& options,
                                       std::chrono::milliseconds start_timeout) {
  std::vector<std::string> args{"--brokers", std::to_string(options.brokers)};
  for (const auto& [name, partitions] : options.topics) {
    args.push_back("--topic");
    args.push_back(name + ":" + std::to_string(partitions));
  }
  Child child = spawnMockCluster(args, false);
  pid_ = child.pid;
  stdin_ = child.in.release();
  stdout_ = child.out.release();

  std::optional<std::string> line = readLine(start_timeout);
  if (!line) {
    std::optional<int> code = stop(std::chrono::seconds(1));
    throw std::runtime_error("mock-cluster printed no bootstrap line within " +
                             std::to_string(start_timeout.count()) + " ms; " +
                             (code ? "it exited with " + std::to_string(*code) : "it was killed"));
  }
  bootstrap_ = std::move(*line);
}

MockClusterProcess::~MockClusterProcess() {
  stop();
}

MockClusterRun MockClusterProcess::runToExit(const std::vector<std::string>& args,
                                             std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  Child child = spawnMockCluster(args, true);
  child.in.reset(-1);

  MockClusterRun run;
  UniqueFd* sources[] = {&child.out, &child.err};
  std::string* sinks[] = {&run.out, &run.err};
  while (child.out.get() >= 0 || child.err.get() >= 0) {
    pollfd fds[2] = {{child.out.get(), POLLIN, 0}, {child.err.get(), POLLIN, 0}};
    int r = poll(fds, 2, pollTimeoutMs(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        sources[i]->reset(-1);
      }
    }
  }
  run.exit_code = reap(child.pid, deadline);
  if (!run.exit_code) killAndReap(child.pid);
  return run;
}

std::string MockClusterProcess::command(std::string_view line, std::chrono::milliseconds timeout) {
  std::string answer = tryCommand(line, timeout);
  if (answer.empty()) {
    ADD_FAILURE() << "mock-cluster gave no answer to '" << line << "' within " << timeout.count()
                  << " ms";
  } else if (answer.starts_with("error:")) {
    ADD_FAILURE() << "mock-cluster refused '" << line << "': " << answer;
  }
  return answer;
}

std::string MockClusterProcess::tryCommand(std::string_view line,
                                           std::chrono::milliseconds timeout) {
  if (stdin_ < 0) return {};
  std::string text(line);
  text += '\n';
  if (!writeAll(stdin_, text)) return {};
  return readLine(timeout).value_or(std::string());
}

void MockClusterProcess::closeStdin() {
  if (stdin_ >= 0) ::close(stdin_);
  stdin_ = -1;
}

void MockClusterProcess::sendSignal(int signal) {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, signal);
}

std::optional<int> MockClusterProcess::waitForExit(std::chrono::milliseconds timeout) {
  if (!exit_code_ && pid_ > 0) exit_code_ = reap(pid_, Clock::now() + timeout);
  return exit_code_;
}

std::optional<int> MockClusterProcess::stop(std::chrono::milliseconds timeout) {
  closeStdin();
  if (!waitForExit(timeout) && pid_ > 0) {
    exit_code_ = killAndReap(pid_);
    killed_ = true;
  }
  if (stdout_ >= 0) ::close(stdout_);
  stdout_ = -1;
  if (killed_) return std::nullopt;
  return exit_code_;
}

std::optional<std::string> MockClusterProcess::readLine(std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    if (size_t nl = buffered_.find('\n'); nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    if (stdout_ < 0) return std::nullopt;
    pollfd fd{stdout_, POLLIN, 0};
    int r = poll(&fd, 1, pollTimeoutMs(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    char buffer[4096];
    ssize_t n = ::read(stdout_, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buffered_.append(buffer, static_cast<size_t>(n));
  }
}

void MockClusterTest::SetUp() {
  cluster_ = std::make_unique<MockClusterProcess>(options_);
}

void MockClusterTest::TearDown() {
  if (!cluster_) return;
  EXPECT_EQ(cluster_->stop(), std::optional<int>(0)) << "mock-cluster did not exit cleanly";
  cluster_.reset();
}

ClusterConfig MockClusterTest::clusterConfig() const {
  ClusterConfig config;
  auto servers = net::parseHostPortList(bootstrap());
  EXPECT_TRUE(servers.ok()) << bootstrap();
  if (servers.ok()) {
    for (const auto& s : *servers) config.bootstrap_servers.push_back(s.toString());
  }
  config.connection.reconnect_backoff = std::chrono::milliseconds(20);
  config.connection.reconnect_backoff_max = std::chrono::milliseconds(200);
  config.connection.request_timeout = std::chrono::seconds(5);
  return config;
}

std::shared_ptr<Cluster> MockClusterTest::startCluster(boost::asio::any_io_executor executor,
                                                      std::optional<ClusterConfig> config) {
  auto cluster = std::make_shared<Cluster>(std::move(executor),
                                           config ? std::move(*config) : clusterConfig());
  cluster->start();
  EXPECT_TRUE(waitUntil([&] { return cluster->ready(); })) << "the cluster never became ready";
  return cluster;
}

}  // namespace kafka::integration
