#include "server/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "client_core/common/log.hpp"

namespace kafka::sidecar {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

// Probes and scrapes send a few hundred bytes; anything far larger is not for us.
constexpr uint32_t kMaxHeaderBytes = 8 * 1024;
constexpr uint64_t kMaxBodyBytes = 64 * 1024;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

}  // namespace

class HttpServer::Connection {
 public:
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
};

HttpServer::HttpServer(asio::any_io_executor executor)
    : executor_(executor), strand_(asio::make_strand(executor)), acceptor_(strand_) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::addRoute(std::string path, Handler handler) {
  routes_.insert_or_assign(std::move(path), std::move(handler));
}

tcp::endpoint HttpServer::listen(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  tcp::endpoint bound = acceptor_.local_endpoint();
  asio::co_spawn(strand_, acceptLoop(), asio::detached);
  return bound;
}

void HttpServer::stop() {
  std::set<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    open.swap(connections_);
  }
  asio::post(strand_, [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  for (const auto& connection : open) {
    asio::post(connection->stream.get_executor(), [connection] { connection->stream.close(); });
  }
}

asio::awaitable<void> HttpServer::acceptLoop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(executor_), kNoThrow);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
    if (ec) {
      // Out of file descriptors and the like: keep serving the connections we have.
      KS_LOG(kWarn, "http", "accept failed: " << ec.message());
      continue;
    }
    auto connection = std::make_shared<Connection>(std::move(socket));
    {
      std::lock_guard lock(mutex_);
      if (stopped_) break;
      connections_.insert(connection);
    }
    auto executor = connection->stream.get_executor();
    asio::co_spawn(executor, serve(std::move(connection)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::serve(std::shared_ptr<Connection> connection) {
  beast::tcp_stream& stream = connection->stream;
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
    stream.expires_after(kRequestTimeout);
    auto [read_ec, read_bytes] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    // Closed by the peer, timed out, malformed or too large, or stopped: drop the connection.
    if (read_ec) break;

    const auto& request = parser.get();
    HttpResponse answer = route(request.method_string(), request.target());
    http::response<http::string_body> response{static_cast<http::status>(answer.status),
                                               request.version()};
    response.set(http::field::server, "kafka-sidecar");
    response.set(http::field::content_type, answer.content_type);
    if (answer.status == 405) response.set(http::field::allow, "GET");
    response.keep_alive(request.keep_alive());
    response.body() = std::move(answer.body);
    response.prepare_payload();
    // A reply to HEAD announces the body's length but carries no body.
    if (request.method() == http::verb::head) response.body().clear();

    stream.expires_after(kRequestTimeout);
    auto [write_ec, written] = co_await http::async_write(stream, response, kNoThrow);
    if (write_ec || !response.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
  std::lock_guard lock(mutex_);
  connections_.erase(connection);
}

HttpResponse HttpServer::route(std::string_view method, std::string_view target) const {
  std::string_view path = target.substr(0, target.find('?'));
  auto found = routes_.find(path);
  if (found == routes_.end()) return {404, "not found\n"};
  if (method != "GET") return {405, "method not allowed\n"};
  return found->second();
}

}  // namespace kafka::sidecar
