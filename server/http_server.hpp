// HttpServer: the daemon's HTTP/1.1 listener (Boost.Beast). It serves a small table of exact GET
// routes (the health probes, /metrics) itself, and hands every other request to one asynchronous
// fallback handler: the REST gateway.
//
// A known route with another method gets 405 and an unknown path (with no fallback) 404, so a
// probe misconfigured in Kubernetes fails loudly instead of passing. Headers are capped at
// kMaxHeaderBytes and bodies at kMaxBodyBytes (413 beyond); connections are kept alive, and one
// that sends no request for kRequestTimeout is closed. Errors the server answers itself carry a
// JSON body {"code", "message"}, as the gateway's do.
//
// Owned by the Daemon. Runs on the io_context given at construction: the acceptor and each
// connection live on their own strand. Routes must be added before listen(); handlers run on a
// connection's strand and must not block. listen() and stop() may be called from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

namespace kafka::sidecar {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target up to '?', still percent-encoded
  std::string query;   // the target after '?'
  std::string body;
  std::string content_type;  // the Content-Type header, empty when absent
  // The Authorization header, empty when absent: a secret, never logged.
  std::string authorization;
};

struct HttpResponse {
  HttpResponse(unsigned status_code = 200, std::string content = {},
               std::string type = "text/plain; charset=utf-8")
      : status(status_code), body(std::move(content)), content_type(std::move(type)) {}

  unsigned status;
  std::string body;
  std::string content_type;
  std::string allow;  // the Allow header of a 405
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse()>;
  // Answers a request: must be called exactly once, from any thread.
  using Responder = std::function<void(HttpResponse)>;
  using AsyncHandler = std::function<void(HttpRequest, Responder)>;

  explicit HttpServer(boost::asio::any_io_executor executor);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves GET `path` (an exact match, query string ignored) with `handler`.
  void addRoute(std::string path, Handler handler);
  // Serves the requests that no route matches.
  void setFallback(AsyncHandler handler);

  // Binds, listens and starts accepting; returns the bound endpoint (the real port when `port`
  // was 0). Throws boost::system::system_error when the address cannot be bound.
  boost::asio::ip::tcp::endpoint listen(const boost::asio::ip::tcp::endpoint& endpoint);

  // Stops accepting and closes every open connection; their coroutines end soon after.
  void stop();

  // How long a connection may take to send a request before it is closed.
  static constexpr std::chrono::seconds kRequestTimeout{30};
  static constexpr uint32_t kMaxHeaderBytes = 16 * 1024;
  // A JSON body this large is at most as large as the protobuf message it becomes, which gRPC
  // caps at 4 MiB by default.
  static constexpr uint64_t kMaxBodyBytes = 4 * 1024 * 1024;

 private:
  class Connection;

  boost::asio::awaitable<void> acceptLoop();
  boost::asio::awaitable<void> serve(std::shared_ptr<Connection> connection);
  boost::asio::awaitable<HttpResponse> answer(HttpRequest request);

  boost::asio::any_io_executor executor_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;  // the acceptor's
  boost::asio::ip::tcp::acceptor acceptor_;
  std::map<std::string, Handler, std::less<>> routes_;
  AsyncHandler fallback_;

  std::mutex mutex_;  // guards the members below
  bool stopped_ = false;
  std::set<std::shared_ptr<Connection>> connections_;
};

}  // namespace kafka::sidecar
