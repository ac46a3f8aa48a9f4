#include "server/http_server.hpp"

#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "client_core/common/log.hpp"
#include "server/rest_json.hpp"

namespace kafka::sidecar {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;
using UnixProtocol = asio::local::stream_protocol;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// The streams a connection may be: one serve() for them all.
using TcpStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using UnixStream = beast::basic_stream<UnixProtocol>;

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

// How long a TLS close_notify exchange may take before the connection is closed anyway.
constexpr std::chrono::seconds kTlsShutdownTimeout{2};

// A client still sending a body we refused would see its connection reset, and might lose our
// answer with it: so we stop sending, and read what it sends until it closes (a lingering
// close, as nginx does), within bounds. Under TLS the bytes are discarded undecrypted.
template <class Socket>
asio::awaitable<void> discardTheRest(Socket& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(asio::socket_base::shutdown_send, ignored);
  std::vector<char> sink(64 * 1024);
  uint64_t discarded = 0;
  stream.expires_after(std::chrono::seconds(5));
  while (discarded < 4 * HttpServer::kMaxBodyBytes) {
    auto [ec, read] = co_await stream.async_read_some(asio::buffer(sink), kNoThrow);
    if (ec) break;
    discarded += read;
  }
}

// A socket file that an earlier run left at `path` is removed (as gRPC does for its own); any
// other file there is left alone and is an error.
void removeStaleSocket(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return;
  if (!S_ISSOCK(info.st_mode)) {
    throw std::runtime_error(path + " exists and is not a socket; not replacing it");
  }
  ::unlink(path.c_str());
}

}  // namespace

// What stop() needs of a connection, whatever its stream.
class HttpServer::Connection {
 public:
  virtual ~Connection() = default;
  virtual asio::any_io_executor executor() = 0;
  // Closes the socket (on executor()); the connection's coroutine ends soon after.
  virtual void close() = 0;
};

template <class Stream>
class HttpServer::StreamConnection final : public HttpServer::Connection {
 public:
  template <class... Args>
  explicit StreamConnection(Args&&... args) : stream(std::forward<Args>(args)...) {}
  asio::any_io_executor executor() override { return stream.get_executor(); }
  void close() override { beast::get_lowest_layer(stream).close(); }

  Stream stream;
};

HttpServer::HttpServer(asio::any_io_executor executor)
    : executor_(executor),
      strand_(asio::make_strand(executor)),
      acceptor_(strand_),
      unix_acceptor_(strand_) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::addRoute(std::string path, Handler handler, Access access) {
  routes_.insert_or_assign(std::move(path), Route{std::move(handler), access});
}

void HttpServer::setFallback(AsyncHandler handler) {
  fallback_ = std::move(handler);
}

void HttpServer::setTls(const TlsPem& pem) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  context->set_options(asio::ssl::context::default_workarounds |
                       asio::ssl::context::no_compression);
  context->use_certificate_chain(asio::buffer(pem.cert_chain));
  // OpenSSL refuses a key that does not match the certificate here.
  context->use_private_key(asio::buffer(pem.private_key), asio::ssl::context::pem);
  if (!pem.client_ca.empty()) {
    context->add_certificate_authority(asio::buffer(pem.client_ca));
    // A certificate that the CA did not sign fails the handshake; a client with none gets
    // through it, and is refused by answer() everywhere but the Access::kAnyone routes.
    context->set_verify_mode(asio::ssl::verify_peer);
    // Without it OpenSSL refuses to resume the sessions of verified clients.
    static constexpr unsigned char kSessionContext[] = "kafka-sidecar";
    SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
  }
  tls_ = std::move(context);
  client_certs_required_ = !pem.client_ca.empty();
}

void HttpServer::setObserver(Observer observer) {
  observer_ = std::move(observer);
}

tcp::endpoint HttpServer::listen(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  tcp::endpoint bound = acceptor_.local_endpoint();
  asio::co_spawn(strand_, acceptLoop(acceptor_), asio::detached);
  return bound;
}

void HttpServer::listenUnix(const std::string& path, unsigned mode) {
  removeStaleSocket(path);
  unix_acceptor_.open(UnixProtocol());
  unix_acceptor_.bind(UnixProtocol::endpoint(path));
  // Before listen(), so that no client connects while the mode is the umask's.
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    throw boost::system::system_error(errno, boost::system::system_category(), "chmod");
  }
  unix_acceptor_.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(strand_, acceptLoop(unix_acceptor_), asio::detached);
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
    unix_acceptor_.close(ignored);
  });
  for (const auto& connection : open) {
    asio::post(connection->executor(), [connection] { connection->close(); });
  }
}

template <class Acceptor>
asio::awaitable<void> HttpServer::acceptLoop(Acceptor& acceptor) {
  using Protocol = typename Acceptor::protocol_type;
  while (acceptor.is_open()) {
    auto [ec, accepted] = co_await acceptor.async_accept(asio::make_strand(executor_), kNoThrow);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
    if (ec) {
      // Out of file descriptors and the like: keep serving the connections we have.
      KS_LOG(kWarn, "http", "accept failed: " << ec.message());
      continue;
    }
    typename Protocol::socket socket(std::move(accepted));
    bool serving = false;
    if constexpr (std::is_same_v<Protocol, UnixProtocol>) {
      serving = startServing(std::make_shared<StreamConnection<UnixStream>>(std::move(socket)));
    } else if (tls_) {
      serving =
          startServing(std::make_shared<StreamConnection<TlsStream>>(std::move(socket), *tls_));
    } else {
      serving = startServing(std::make_shared<StreamConnection<TcpStream>>(std::move(socket)));
    }
    if (!serving) break;
  }
}

template <class Stream>
bool HttpServer::startServing(std::shared_ptr<StreamConnection<Stream>> connection) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return false;
    connections_.insert(connection);
  }
  auto executor = connection->stream.get_executor();
  asio::co_spawn(executor, serve(std::move(connection)), asio::detached);
  return true;
}

template <class Stream>
asio::awaitable<void> HttpServer::serve(std::shared_ptr<StreamConnection<Stream>> connection) {
  Stream& stream = connection->stream;
  auto& lowest = beast::get_lowest_layer(stream);
  // mTLS concerns TLS connections only: a unix socket's file mode is its access control.
  bool client_certified = !kIsTls<Stream> || !client_certs_required_;
  // Plain streams need none.
  bool handshaken = true;
  if constexpr (kIsTls<Stream>) {
    lowest.expires_after(kHandshakeTimeout);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kNoThrow);
    if (ec) {
      KS_LOG(kDebug, "http", "TLS handshake failed: " << ec.message());
      handshaken = false;
    } else if (!client_certified) {
      // verify_peer: a certificate that is there has been verified against the client CA.
      SSL* ssl = stream.native_handle();
      client_certified =
          SSL_get0_peer_certificate(ssl) != nullptr && SSL_get_verify_result(ssl) == X509_V_OK;
    }
  }
  beast::flat_buffer buffer;
  while (handshaken) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
    lowest.expires_after(kRequestTimeout);
    auto [read_ec, read_bytes] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    HttpResponse answered;
    std::string method;  // for observer_
    std::string path;
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
      method = incoming.method;
      path = incoming.path;
      // A long poll may take a while: the timeout is the client's to choose, not ours.
      lowest.expires_never();
      answered = co_await answer(std::move(incoming), client_certified);
    }
    if (observer_) observer_(method, path, answered.status);
    http::response<http::string_body> response{static_cast<http::status>(answered.status), version};
    response.set(http::field::server, "kafka-sidecar");
    response.set(http::field::content_type, answered.content_type);
    if (!answered.allow.empty()) response.set(http::field::allow, answered.allow);
    response.keep_alive(keep_alive);
    response.body() = std::move(answered.body);
    response.prepare_payload();
    // A reply to HEAD announces the body's length but carries no body.
    if (head) response.body().clear();

    lowest.expires_after(kRequestTimeout);
    auto [write_ec, written] = co_await http::async_write(stream, response, kNoThrow);
    if (too_large && !write_ec) co_await discardTheRest(lowest);
    if (write_ec || !response.keep_alive()) break;
  }
  if constexpr (kIsTls<Stream>) {
    // close_notify, so that the client can tell our close from a truncation.
    if (handshaken) {
      lowest.expires_after(kTlsShutdownTimeout);
      co_await stream.async_shutdown(kNoThrow);
    }
  }
  beast::error_code ignored;
  lowest.socket().shutdown(asio::socket_base::shutdown_send, ignored);
  lowest.close();
  std::lock_guard lock(mutex_);
  connections_.erase(connection);
}

asio::awaitable<HttpResponse> HttpServer::answer(HttpRequest request, bool client_certified) {
  auto found = routes_.find(request.path);
  if (!client_certified && (found == routes_.end() || found->second.access != Access::kAnyone)) {
    co_return jsonError(401, grpc::StatusCode::UNAUTHENTICATED,
                        "a client certificate is required (mTLS) for " + request.path);
  }
  if (found != routes_.end()) {
    if (request.method == "GET") co_return found->second.handler();
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
