// mock-cluster: runs a MockCluster as a process. The first line on stdout is the bootstrap list;
// then every line read from stdin is a command (see kCommandHelp), answered by one line on stdout.
// Exits 0 when stdin closes or on SIGTERM/SIGINT, 2 on bad arguments, 1 if the cluster cannot
// start.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/mock_cluster/mock_cluster.hpp"

namespace {

constexpr std::string_view kUsage =
    R"(Usage: mock-cluster [--brokers N] [--topic NAME:PARTITIONS]... [--help]
Runs librdkafka's mock Kafka cluster on 127.0.0.1 for tests.
  --brokers N               number of brokers, ids 1..N (default 1)
  --topic NAME:PARTITIONS   create a topic at start (replication factor min(3, N)); repeatable
  --help                    show this text
The first line on stdout is the bootstrap list ("127.0.0.1:PORT,..."). Then each line read
from stdin is a command, answered by one line on stdout. The process exits 0 when stdin
closes or on SIGTERM/SIGINT, and 2 on bad arguments.
)";

// Longer command lines are refused rather than buffered without bound.
constexpr size_t kMaxCommandBytes = 64 * 1024;

struct Options {
  int brokers = 1;
  std::vector<std::pair<std::string, int>> topics;
  bool help = false;
};

struct UsageError {
  std::string message;
};

int parseCount(std::string_view text, std::string_view what) {
  int value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 1) {
    throw UsageError{std::string(what) + " must be a positive number, not '" + std::string(text) +
                     "'"};
  }
  return value;
}

Options parseArgs(int argc, char** argv) {
  Options options;
  std::set<std::string, std::less<>> topic_names;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::optional<std::string_view> inline_value;
    if (size_t eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto value = [&]() -> std::string_view {
      if (inline_value) return *inline_value;
      if (i + 1 >= argc) throw UsageError{std::string(arg) + " needs a value"};
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      options.help = true;
    } else if (arg == "--brokers") {
      options.brokers = parseCount(value(), "--brokers");
    } else if (arg == "--topic") {
      std::string_view spec = value();
      size_t colon = spec.rfind(':');
      if (colon == std::string_view::npos || colon == 0) {
        throw UsageError{"--topic expects NAME:PARTITIONS, not '" + std::string(spec) + "'"};
      }
      std::string name(spec.substr(0, colon));
      int partitions = parseCount(spec.substr(colon + 1), "partition count of topic " + name);
      if (!topic_names.insert(name).second) throw UsageError{"topic " + name + " given twice"};
      options.topics.emplace_back(std::move(name), partitions);
    } else {
      throw UsageError{"unknown argument '" + std::string(argv[i]) + "'"};
    }
  }
  return options;
}

// Self-pipe: the handler only writes a byte, which wakes the poll loop below.
int signal_pipe_write = -1;

extern "C" void onTerminationSignal(int) {
  int saved_errno = errno;
  const char byte = 1;
  [[maybe_unused]] ssize_t n = write(signal_pipe_write, &byte, 1);
  errno = saved_errno;
}

// Returns the read end of the self-pipe.
int installSignalHandlers() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  signal_pipe_write = fds[1];
  struct sigaction action {};
  action.sa_handler = onTerminationSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  // A parent may have left them blocked, and the mask survives exec.
  sigset_t termination;
  sigemptyset(&termination);
  sigaddset(&termination, SIGTERM);
  sigaddset(&termination, SIGINT);
  pthread_sigmask(SIG_UNBLOCK, &termination, nullptr);
  // A reader that went away shows up as a failed write, not as death by SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  return fds[0];
}

bool writeLine(std::string_view line) {
  std::cout << line << '\n' << std::flush;
  return static_cast<bool>(std::cout);
}

// Runs each complete line of `pending` and keeps the unfinished rest. Returns false once stdout
// is unusable.
bool runCommands(kafka::mock::MockCluster& cluster, std::string& pending, bool& discarding) {
  size_t start = 0;
  for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
    if (discarding) {
      discarding = false;
      continue;
    }
    if (!writeLine(cluster.execute(std::string_view(pending).substr(start, nl - start)))) {
      return false;
    }
  }
  pending.erase(0, start);
  if (pending.size() > kMaxCommandBytes) {
    pending.clear();
    if (!discarding) {
      discarding = true;
      return writeLine("error: command longer than " + std::to_string(kMaxCommandBytes) + " bytes");
    }
  }
  return true;
}

int serve(kafka::mock::MockCluster& cluster, int signal_pipe_read) {
  std::string pending;
  bool discarding = false;
  char buffer[4096];
  pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {signal_pipe_read, POLLIN, 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      std::cerr << "mock-cluster: poll failed: " << std::strerror(errno) << '\n';
      return 1;
    }
    if (fds[1].revents != 0) return 0;
    if (fds[0].revents == 0) continue;
    ssize_t n = read(STDIN_FILENO, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      std::cerr << "mock-cluster: reading stdin failed: " << std::strerror(errno) << '\n';
      return 1;
    }
    if (n == 0) {
      // A last command without its newline still gets run.
      if (!pending.empty() && !discarding) writeLine(cluster.execute(pending));
      return 0;
    }
    pending.append(buffer, static_cast<size_t>(n));
    if (!runCommands(cluster, pending, discarding)) return 1;
  }
}

[[noreturn]] void exitNow(int code) {
  std::cout.flush();
  std::fflush(nullptr);
  std::_Exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parseArgs(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "mock-cluster: " << e.message << "\nTry 'mock-cluster --help'.\n";
    return 2;
  }
  if (options.help) {
    std::cout << kUsage << '\n' << kafka::mock::kCommandHelp;
    return 0;
  }

  int signal_pipe_read = installSignalHandlers();
  if (signal_pipe_read < 0) {
    std::cerr << "mock-cluster: cannot create the signal pipe: " << std::strerror(errno) << '\n';
    return 1;
  }

  // Once it exists, the cluster is never destroyed: librdkafka 2.0.2 needs about a second to
  // tear a mock cluster down (it joins an internal broker thread that sleeps in 1 s waits), and
  // tests stop this process after every test. Ending the process closes every socket just the
  // same, and _Exit does not run static destructors while librdkafka's threads still run.
  std::optional<kafka::mock::MockCluster> cluster;
  try {
    cluster.emplace(options.brokers);
    for (const auto& [name, partitions] : options.topics) cluster->createTopic(name, partitions);
  } catch (const std::invalid_argument& e) {
    std::cerr << "mock-cluster: " << e.what() << "\nTry 'mock-cluster --help'.\n";
    exitNow(2);
  } catch (const std::exception& e) {
    std::cerr << "mock-cluster: " << e.what() << '\n';
    exitNow(1);
  }

  if (!writeLine(cluster->bootstraps())) exitNow(1);
  exitNow(serve(*cluster, signal_pipe_read));
}
