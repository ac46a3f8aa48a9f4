#include "tests/integration/python_group_member.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "tests/integration/mock_cluster_process.hpp"

namespace kafka::integration {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

PythonGroupMember::PythonGroupMember(const std::vector<std::string>& args) {
  int in[2];
  int out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return;
  if (pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return;
  }
  const std::filesystem::path script =
      std::filesystem::path(__FILE__).parent_path() / "kafka_python_group_member.py";
  std::vector<std::string> words = {"/usr/bin/python3", script.string()};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  stdin_ = in[1];
  stdout_ = out[0];
  signal(SIGPIPE, SIG_IGN);
}

PythonGroupMember::~PythonGroupMember() {
  if (stdin_ >= 0) ::close(stdin_);
  if (stdout_ >= 0) ::close(stdout_);
  if (pid_ <= 0) return;
  if (!waitUntil([&] { return waitpid(pid_, nullptr, WNOHANG) == pid_; }, 5s)) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool PythonGroupMember::send(const std::string& line) {
  const std::string text = line + "\n";
  return ::write(stdin_, text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

std::optional<std::string> PythonGroupMember::line(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (const size_t end = buffered_.find('\n'); end != std::string::npos) {
      std::string text = buffered_.substr(0, end);
      buffered_.erase(0, end + 1);
      return text;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd fd{stdout_, POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(std::max(left, 0ms).count())) <= 0) {
      if (left <= 0ms) return std::nullopt;
      continue;
    }
    char chunk[4096];
    const ssize_t n = ::read(stdout_, chunk, sizeof chunk);
    if (n <= 0) return std::nullopt;
    buffered_.append(chunk, static_cast<size_t>(n));
  }
}

std::optional<std::string> PythonGroupMember::lineStarting(std::string_view prefix,
                                                           std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (auto text =
             line(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()))) {
    if (text->starts_with(prefix)) return text;
  }
  return std::nullopt;
}

}  // namespace kafka::integration
