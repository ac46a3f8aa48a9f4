// kafka::net::BrokerConnection: one TCP connection to one broker, with pipelining.
//
// States: idle -> connecting -> negotiating (ApiVersions) -> up, and on failure -> backoff ->
// connecting again while requests wait. A connection connects on first use, negotiates for every
// API the highest version both sides support (capped by configuration), then writes queued
// requests as they come, up to max_in_flight awaiting responses, and matches responses by
// correlation id. When the connection drops, every pending request fails with a transport error
// and the next request reconnects after an exponential, jittered backoff. A request that times
// out fails with kRequestTimedOutLocally and closes the connection: responses arrive strictly in
// order, so nothing behind it could be answered.
//
// Shared-owned (create()); all state lives on the connection's own strand. request() and close()
// may be called from any thread; completion handlers run on their associated executor, or on
// the connection's strand when they have none.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "client_core/common/log.hpp"
#include "client_core/net/backoff.hpp"
#include "client_core/net/connection_config.hpp"
#include "client_core/net/connection_observer.hpp"
#include "client_core/protocol/header.hpp"
#include "client_core/protocol/messages/all.hpp"
#include "client_core/protocol/result.hpp"

namespace kafka::net {

struct RequestOptions {
  // Overrides ConnectionConfig::request_timeout (e.g. a Fetch adds its MaxWait).
  std::optional<std::chrono::milliseconds> timeout;
  // False for requests the broker does not answer (Produce with acks=0): the request completes,
  // with a default-constructed response, once it is written.
  bool expect_response = true;
};

// How a connection is named: `text` prefixes its errors and log messages ("default broker 2
// control"); `cluster` and `broker` (the node id, -1 for a bootstrap address) are the context of
// its log entries. A label of text alone names a connection outside any cluster.
struct ConnectionLabel {
  explicit ConnectionLabel(std::string label_text) : text(std::move(label_text)) {}
  ConnectionLabel(std::string label_text, std::string cluster_name, int32_t node)
      : text(std::move(label_text)), cluster(std::move(cluster_name)), broker(node) {}

  std::string text;
  std::string cluster;
  int32_t broker = -1;
};

class BrokerConnection : public std::enable_shared_from_this<BrokerConnection> {
 public:
  enum class State { kIdle, kConnecting, kNegotiating, kUp, kBackoff, kClosed };
  static std::string_view stateName(State state);

  // `label` names the connection in logs and errors. `events`, when set, is told what the
  // connection does (see ConnectionObserver).
  static std::shared_ptr<BrokerConnection> create(
      boost::asio::any_io_executor executor, std::string host, uint16_t port,
      ConnectionConfig config, ConnectionLabel label,
      std::unique_ptr<ConnectionEvents> events = nullptr);
  ~BrokerConnection();
  BrokerConnection(const BrokerConnection&) = delete;
  BrokerConnection& operator=(const BrokerConnection&) = delete;

  // Sends one request of API A. Completes with void(Result<A::Response>).
  template <protocol::ApiDefinition A, class Token>
  auto request(typename A::Request request, RequestOptions options, Token&& token);
  template <protocol::ApiDefinition A, class Token>
  auto request(typename A::Request request, Token&& token) {
    return this->request<A>(std::move(request), RequestOptions{}, std::forward<Token>(token));
  }

  // Closes for good: pending requests fail with kShuttingDown, later ones fail at once.
  void close();

  State state() const { return state_.load(std::memory_order_relaxed); }
  // The version negotiated for `key` on the current (or last) connection; nullopt when the
  // broker does not serve it, or before the first negotiation.
  std::optional<int16_t> negotiatedVersion(protocol::ApiKey key) const;
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  const std::string& label() const { return label_; }
  // Connections established so far (a reconnect counts again).
  uint64_t connectCount() const { return connects_.load(std::memory_order_relaxed); }

 private:
  struct ResponseFrame {
    std::shared_ptr<const protocol::Bytes> body;  // the frame after its length prefix
    int16_t version = 0;
  };
  struct Pending {
    protocol::ApiKey api_key{};
    int16_t min_version = 0;
    int16_t max_version = 0;
    std::string_view api_name;
    std::function<protocol::Bytes(int16_t version, int32_t correlation_id)> encode;
    std::function<void(Result<ResponseFrame>)> complete;  // called once, on the strand
    std::chrono::milliseconds timeout{};
    bool expect_response = true;
    bool done = false;
    bool written = false;
    int16_t version = 0;
    std::chrono::steady_clock::time_point written_at;  // when `written`
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  using PendingPtr = std::shared_ptr<Pending>;
  // Version ranges indexed by API key; {-1,-1} = none.
  using VersionTable = std::array<std::pair<int16_t, int16_t>, 128>;

  BrokerConnection(boost::asio::any_io_executor executor, std::string host, uint16_t port,
                   ConnectionConfig config, ConnectionLabel label,
                   std::unique_ptr<ConnectionEvents> events);

  void submit(PendingPtr pending);  // on the strand
  void finish(const PendingPtr& pending, Result<ResponseFrame> result);
  // Tells events_ how `pending` ended.
  void reportDone(const Pending& pending, bool answered);
  void onTimeout(const PendingPtr& pending);
  void failAll(const Error& error);
  log::Context logContext() const { return {.cluster = log_cluster_, .broker = log_broker_}; }
  void wakeWriter();
  void setState(State state);
  Error transportError(const std::string& what) const;
  Result<int16_t> chooseVersion(const Pending& pending) const;

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<Result<void>> connect();
  boost::asio::awaitable<Result<void>> negotiate();
  boost::asio::awaitable<Result<std::shared_ptr<protocol::Bytes>>> readFrame();
  boost::asio::awaitable<Error> readLoop();
  boost::asio::awaitable<Error> writeLoop();

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  const std::string host_;
  const uint16_t port_;
  const ConnectionConfig config_;
  const std::string label_;
  const std::string log_cluster_;
  const int32_t log_broker_;
  const std::unique_ptr<ConnectionEvents> events_;  // may be null; used on the strand

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer writer_wake_;
  boost::asio::steady_timer reconnect_wait_;  // the backoff before a reconnect; close() ends it
  Backoff backoff_;
  std::atomic<State> state_{State::kIdle};
  std::atomic<uint64_t> connects_{0};
  bool running_ = false;                 // run() is active
  bool closed_ = false;
  bool api_versions_v0_only_ = false;     // the broker dropped a newer ApiVersions request
  std::optional<Error> close_reason_;     // why we closed the socket ourselves, if we did
  int32_t next_correlation_id_ = 1;
  std::deque<PendingPtr> queue_;          // waiting to be written
  std::map<int32_t, PendingPtr> in_flight_;  // written, awaiting a response

  mutable std::mutex versions_mutex_;     // guards the tables below, read from any thread
  std::optional<VersionTable> versions_;  // negotiated: {lowest usable, chosen}
  VersionTable broker_versions_;          // what the broker advertised
};

template <protocol::ApiDefinition A, class Token>
auto BrokerConnection::request(typename A::Request request, RequestOptions options,
                               Token&& token) {
  using Response = typename A::Response;
  return boost::asio::async_initiate<Token, void(Result<Response>)>(
      [self = shared_from_this(), options](auto handler, typename A::Request req) {
        using Handler = decltype(handler);
        auto executor = boost::asio::get_associated_executor(handler, self->strand_);
        auto shared_handler = std::make_shared<Handler>(std::move(handler));
        auto pending = std::make_shared<Pending>();
        pending->api_key = A::kKey;
        pending->min_version = A::kMinVersion;
        pending->max_version = A::kMaxVersion;
        pending->api_name = A::kName;
        pending->timeout = options.timeout.value_or(self->config_.request_timeout);
        pending->expect_response = options.expect_response;
        pending->encode = [req = std::move(req), client_id = self->config_.client_id](
                              int16_t version, int32_t correlation_id) {
          return protocol::encodeRequestFrame<A>(req, version, correlation_id, client_id);
        };
        pending->complete = [executor, shared_handler, label = self->label_](
                                Result<ResponseFrame> frame) {
          boost::asio::post(executor, [shared_handler, label, frame = std::move(frame)]() mutable {
            if (!frame.ok()) return (*shared_handler)(Result<Response>(frame.error()));
            if (!frame->body) return (*shared_handler)(Result<Response>(Response{}));
            auto response =
                protocol::decodeResponseFrame<A>(*frame->body, frame->version, frame->body);
            if (!response.ok()) {
              return (*shared_handler)(Result<Response>(
                  Error{response.error().code, label + ": " + response.error().message}));
            }
            (*shared_handler)(std::move(response));
          });
        };
        boost::asio::post(self->strand_,
                          [self, pending]() mutable { self->submit(std::move(pending)); });
      },
      token, std::move(request));
}

}  // namespace kafka::net
