#include "client_core/net/broker_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "client_core/common/log.hpp"

namespace kafka::net {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

std::string_view BrokerConnection::stateName(State state) {
  switch (state) {
    case State::kIdle: return "idle";
    case State::kConnecting: return "connecting";
    case State::kNegotiating: return "negotiating";
    case State::kUp: return "up";
    case State::kBackoff: return "backoff";
    case State::kClosed: return "closed";
  }
  return "?";
}

std::shared_ptr<BrokerConnection> BrokerConnection::create(
    asio::any_io_executor executor, std::string host, uint16_t port, ConnectionConfig config,
    ConnectionLabel label, std::unique_ptr<ConnectionEvents> events) {
  return std::shared_ptr<BrokerConnection>(
      new BrokerConnection(std::move(executor), std::move(host), port, std::move(config),
                           std::move(label), std::move(events)));
}

BrokerConnection::BrokerConnection(asio::any_io_executor executor, std::string host, uint16_t port,
                                   ConnectionConfig config, ConnectionLabel label,
                                   std::unique_ptr<ConnectionEvents> events)
    : strand_(asio::make_strand(executor)),
      host_(std::move(host)),
      port_(port),
      config_(std::move(config)),
      label_(std::move(label.text)),
      log_cluster_(std::move(label.cluster)),
      log_broker_(label.broker),
      events_(std::move(events)),
      socket_(strand_),
      writer_wake_(strand_),
      reconnect_wait_(strand_),
      backoff_(config_.reconnect_backoff, config_.reconnect_backoff_max) {
  broker_versions_.fill({-1, -1});
}

BrokerConnection::~BrokerConnection() = default;

void BrokerConnection::close() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->closed_) return;
    self->closed_ = true;
    self->setState(State::kClosed);
    boost::system::error_code ignored;
    self->socket_.close(ignored);
    self->writer_wake_.cancel();
    self->reconnect_wait_.cancel();
    self->failAll(Error{ErrorCode::kShuttingDown, self->label_ + ": connection closed"});
  });
}

std::optional<int16_t> BrokerConnection::negotiatedVersion(protocol::ApiKey key) const {
  std::lock_guard lock(versions_mutex_);
  if (!versions_) return std::nullopt;
  auto index = static_cast<size_t>(key);
  if (index >= versions_->size() || (*versions_)[index].first < 0) return std::nullopt;
  return (*versions_)[index].second;
}

void BrokerConnection::setState(State state) {
  State old = state_.exchange(state, std::memory_order_relaxed);
  if (old != state) {
    KS_LOG_IN(kDebug, "connection", logContext(),
              label_ << " " << host_ << ":" << port_ << " " << stateName(old) << " -> "
                     << stateName(state));
  }
}

Error BrokerConnection::transportError(const std::string& what) const {
  return Error{ErrorCode::kTransport,
               label_ + " " + host_ + ":" + std::to_string(port_) + ": " + what};
}

void BrokerConnection::submit(PendingPtr pending) {
  if (closed_) {
    pending->complete(Error{ErrorCode::kShuttingDown, label_ + ": connection closed"});
    return;
  }
  pending->timer = std::make_unique<asio::steady_timer>(strand_, pending->timeout);
  pending->timer->async_wait(
      [self = shared_from_this(), weak = std::weak_ptr<Pending>(pending)](
          boost::system::error_code ec) {
        if (ec) return;
        if (auto p = weak.lock()) self->onTimeout(p);
      });
  queue_.push_back(std::move(pending));
  if (!running_) {
    running_ = true;
    asio::co_spawn(strand_, run(), asio::detached);
  } else {
    wakeWriter();
  }
}

void BrokerConnection::finish(const PendingPtr& pending, Result<ResponseFrame> result) {
  if (pending->done) return;
  pending->done = true;
  pending->timer->cancel();
  if (events_ && pending->expect_response) reportDone(*pending, result.ok());
  pending->complete(std::move(result));
}

void BrokerConnection::reportDone(const Pending& pending, bool answered) {
  // Only a written request can have been answered; its time runs from the write.
  const std::chrono::duration<double> elapsed =
      std::chrono::steady_clock::now() - pending.written_at;
  events_->onRequestDone(pending.api_key, pending.api_name, pending.written, answered,
                         answered ? elapsed.count() : 0.0);
}

void BrokerConnection::onTimeout(const PendingPtr& pending) {
  if (pending->done) return;
  std::string what = std::string(pending->api_name) + " request timed out after " +
                     std::to_string(pending->timeout.count()) + " ms";
  finish(pending, Error{ErrorCode::kRequestTimedOutLocally,
                        label_ + " " + host_ + ":" + std::to_string(port_) + ": " + what});
  if (pending->written) {
    // The broker answers in order: nothing behind this request can be answered before it.
    KS_LOG_IN(kWarn, "connection", logContext(),
              label_ << ": " << what << "; closing the connection");
    close_reason_ = transportError("connection closed after a " + what);
    boost::system::error_code ignored;
    socket_.close(ignored);
  } else {
    std::erase(queue_, pending);
  }
}

void BrokerConnection::failAll(const Error& error) {
  auto in_flight = std::move(in_flight_);
  auto queued = std::move(queue_);
  in_flight_.clear();
  queue_.clear();
  for (auto& [id, pending] : in_flight) finish(pending, error);
  for (auto& pending : queued) finish(pending, error);
}

void BrokerConnection::wakeWriter() { writer_wake_.cancel(); }

asio::awaitable<void> BrokerConnection::run() {
  auto self = shared_from_this();  // keeps the connection alive while it runs
  while (!closed_ && !queue_.empty()) {
    if (backoff_.attempts() > 0) {
      setState(State::kBackoff);
      reconnect_wait_.expires_after(backoff_.next());
      co_await reconnect_wait_.async_wait(kNoThrow);
      if (closed_) break;
    }
    Result<void> up = co_await connect();
    if (up.ok()) up = co_await negotiate();
    if (!up.ok()) {
      KS_LOG_IN(kWarn, "connection", logContext(), up.error().message);
      boost::system::error_code ignored;
      socket_.close(ignored);
      if (closed_) break;
      if (events_) events_->onConnectFailed();
      failAll(up.error());
      if (backoff_.attempts() == 0) backoff_.next();  // the next attempt waits
      continue;
    }
    backoff_.reset();
    connects_.fetch_add(1, std::memory_order_relaxed);
    setState(State::kUp);
    KS_LOG_IN(kInfo, "connection", logContext(),
              label_ << " connected to " << host_ << ":" << port_);
    if (events_) events_->onConnected();

    auto reason = co_await (readLoop() || writeLoop());
    if (events_) events_->onDisconnected();
    Error error = std::visit([](Error& e) { return std::move(e); }, reason);
    if (close_reason_) error = *std::exchange(close_reason_, std::nullopt);
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (closed_) break;
    KS_LOG_IN(kInfo, "connection", logContext(), error.message);
    failAll(error);
    backoff_.next();  // reconnecting at once after a drop would hammer a struggling broker
  }
  running_ = false;
  if (!closed_) setState(State::kIdle);
}

asio::awaitable<Result<void>> BrokerConnection::connect() {
  setState(State::kConnecting);
  tcp::resolver resolver(strand_);
  asio::steady_timer deadline(strand_, config_.connect_timeout);
  auto resolved = co_await (resolver.async_resolve(host_, std::to_string(port_), kNoThrow) ||
                            deadline.async_wait(kNoThrow));
  if (resolved.index() == 1) co_return transportError("resolve timed out");
  auto [resolve_error, endpoints] = std::get<0>(resolved);
  if (resolve_error) co_return transportError("resolve failed: " + resolve_error.message());

  socket_ = tcp::socket(strand_);
  auto connected =
      co_await (asio::async_connect(socket_, endpoints, kNoThrow) || deadline.async_wait(kNoThrow));
  if (connected.index() == 1) {
    co_return transportError("connect timed out after " +
                             std::to_string(config_.connect_timeout.count()) + " ms");
  }
  auto [connect_error, endpoint] = std::get<0>(connected);
  if (connect_error) co_return transportError("connect failed: " + connect_error.message());
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  co_return Result<void>{};
}

asio::awaitable<Result<void>> BrokerConnection::negotiate() {
  using protocol::ApiVersionsApi;
  setState(State::kNegotiating);
  int16_t version = ApiVersionsApi::kMaxVersion;
  if (auto cap = config_.version_caps.find(protocol::ApiKey::kApiVersions);
      cap != config_.version_caps.end()) {
    version = std::min(version, cap->second);
  }
  if (api_versions_v0_only_) version = 0;

  asio::steady_timer deadline(strand_, config_.request_timeout);
  for (int attempt = 0; attempt < 2; ++attempt) {
    // KIP-511: brokers record which client software (and version) is connected.
    protocol::ApiVersionsRequest request{"kafka-sidecar", KS_VERSION, {}};
    protocol::Bytes frame = protocol::encodeRequestFrame<ApiVersionsApi>(
        request, version, next_correlation_id_++, config_.client_id);
    auto written =
        co_await (asio::async_write(socket_, asio::buffer(frame), kNoThrow) ||
                  deadline.async_wait(kNoThrow));
    if (written.index() == 1) co_return transportError("ApiVersions request timed out");
    if (auto [ec, n] = std::get<0>(written); ec) {
      co_return transportError("writing ApiVersions failed: " + ec.message());
    }
    auto read = co_await (readFrame() || deadline.async_wait(kNoThrow));
    if (read.index() == 1) co_return transportError("ApiVersions response timed out");
    auto body = std::move(std::get<0>(read));
    if (!body.ok()) {
      // Brokers too old for this ApiVersions version close the connection instead of answering.
      if (version > 0) api_versions_v0_only_ = true;
      co_return body.error();
    }
    auto response = protocol::decodeResponseFrame<ApiVersionsApi>(**body, version);
    if (!response.ok() || response->error_code ==
                              static_cast<int16_t>(ErrorCode::kUnsupportedVersion)) {
      // The broker answers a version it does not know in the v0 layout, listing (since KIP-511)
      // the ApiVersions versions it does serve; retry with the best of those, else v0.
      auto v0 = protocol::decodeResponseFrame<ApiVersionsApi>(**body, 0);
      int16_t retry = 0;
      if (v0.ok()) {
        for (const auto& key : v0->api_keys) {
          if (key.api_key == static_cast<int16_t>(protocol::ApiKey::kApiVersions)) {
            retry = std::min<int16_t>(key.max_version, version - 1);
          }
        }
      }
      if (version == 0 || retry < 0) {
        co_return Error{ErrorCode::kUnsupportedApi,
                        label_ + ": the broker rejected ApiVersions v0"};
      }
      KS_LOG_IN(kDebug, "connection", logContext(),
                label_ << ": ApiVersions v" << version << " unsupported, retrying with v" << retry);
      version = std::max<int16_t>(retry, 0);
      continue;
    }
    if (response->error_code != 0) {
      auto code = fromWire(response->error_code);
      co_return Error{code, label_ + ": ApiVersions failed: " + errorName(code)};
    }
    VersionTable table;
    table.fill({-1, -1});
    for (const auto& key : response->api_keys) {
      if (key.api_key >= 0 && static_cast<size_t>(key.api_key) < table.size()) {
        table[static_cast<size_t>(key.api_key)] = {key.min_version, key.max_version};
      }
    }
    std::lock_guard lock(versions_mutex_);
    versions_ = VersionTable{};
    versions_->fill({-1, -1});
    protocol::forEachApi([&]<class A>() {
      auto [broker_min, broker_max] = table[static_cast<size_t>(A::kKey)];
      int16_t ours = A::kMaxVersion;
      if (auto cap = config_.version_caps.find(A::kKey); cap != config_.version_caps.end()) {
        ours = std::min(ours, cap->second);
      }
      int16_t best = std::min(ours, broker_max);
      if (broker_min >= 0 && best >= std::max<int16_t>(A::kMinVersion, broker_min)) {
        (*versions_)[static_cast<size_t>(A::kKey)] = {std::max<int16_t>(A::kMinVersion, broker_min),
                                                      best};
      }
    });
    broker_versions_ = table;
    co_return Result<void>{};
  }
  co_return Error{ErrorCode::kUnsupportedApi, label_ + ": could not agree on an ApiVersions version"};
}

Result<int16_t> BrokerConnection::chooseVersion(const Pending& pending) const {
  std::lock_guard lock(versions_mutex_);
  auto index = static_cast<size_t>(pending.api_key);
  if (versions_ && (*versions_)[index].first >= 0) return (*versions_)[index].second;
  auto [broker_min, broker_max] = broker_versions_[index];
  std::string served = broker_min < 0 ? "does not serve it"
                                      : "serves v" + std::to_string(broker_min) + "-" +
                                            std::to_string(broker_max);
  return Error{ErrorCode::kUnsupportedApi,
               label_ + ": no common version of " + std::string(pending.api_name) +
                   " (we speak v" + std::to_string(pending.min_version) + "-" +
                   std::to_string(pending.max_version) + ", the broker " + served + ")"};
}

asio::awaitable<Result<std::shared_ptr<protocol::Bytes>>> BrokerConnection::readFrame() {
  std::array<uint8_t, 4> prefix{};
  auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(prefix), kNoThrow);
  if (ec) {
    co_return transportError(ec == asio::error::eof ? "connection closed by the broker"
                                                    : "read failed: " + ec.message());
  }
  protocol::Reader reader(prefix);
  auto length = protocol::checkFrameLength(reader.int32(), config_.max_frame_bytes);
  if (!length.ok()) co_return Error{length.error().code, label_ + ": " + length.error().message};
  auto body = std::make_shared<protocol::Bytes>(*length);
  auto [body_ec, body_n] = co_await asio::async_read(socket_, asio::buffer(*body), kNoThrow);
  if (body_ec) co_return transportError("read failed: " + body_ec.message());
  co_return body;
}

asio::awaitable<Error> BrokerConnection::readLoop() {
  for (;;) {
    auto frame = co_await readFrame();
    if (!frame.ok()) co_return frame.error();
    auto correlation_id = protocol::peekCorrelationId(**frame);
    auto it = correlation_id ? in_flight_.find(*correlation_id) : in_flight_.end();
    if (it == in_flight_.end()) {
      co_return transportError("response with unknown correlation id " +
                               std::to_string(correlation_id.value_or(-1)));
    }
    PendingPtr pending = std::move(it->second);
    in_flight_.erase(it);
    finish(pending, ResponseFrame{std::move(*frame), pending->version});
    wakeWriter();
  }
}

asio::awaitable<Error> BrokerConnection::writeLoop() {
  for (;;) {
    if (queue_.empty() || in_flight_.size() >= config_.max_in_flight) {
      writer_wake_.expires_at(asio::steady_timer::time_point::max());
      co_await writer_wake_.async_wait(kNoThrow);
      if (closed_) co_return Error{ErrorCode::kShuttingDown, label_ + ": connection closed"};
      if (!socket_.is_open()) co_return transportError("connection closed");
      continue;
    }
    // Write everything that fits in the in-flight window with one gathered write.
    std::vector<protocol::Bytes> frames;
    std::vector<PendingPtr> no_response;
    while (!queue_.empty() && in_flight_.size() < config_.max_in_flight) {
      PendingPtr pending = std::move(queue_.front());
      queue_.pop_front();
      auto version = chooseVersion(*pending);
      if (!version.ok()) {
        finish(pending, version.error());
        continue;
      }
      int32_t id = next_correlation_id_++;
      if (next_correlation_id_ == INT32_MAX) next_correlation_id_ = 1;
      pending->version = *version;
      pending->written = true;
      pending->written_at = std::chrono::steady_clock::now();
      if (events_ && pending->expect_response) events_->onRequestSent(pending->api_key);
      frames.push_back(pending->encode(*version, id));
      if (pending->expect_response) {
        in_flight_.emplace(id, std::move(pending));
      } else {
        no_response.push_back(std::move(pending));
      }
    }
    if (frames.empty()) continue;
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(frames.size());
    for (const auto& f : frames) buffers.emplace_back(asio::buffer(f));
    auto [ec, n] = co_await asio::async_write(socket_, buffers, kNoThrow);
    if (ec) {
      for (auto& p : no_response) finish(p, transportError("write failed: " + ec.message()));
      co_return transportError("write failed: " + ec.message());
    }
    for (auto& p : no_response) finish(p, ResponseFrame{nullptr, p->version});
  }
}

}  // namespace kafka::net
