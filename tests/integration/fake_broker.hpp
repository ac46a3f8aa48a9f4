// FakeBroker: a scripted Kafka broker on 127.0.0.1 (port chosen by the kernel) for tests of
// behaviour the mock cluster cannot produce: dropped connections, unknown correlation ids,
// oversized frames, answers withheld. Each accepted connection is served by a thread of its
// own; the script decides, request by request, what the broker does.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "client_core/protocol/header.hpp"
#include "client_core/protocol/messages/all.hpp"

namespace kafka::testing {

class FakeBroker {
 public:
  struct Request {
    protocol::RequestHeader header;
    protocol::Bytes body;  // the message after the header
    int connection = 0;    // 0 for the first connection accepted, 1 for the next...
  };
  struct Reply {
    enum class Kind { kRespond, kIgnore, kClose };
    Kind kind = Kind::kIgnore;
    protocol::Bytes frame;  // a whole frame, length prefix included, for kRespond

    static Reply ignore() { return {}; }
    static Reply close() { return {Kind::kClose, {}}; }
    static Reply raw(protocol::Bytes frame) { return {Kind::kRespond, std::move(frame)}; }
    template <protocol::ApiDefinition A>
    static Reply with(const Request& request, const typename A::Response& response) {
      return raw(protocol::encodeResponseFrame<A>(response, request.header.api_version,
                                                  request.header.correlation_id));
    }
  };
  using Script = std::function<Reply(const Request&)>;

  explicit FakeBroker(Script script);
  ~FakeBroker();

  uint16_t port() const { return port_; }
  int connectionsAccepted() const { return accepted_.load(); }

  // An ApiVersions answer advertising every API we define at its full range, optionally
  // overridden per key ({-1, -1} removes a key).
  static protocol::ApiVersionsResponse allApis(
      const std::vector<std::tuple<protocol::ApiKey, int16_t, int16_t>>& overrides = {});
  // A Metadata answer listing this broker as node 1.
  protocol::MetadataResponse selfMetadata() const;

 private:
  void acceptLoop();
  void serve(const std::shared_ptr<boost::asio::ip::tcp::socket>& socket, int index);

  Script script_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
  std::thread acceptor_thread_;
};

}  // namespace kafka::testing
