#include "tests/server/test_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tools/ksctl/ksctl.hpp"

extern char** environ;

namespace kafka::sidecar::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

DaemonConfig loopbackDaemonConfig(const std::string& bootstraps) {
  DaemonConfig config;
  config.grpc_listen = "127.0.0.1:0";
  config.http_listen = {"127.0.0.1", 0};
  config.threads = 2;
  config.bootstrap_servers = {bootstraps};
  config.producer.linger = std::chrono::milliseconds(1);
  return config;
}

namespace {

constexpr std::chrono::seconds kHttpTimeout{5};

asio::awaitable<HttpReply> exchange(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                    std::string_view method, std::string_view target,
                                    std::string_view body, std::string_view content_type,
                                    std::string_view authorization, bool keep_alive) {
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (!authorization.empty()) request.set(http::field::authorization, authorization);
  if (!body.empty()) request.set(http::field::content_type, content_type);
  request.body() = std::string(body);
  request.prepare_payload();
  request.keep_alive(keep_alive);
  co_await http::async_write(stream, request, asio::use_awaitable);
  http::response_parser<http::string_body> parser;
  parser.skip(method == "HEAD");  // a reply to HEAD has no body, whatever its Content-Length
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  const auto& response = parser.get();
  co_return HttpReply{response.result_int(),
                      response.body(),
                      std::string(response[http::field::allow]),
                      std::string(response[http::field::content_type]),
                      {}};
}

// Runs `requests` GETs (or one `method` request) on one connection.
std::vector<HttpReply> requestsOnOneConnection(uint16_t port, std::string_view method,
                                               std::string_view target, std::string_view body,
                                               std::string_view content_type,
                                               std::string_view authorization, int requests) {
  asio::io_context io;
  std::vector<HttpReply> replies;
  std::string error;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        beast::tcp_stream stream(co_await asio::this_coro::executor);
        co_await stream.async_connect({asio::ip::address_v4::loopback(), port},
                                      asio::use_awaitable);
        beast::flat_buffer buffer;
        for (int i = 0; i < requests; ++i) {
          replies.push_back(co_await exchange(stream, buffer, method, target, body, content_type,
                                              authorization, i + 1 < requests));
        }
      },
      [&](std::exception_ptr failure) {
        if (!failure) return;
        try {
          std::rethrow_exception(failure);
        } catch (const std::exception& e) {
          error = e.what();
        }
      });
  io.run_for(kHttpTimeout);
  if (static_cast<int>(replies.size()) == requests) return replies;
  HttpReply failed;
  failed.error = error.empty() ? "timed out" : error;
  return {failed};
}

}  // namespace

HttpReply httpRequest(uint16_t port, std::string_view method, std::string_view target,
                      std::string_view body, std::string_view content_type,
                      std::string_view authorization) {
  return requestsOnOneConnection(port, method, target, body, content_type, authorization, 1)
      .front();
}

std::vector<HttpReply> httpTwiceOnOneConnection(uint16_t port, std::string_view target) {
  auto replies = requestsOnOneConnection(port, "GET", target, {}, {}, {}, 2);
  if (replies.size() != 2) return {};
  return replies;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw std::runtime_error("pipe2 failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  if (rc != 0) {
    close(out_fd_);
    close(err_fd_);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
}

ChildProcess::~ChildProcess() {
  if (!exit_code_) {
    kill(pid_, SIGKILL);
    reap(true);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

bool ChildProcess::pump(std::chrono::milliseconds timeout) {
  pollfd fds[2];
  nfds_t count = 0;
  for (int fd : {out_fd_, err_fd_}) {
    if (fd >= 0) fds[count++] = {fd, POLLIN, 0};
  }
  if (count == 0) return false;
  int ready = poll(fds, count, static_cast<int>(timeout.count()));
  if (ready <= 0) return true;
  for (nfds_t i = 0; i < count; ++i) {
    if (fds[i].revents == 0) continue;
    char chunk[4096];
    ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    int& fd = fds[i].fd == out_fd_ ? out_fd_ : err_fd_;
    std::string& sink = fds[i].fd == out_fd_ ? out_ : err_;
    if (n <= 0) {
      close(fd);
      fd = -1;
    } else {
      sink.append(chunk, static_cast<size_t>(n));
    }
  }
  return out_fd_ >= 0 || err_fd_ >= 0;
}

bool ChildProcess::reap(bool block) {
  if (exit_code_) return true;
  int status = 0;
  pid_t done = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (done != pid_) return false;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

std::optional<std::string> ChildProcess::waitForStderrLine(std::string_view needle,
                                                           std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    for (size_t end; (end = err_.find('\n', err_scanned_)) != std::string::npos;) {
      std::string line = err_.substr(err_scanned_, end - err_scanned_);
      err_scanned_ = end + 1;
      if (line.find(needle) != std::string::npos) return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (!pump(std::min(left, std::chrono::milliseconds(100))) && reap(false)) return std::nullopt;
  }
}

void ChildProcess::signal(int signal_number) {
  if (!exit_code_) kill(pid_, signal_number);
}

std::optional<int> ChildProcess::waitForExit(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    bool open = pump(std::chrono::milliseconds(50));
    if (reap(false)) {
      // Collect what is still in the pipes (a grandchild could hold them open: bounded).
      auto drain_deadline = Clock::now() + std::chrono::seconds(2);
      while (open && Clock::now() < drain_deadline) open = pump(std::chrono::milliseconds(50));
      return exit_code_;
    }
  }
  return std::nullopt;
}

ProcessResult ChildProcess::run(const std::vector<std::string>& argv,
                                std::chrono::milliseconds timeout) {
  ChildProcess child(argv);
  ProcessResult result;
  result.exit_code = child.waitForExit(timeout);
  result.out = child.out();
  result.err = child.err();
  return result;
}

uint16_t portOfLogLine(std::string_view line) {
  size_t at = line.find("listening on ");
  if (at == std::string_view::npos) return 0;
  std::string_view address = line.substr(at + 13);
  address = address.substr(0, address.find_first_of(" \r\n"));
  std::string_view port_text = address.substr(address.rfind(':') + 1);
  uint16_t port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  return ec == std::errc() ? port : 0;
}

ProcessResult runKsctlInProcess(std::vector<std::string_view> args) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  int code = ksctl::runKsctl(args, out, err, in);
  return {code, out.str(), err.str()};
}

}  // namespace kafka::sidecar::testing
