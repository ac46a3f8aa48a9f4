#include "tests/interop/sidecar_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace kafka::interop {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How much of the log a failed test shows.
constexpr size_t kLogTail = 6000;

std::filesystem::path freshLogPath(const std::string& name) {
  static std::atomic<int> counter{0};
  return std::filesystem::path(::testing::TempDir()) /
         ("kafka-sidecar-" + name + "-" + std::to_string(getpid()) + "-" +
          std::to_string(counter++) + ".log");
}

// "... gRPC listening on 127.0.0.1:PORT" -> "127.0.0.1:PORT"; empty if the log has no such line.
std::string listenerAddress(const std::string& log) {
  constexpr std::string_view kMarker = "gRPC listening on ";
  const size_t at = log.find(kMarker);
  if (at == std::string::npos) return {};
  const size_t start = at + kMarker.size();
  const size_t end = log.find_first_of(" \r\n", start);
  if (end == std::string::npos) return {};  // the line is not complete yet
  return log.substr(start, end - start);
}

}  // namespace

SidecarProcess::SidecarProcess(const std::string& name, const std::string& bootstrap,
                               const std::vector<std::string>& extra_flags,
                               std::chrono::milliseconds timeout)
    : name_(name), log_path_(freshLogPath(name)) {
  std::vector<std::string> words = {KS_SIDECAR_BINARY, "--bootstrap-servers=" + bootstrap,
                                    "--grpc-listen=127.0.0.1:0", "--http-listen=127.0.0.1:0",
                                    "--threads=2"};
  words.insert(words.end(), extra_flags.begin(), extra_flags.end());
  std::vector<char*> args;
  for (std::string& word : words) args.push_back(word.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    throw std::system_error(rc, std::generic_category(), "cannot start " + words[0]);
  }
  const auto deadline = Clock::now() + timeout;
  while (grpc_address_.empty()) {
    grpc_address_ = listenerAddress(log());
    if (!grpc_address_.empty()) break;
    if (reap(false) || Clock::now() >= deadline) {
      const std::string why = exit_code_ ? "exited with " + std::to_string(*exit_code_)
                                         : std::string("did not listen in time");
      kill();
      throw std::runtime_error("kafka-sidecar " + name_ + " " + why + ":\n" + log());
    }
    std::this_thread::sleep_for(20ms);
  }
}

SidecarProcess::~SidecarProcess() {
  kill();
  if (::testing::Test::HasFailure()) {
    const std::string text = log();
    std::cerr << "---- end of kafka-sidecar " << name_ << "'s log ----\n"
              << (text.size() > kLogTail ? text.substr(text.size() - kLogTail) : text) << "---- ("
              << log_path_.string() << ") ----\n";
  } else {
    std::error_code ignored;
    std::filesystem::remove(log_path_, ignored);
  }
}

bool SidecarProcess::reap(bool block) {
  if (exit_code_ || pid_ <= 0) return true;
  int status = 0;
  pid_t done;
  do {
    done = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (done < 0 && errno == EINTR);
  if (done != pid_) return false;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

void SidecarProcess::kill() {
  if (pid_ <= 0 || exit_code_) return;
  ::kill(pid_, SIGKILL);
  reap(true);
}

std::optional<int> SidecarProcess::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  if (!exit_code_) ::kill(pid_, SIGTERM);
  std::optional<int> code = waitExit(timeout);
  if (!code) kill();
  return code;
}

void SidecarProcess::signal(int number) {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, number);
}

std::optional<int> SidecarProcess::waitExit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!reap(false)) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
  return exit_code_;
}

uint16_t SidecarProcess::httpPort() const {
  constexpr std::string_view kMarker = "HTTP listening on 127.0.0.1:";
  const std::string text = log();
  const size_t at = text.find(kMarker);
  if (at == std::string::npos) return 0;
  return static_cast<uint16_t>(std::stoul(text.substr(at + kMarker.size())));
}

std::string SidecarProcess::log() const {
  std::ifstream in(log_path_, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace kafka::interop
