#include "server/broker_metrics.hpp"

#include <array>
#include <cstddef>

namespace kafka::sidecar {

namespace {

// Kafka's API keys are small numbers; a key beyond this table is counted under none.
constexpr size_t kApiSlots = 128;

class ConnectionSeries final : public net::ConnectionEvents {
 public:
  ConnectionSeries(Metrics& metrics, std::string cluster, const std::string& broker)
      : metrics_(metrics),
        cluster_(std::move(cluster)),
        series_(metrics.broker(cluster_, broker)) {}

  ~ConnectionSeries() override {
    // A connection destroyed while up (its I/O stopped outright) no longer counts.
    if (up_) series_.connections.Decrement();
  }
  ConnectionSeries(const ConnectionSeries&) = delete;
  ConnectionSeries& operator=(const ConnectionSeries&) = delete;

  void onConnected() override {
    up_ = true;
    series_.connections.Increment();
    series_.connects.Increment();
  }
  void onDisconnected() override {
    up_ = false;
    series_.connections.Decrement();
    series_.disconnects.Increment();
  }
  void onConnectFailed() override { series_.connect_failures.Increment(); }
  void onRequestSent(protocol::ApiKey) override { series_.in_flight.Increment(); }
  void onRequestDone(protocol::ApiKey api, std::string_view api_name, bool in_flight, bool answered,
                     double seconds) override {
    if (in_flight) series_.in_flight.Decrement();
    Metrics::RequestSeries* request = requestSeries(api, api_name);
    if (!request) return;
    if (answered) {
      request->latency.Observe(seconds);
    } else {
      request->errors.Increment();
    }
  }

 private:
  Metrics::RequestSeries* requestSeries(protocol::ApiKey api, std::string_view api_name) {
    const auto index = static_cast<size_t>(api);
    if (index >= requests_.size()) return nullptr;
    std::unique_ptr<Metrics::RequestSeries>& slot = requests_[index];
    if (!slot) {
      slot = std::make_unique<Metrics::RequestSeries>(
          metrics_.request(cluster_, std::string(api_name)));
    }
    return slot.get();
  }

  Metrics& metrics_;
  const std::string cluster_;
  const Metrics::BrokerSeries series_;
  bool up_ = false;
  std::array<std::unique_ptr<Metrics::RequestSeries>, kApiSlots> requests_;
};

}  // namespace

std::unique_ptr<net::ConnectionEvents> BrokerMetrics::attach(const std::string& cluster,
                                                             const std::string& broker) {
  return std::make_unique<ConnectionSeries>(metrics_, cluster, broker);
}

}  // namespace kafka::sidecar
