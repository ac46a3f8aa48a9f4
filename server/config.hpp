// The daemon's command line: parsing and validating flags into a DaemonConfig.
//
// Parsing never exits or prints; main() decides what to do with the outcome (run, print help or
// version, or report a usage error and exit with code 2). Every error message names the flag and
// the value at fault.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client_core/common/log.hpp"
#include "client_core/consumer/consumer_config.hpp"
#include "client_core/net/host_port.hpp"
#include "client_core/producer/producer_config.hpp"
#include "client_core/protocol/api.hpp"

namespace kafka::sidecar {

// The number of hardware threads (at least 1): the default for --threads.
unsigned defaultThreadCount();

// Consumer sessions: the defaults for what a SessionSpec leaves unset, and how many may be open.
struct ConsumerSessionConfig {
  consumer::OffsetReset offset_reset = consumer::OffsetReset::kLatest;
  std::chrono::milliseconds idle_ttl{60'000};
  size_t max_sessions = 10'000;
  // check.crcs for every session's fetched batches.
  bool check_crcs = true;
};

struct DaemonConfig {
  // The default cluster's brokers ("host:port" each); empty when embedded_brokers > 0.
  std::vector<std::string> bootstrap_servers;
  // When > 0, the daemon runs a mock Kafka cluster with this many brokers in-process and points
  // the default cluster at it.
  int embedded_brokers = 0;
  // "host:port" (port 0: any free port) or "unix:PATH".
  std::string grpc_listen = "127.0.0.1:50051";
  net::HostPort http_listen{"127.0.0.1", 8080};
  std::string client_id = "kafka-sidecar";
  log::Level log_level = log::Level::kInfo;
  // Threads running the io_context; defaults to the number of hardware threads.
  unsigned threads = defaultThreadCount();
  // Further clusters by name (never "default"): their bootstrap servers.
  std::map<std::string, std::vector<std::string>> named_clusters;
  // Highest version to use per API, below what negotiation would pick (for brokers that
  // advertise a version they serve badly).
  std::map<protocol::ApiKey, int16_t> api_version_caps;
  // The settings of every producer; a call may override acks and compression. Valid by
  // Producer::validate() once parsed.
  producer::ProducerConfig producer;
  ConsumerSessionConfig consumer;
};

// Limits enforced on flag values.
inline constexpr int kMaxEmbeddedBrokers = 64;
inline constexpr unsigned kMaxThreads = 256;
inline constexpr uint64_t kMaxMillisFlag = 2'147'483'647;  // Kafka's limit for its *.ms settings
inline constexpr uint64_t kMaxSizeFlag = 2'147'483'647;    // batch.size, max.request.size
inline constexpr uint64_t kMaxBufferMemory = uint64_t{1} << 40;
inline constexpr uint64_t kMaxConsumerSessions = 1'000'000;

struct ParsedArgs {
  enum class Action { kRun, kHelp, kVersion, kError };
  Action action = Action::kRun;
  DaemonConfig config;  // meaningful for kRun
  std::string error;    // for kError: one line naming the flag and value
};

// Parses the arguments that follow the program name.
ParsedArgs parseArgs(std::span<const std::string_view> args);
ParsedArgs parseArgs(int argc, const char* const* argv);

// The --help text.
std::string usageText();
// "kafka-sidecar X.Y.Z".
std::string versionText();

// A listen address: "host:port" or "[v6]:port" with port 0 (any free port) to 65535; nullopt
// when malformed. (Bootstrap servers use net::parseHostPortList, where port 0 is an error.)
std::optional<net::HostPort> parseListenAddress(std::string_view text);

}  // namespace kafka::sidecar
