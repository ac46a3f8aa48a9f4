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
#include <vector>

#include "client_core/common/log.hpp"
#include "server/rest_json.hpp"

namespace kafka::sidecar {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// A client still sending a body we refused would see its connection reset, and might lose our
// answer with it: so we stop sending, and read what it sends until it closes (a lingering
// close, as nginx does), within bounds.
asio::awaitable<void> discardTheRest(beast::tcp_stream& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  std::vector<char> sink(64 * 1024);
  uint64_t discarded = 0;
  stream.expires_after(std::chrono::seconds(5));
  while (discarded < 4 * HttpServer::kMaxBodyBytes) {
    auto [ec, read] = co_await stream.async_read_some(asio::buffer(sink), kNoThrow);
    if (ec) break;
    discarded += read;
  }
}

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

void HttpServer::setFallback(AsyncHandler handler) {
  fallback_ = std::move(handler);
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
    HttpResponse answered;
    bool keep_alive = false;
    bool head = false;
    unsigned version = 11;
    const bool too_large = read_ec == http::error::body_limit;
    if (too_large) {
      // Answered, so that the client learns why; the rest of the body is discarded after the
      // answer, and the connection closed.
      answered =
          jsonError(413, grpc::StatusCode::RESOURCE_EXHAUSTED,
                    "the request body is larger than " + std::to_string(kMaxBodyBytes) + " bytes");
    } else if (read_ec) {
      // Closed by the peer, timed out, malformed, or stopped: drop the connection.
      break;
    } else {
      auto& request = parser.get();
      keep_alive = request.keep_alive();
      version = request.version();
      const std::string_view target = request.target();
      const size_t question = target.find('?');
      HttpRequest incoming{std::string(request.method_string()),
                           std::string(target.substr(0, question)),
                           question == std::string_view::npos
                               ? std::string()
                               : std::string(target.substr(question + 1)),
                           std::move(request.body()),
                           std::string(request[http::field::content_type]),
                           std::string(request[http::field::authorization])};
      head = request.method() == http::verb::head;
      // A long poll may take a while: the timeout is the client's to choose, not ours.
      stream.expires_never();
      answered = co_await answer(std::move(incoming));
    }
    http::response<http::string_body> response{static_cast<http::status>(answered.status), version};
    response.set(http::field::server, "kafka-sidecar");
    response.set(http::field::content_type, answered.content_type);
    if (!answered.allow.empty()) response.set(http::field::allow, answered.allow);
    response.keep_alive(keep_alive);
    response.body() = std::move(answered.body);
    response.prepare_payload();
    // A reply to HEAD announces the body's length but carries no body.
    if (head) response.body().clear();

    stream.expires_after(kRequestTimeout);
    auto [write_ec, written] = co_await http::async_write(stream, response, kNoThrow);
    if (too_large && !write_ec) co_await discardTheRest(stream);
    if (write_ec || !response.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
  std::lock_guard lock(mutex_);
  connections_.erase(connection);
}

asio::awaitable<HttpResponse> HttpServer::answer(HttpRequest request) {
  auto found = routes_.find(request.path);
  if (found != routes_.end()) {
    if (request.method == "GET") co_return found->second();
    HttpResponse refused = jsonError(405, grpc::StatusCode::UNIMPLEMENTED,
                                     request.method + " " + request.path + " is not served");
    refused.allow = "GET";
    co_return refused;
  }
  if (!fallback_) {
    co_return jsonError(404, grpc::StatusCode::NOT_FOUND, "nothing is served at " + request.path);
  }
  // The fallback answers from any thread; the answer resumes this coroutine on its strand.
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(HttpResponse)>(
      [this, &request](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        fallback_(std::move(request), [shared](HttpResponse response) {
          auto executor = asio::get_associated_executor(*shared);
          asio::post(executor, [shared, response = std::move(response)]() mutable {
            (*shared)(std::move(response));
          });
        });
      },
      asio::use_awaitable);
}

}  // namespace kafka::sidecar
