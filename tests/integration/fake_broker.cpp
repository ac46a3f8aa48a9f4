#include "tests/integration/fake_broker.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace kafka::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

FakeBroker::FakeBroker(Script script)
    : script_(std::move(script)),
      acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  acceptor_thread_ = std::thread([this] { acceptLoop(); });
}

FakeBroker::~FakeBroker() {
  stopping_ = true;
  // Closing a listening socket does not wake a thread blocked in accept(); a connection does.
  boost::system::error_code ignored;
  tcp::socket waker(io_);
  waker.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ignored);
  acceptor_thread_.join();
  acceptor_.close(ignored);
  {
    std::lock_guard lock(mutex_);
    for (auto& s : sockets_) s->shutdown(tcp::socket::shutdown_both, ignored);
  }
  for (auto& t : threads_) t.join();
}

void FakeBroker::acceptLoop() {
  while (!stopping_) {
    boost::system::error_code ec;
    tcp::socket socket = acceptor_.accept(ec);
    if (ec || stopping_) return;
    auto shared = std::make_shared<tcp::socket>(std::move(socket));
    std::lock_guard lock(mutex_);
    sockets_.push_back(shared);
    int index = accepted_++;
    threads_.emplace_back([this, index, shared] { serve(shared, index); });
  }
}

void FakeBroker::serve(const std::shared_ptr<tcp::socket>& shared, int index) {
  for (;;) {
    boost::system::error_code ec;
    std::array<uint8_t, 4> prefix{};
    asio::read(*shared, asio::buffer(prefix), ec);
    if (ec) return;
    protocol::Reader length_reader(prefix);
    int32_t length = length_reader.int32();
    if (length < 0 || length > 64 * 1024 * 1024) return;
    protocol::Bytes frame(static_cast<size_t>(length));
    asio::read(*shared, asio::buffer(frame), ec);
    if (ec) return;

    protocol::Reader reader(frame);
    // Every API we speak uses header v1 for classic versions and v2 for flexible ones; the
    // flexible flag is found from the key and version in the first four bytes.
    protocol::Reader peek(frame);
    auto key = static_cast<protocol::ApiKey>(peek.int16());
    int16_t version = peek.int16();
    bool flexible = false;
    protocol::forEachApi([&]<class A>() {
      if (A::kKey == key) flexible = protocol::isFlexible<A>(version);
    });
    auto header = protocol::decodeRequestHeader(reader, protocol::requestHeaderVersion(key, flexible));
    if (!header.ok()) return;
    auto rest = reader.take(reader.remaining());
    Reply reply = script_(Request{*header, protocol::Bytes(rest.begin(), rest.end()), index});
    if (reply.kind == Reply::Kind::kClose) {
      shared->close(ec);
      return;
    }
    if (reply.kind == Reply::Kind::kRespond) {
      asio::write(*shared, asio::buffer(reply.frame), ec);
      if (ec) return;
    }
  }
}

protocol::ApiVersionsResponse FakeBroker::allApis(
    const std::vector<std::tuple<protocol::ApiKey, int16_t, int16_t>>& overrides) {
  protocol::ApiVersionsResponse response;
  protocol::forEachApi([&]<class A>() {
    int16_t lo = A::kMinVersion;
    int16_t hi = A::kMaxVersion;
    for (auto [key, min, max] : overrides) {
      if (key == A::kKey) {
        lo = min;
        hi = max;
      }
    }
    if (lo >= 0) response.api_keys.push_back({static_cast<int16_t>(A::kKey), lo, hi, {}});
  });
  return response;
}

protocol::MetadataResponse FakeBroker::selfMetadata() const {
  protocol::MetadataResponse response;
  response.brokers.push_back({1, "127.0.0.1", port_, std::nullopt, {}});
  response.cluster_id = "fake-cluster";
  response.controller_id = 1;
  return response;
}

}  // namespace kafka::testing
