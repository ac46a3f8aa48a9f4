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
// It listens on one TCP endpoint, with or without TLS, or on one unix socket; the request
// handling is the same code for every kind of stream. With TLS, a client has kHandshakeTimeout
// for its handshake. With mTLS (a client CA), a client that presents a certificate the CA did not
// sign fails the handshake, and one that presents none is served only the routes added as
// Access::kAnyone (the probes: kubelet cannot present a certificate) and gets 401 elsewhere.
//
// Owned by the Daemon. Runs on the io_context given at construction: the acceptor and each
// connection live on their own strand. Routes and TLS must be set before listen(); handlers run on
// a connection's strand and must not block. listen() and stop() may be called from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
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

// The PEM texts of a TCP listener's TLS.
struct TlsPem {
  std::string cert_chain;
  std::string private_key;
  std::string client_ca;  // empty: no client certificates are asked for
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse()>;
  // Answers a request: must be called exactly once, from any thread.
  using Responder = std::function<void(HttpResponse)>;
  using AsyncHandler = std::function<void(HttpRequest, Responder)>;
  // Told of every answer: the request's method and path (empty when it did not parse that far)
  // and the status. Called on the connection's strand.
  using Observer = std::function<void(std::string_view method, std::string_view path, unsigned)>;

  // Who may call a route when mTLS is on.
  enum class Access { kClients, kAnyone };

  explicit HttpServer(boost::asio::any_io_executor executor);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves GET `path` (an exact match, query string ignored) with `handler`.
  void addRoute(std::string path, Handler handler, Access access = Access::kClients);
  // Serves the requests that no route matches.
  void setFallback(AsyncHandler handler);
  // Makes listen() serve TLS (1.2 or later). Throws boost::system::system_error naming what is
  // wrong with the PEM texts (e.g. a key that does not match the certificate).
  void setTls(const TlsPem& pem);
  // Before listen(): for counting answers.
  void setObserver(Observer observer);

  // Binds, listens and starts accepting; returns the bound endpoint (the real port when `port`
  // was 0). Throws boost::system::system_error when the address cannot be bound.
  boost::asio::ip::tcp::endpoint listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // The same on a unix socket at `path`, with permission bits `mode`; a socket file left at
  // `path` (by an earlier run) is replaced, any other file is an error. Always plaintext.
  void listenUnix(const std::string& path, unsigned mode);

  // Stops accepting and closes every open connection; their coroutines end soon after.
  void stop();

  // How long a connection may take to send a request before it is closed.
  static constexpr std::chrono::seconds kRequestTimeout{30};
  static constexpr std::chrono::seconds kHandshakeTimeout{10};
  static constexpr uint32_t kMaxHeaderBytes = 16 * 1024;
  // A JSON body this large is at most as large as the protobuf message it becomes, which gRPC
  // caps at 4 MiB by default.
  static constexpr uint64_t kMaxBodyBytes = 4 * 1024 * 1024;

 private:
  class Connection;
  template <class Stream>
  class StreamConnection;
  struct Route {
    Handler handler;
    Access access;
  };

  template <class Acceptor>
  boost::asio::awaitable<void> acceptLoop(Acceptor& acceptor);
  // Adds the connection to connections_ and serves it; false when stopped.
  template <class Stream>
  bool startServing(std::shared_ptr<StreamConnection<Stream>> connection);
  template <class Stream>
  boost::asio::awaitable<void> serve(std::shared_ptr<StreamConnection<Stream>> connection);
  boost::asio::awaitable<HttpResponse> answer(HttpRequest request, bool client_certified);

  boost::asio::any_io_executor executor_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;  // the acceptors'
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::local::stream_protocol::acceptor unix_acceptor_;
  std::map<std::string, Route, std::less<>> routes_;
  AsyncHandler fallback_;
  std::unique_ptr<boost::asio::ssl::context> tls_;  // null: plaintext
  bool client_certs_required_ = false;
  Observer observer_;

  std::mutex mutex_;  // guards the members below
  bool stopped_ = false;
  std::set<std::shared_ptr<Connection>> connections_;
};

}  // namespace kafka::sidecar
