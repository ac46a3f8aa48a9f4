// The daemon's settings: parsing and validating them into a DaemonConfig.
//
// Every setting is defined once, in config.cpp's table, and may come from three places: its flag
// (--linger-ms=5), an environment variable (KAFKA_SIDECAR_LINGER_MS=5), or the YAML file that
// --config (or KAFKA_SIDECAR_CONFIG) names (`linger-ms: 5`, or `linger.ms: 5` under `producer:`).
// A flag wins over a variable, and a variable over the file.
//
// Parsing never exits or prints; main() decides what to do with the outcome (run, print help or
// version, or report a usage error and exit with code 2). Every error message names where the
// value at fault came from (the flag, the variable, or the file, key and line) and the value.
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
#include "client_core/consumer/fetch_config.hpp"
#include "client_core/net/host_port.hpp"
#include "client_core/producer/producer_config.hpp"
#include "client_core/protocol/api.hpp"
#include "server/auth_tokens.hpp"

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
  // The settings of each cluster's Fetcher, which every session of that cluster shares.
  consumer::FetchConfig fetch;
  // Bytes one session holds fetched and not yet delivered (ConsumerConfig::max_buffered_bytes).
  size_t max_buffered_bytes = consumer::ConsumerConfig{}.max_buffered_bytes;
};

// TLS on the TCP listeners (gRPC and HTTP); unix sockets are served in plaintext, guarded by
// their file mode. The files are PEM; the config checks that they can be read, the Daemon parses
// them at start.
struct ListenerTls {
  std::string cert_file;       // the server's certificate chain; empty: no TLS
  std::string key_file;        // its private key; set exactly when cert_file is
  std::string client_ca_file;  // when set, mTLS: clients must present a certificate it signed

  bool enabled() const { return !cert_file.empty(); }
  bool mutual() const { return !client_ca_file.empty(); }
};

// As Kubernetes' default terminationGracePeriodSeconds.
inline constexpr std::chrono::milliseconds kDefaultShutdownTimeout{30'000};

struct DaemonConfig {
  // The default cluster's brokers ("host:port" each); empty when embedded_brokers > 0.
  std::vector<std::string> bootstrap_servers;
  // When > 0, the daemon runs a mock Kafka cluster with this many brokers in-process and points
  // the default cluster at it.
  int embedded_brokers = 0;
  // "host:port" (port 0: any free port) or "unix:PATH".
  std::string grpc_listen = "127.0.0.1:50051";
  net::HostPort http_listen{"127.0.0.1", 8080};
  // When set (--http-listen unix:PATH), HTTP listens on this unix socket instead of http_listen.
  std::string http_unix_path;
  ListenerTls tls;
  // The permission bits of every unix socket the daemon creates.
  unsigned unix_socket_mode = 0660;
  std::string client_id = "kafka-sidecar";
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kText;
  // Threads running the io_context; defaults to the number of hardware threads.
  unsigned threads = defaultThreadCount();
  // How long a graceful shutdown (SIGTERM, SIGINT) may take in all: in-flight calls, the
  // producers' flush, the sessions' final commits and LeaveGroups; see Daemon.
  std::chrono::milliseconds shutdown_timeout = kDefaultShutdownTimeout;
  // Further clusters by name (never "default"): their bootstrap servers.
  std::map<std::string, std::vector<std::string>> named_clusters;
  // Highest version to use per API, below what negotiation would pick (for brokers that
  // advertise a version they serve badly).
  std::map<protocol::ApiKey, int16_t> api_version_caps;
  // The settings of every producer; a call may override acks and compression. Valid by
  // Producer::validate() once parsed.
  producer::ProducerConfig producer;
  ConsumerSessionConfig consumer;
  // --auth-tokens-file, and the tokens read from it at parse time: when there are any, every
  // call must carry one (see server/auth.hpp).
  std::string auth_tokens_file;
  std::vector<TokenGrant> auth_tokens;
};

// Limits enforced on the settings' values.
inline constexpr int kMaxEmbeddedBrokers = 64;
inline constexpr unsigned kMaxThreads = 256;
inline constexpr uint64_t kMaxMillisFlag = 2'147'483'647;  // Kafka's limit for its *.ms settings
inline constexpr uint64_t kMaxSizeFlag = 2'147'483'647;    // batch.size, max.request.size
inline constexpr uint64_t kMaxBufferMemory = uint64_t{1} << 40;
inline constexpr uint64_t kMaxConsumerSessions = 1'000'000;
// An hour: a pod whose shutdown takes longer is stuck, not draining.
inline constexpr uint64_t kMaxShutdownTimeoutMs = 3'600'000;
// The consumer never asks for less than this of a partition in one Fetch (its kMinFetchBytes),
// so a smaller max.partition.fetch.bytes could not be honoured.
inline constexpr uint64_t kMinPartitionFetchBytes = 64 * 1024;

struct ParsedArgs {
  enum class Action { kRun, kHelp, kVersion, kError };
  Action action = Action::kRun;
  DaemonConfig config;      // meaningful for kRun
  std::string error;        // for kError: one line naming the source and value
  std::string config_file;  // for kRun: the YAML file read, empty when none
};

// Environment variables by name.
using Environment = std::map<std::string, std::string, std::less<>>;

// Parses the arguments that follow the program name, with `env` as the environment (only the
// KAFKA_SIDECAR_* variables matter; others are ignored, as are those that name no setting).
ParsedArgs parseArgs(std::span<const std::string_view> args, const Environment& env = {});
// Parses argv (program name first) with the process environment.
ParsedArgs parseArgs(int argc, const char* const* argv);

// Every name of one setting, for checks that the documentation lists them all.
struct SettingNames {
  std::string flag;         // "--linger-ms"
  std::string env;          // "KAFKA_SIDECAR_LINGER_MS"; empty for a flag only (--help)
  std::string yaml_key;     // "linger-ms"; empty when the file cannot set it
  std::string section_key;  // "producer: linger.ms" where Kafka has a name for it, else empty
};
// In --help order.
std::vector<SettingNames> settingNames();

// One setting as the documentation shows it (docs/configuration.md is generated from these by
// tools/config_docs, so that it says what --help says).
struct SettingDoc {
  SettingNames names;
  std::string usage;         // "--linger-ms=N", "--embedded-broker[=N]", "--help"
  std::string default_text;  // empty when there is no single default
  std::string help;          // the --help text, unwrapped
  std::string heading;       // the --help heading it is listed under
};
// In --help order.
std::vector<SettingDoc> settingDocs();

// The --help text.
std::string usageText();
// "kafka-sidecar X.Y.Z".
std::string versionText();

// A listen address: "host:port" or "[v6]:port" with port 0 (any free port) to 65535; nullopt
// when malformed. (Bootstrap servers use net::parseHostPortList, where port 0 is an error.)
std::optional<net::HostPort> parseListenAddress(std::string_view text);

}  // namespace kafka::sidecar
