// HttpServer: the daemon's plain HTTP/1.1 listener (Boost.Beast), serving a small table of GET
// routes: today the health probes, later metrics and the REST gateway.
//
// Unknown paths get 404 and known paths with another method get 405, so a probe misconfigured in
// Kubernetes fails loudly instead of passing. Requests are small (headers and body are capped),
// connections are kept alive, and an idle connection is closed after a timeout.
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
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace kafka::sidecar {

struct HttpResponse {
  unsigned status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse()>;

  explicit HttpServer(boost::asio::any_io_executor executor);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves GET `path` (an exact match, query string ignored) with `handler`.
  void addRoute(std::string path, Handler handler);

  // Binds, listens and starts accepting; returns the bound endpoint (the real port when `port`
  // was 0). Throws boost::system::system_error when the address cannot be bound.
  boost::asio::ip::tcp::endpoint listen(const boost::asio::ip::tcp::endpoint& endpoint);

  // Stops accepting and closes every open connection; their coroutines end soon after.
  void stop();

  // How long a connection may take to send a request before it is closed.
  static constexpr std::chrono::seconds kRequestTimeout{30};

 private:
  class Connection;

  boost::asio::awaitable<void> acceptLoop();
  boost::asio::awaitable<void> serve(std::shared_ptr<Connection> connection);
  HttpResponse route(std::string_view method, std::string_view target) const;

  boost::asio::any_io_executor executor_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;  // the acceptor's
  boost::asio::ip::tcp::acceptor acceptor_;
  std::map<std::string, Handler, std::less<>> routes_;

  std::mutex mutex_;  // guards the members below
  bool stopped_ = false;
  std::set<std::shared_ptr<Connection>> connections_;
};

}  // namespace kafka::sidecar
