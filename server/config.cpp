#include "server/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <utility>

#include "client_core/producer/producer.hpp"

extern char** environ;  // POSIX: the process environment

namespace kafka::sidecar {
namespace {

enum class ValueKind {
  kNone,      // --help
  kRequired,  // --flag=value or --flag value
  kOptional,  // --flag or --flag=value; never takes the next argument
};

// Where a setting may come from besides its flag.
enum class Sources { kAll, kFlagAndEnv, kFlagOnly };

// How a setting's value is written outside a flag.
enum class Shape {
  kScalar,   // one value
  kList,     // a comma-separated list: in YAML a string or a list
  kEntries,  // repeatable KEY<separator>VALUE entries: ';'-separated in a variable, a YAML map
};

// The headings of --help. Producer and consumer settings with a Kafka name may also be set in the
// file's `producer:` and `consumer:` sections.
enum class Group { kCluster, kClusters, kListeners, kProducer, kConsumer, kOther };

struct GroupInfo {
  Group group;
  std::string_view heading;
  std::string_view section;  // the YAML section for its settings' Kafka names, or empty
};

constexpr GroupInfo kGroups[] = {
    {Group::kCluster, "Kafka cluster (exactly one is required):", ""},
    {Group::kClusters,
     "Further clusters (optional; API calls choose one by name, the default when they name none):",
     ""},
    {Group::kListeners, "Listeners:", ""},
    {Group::kProducer,
     "Producer (for Produce and ProduceStream; a call may choose its own acks and compression):",
     "producer"},
    {Group::kConsumer,
     "Consumer (for the Consumer service's sessions; a session may choose its own reset and TTL):",
     "consumer"},
    {Group::kOther, "Other:", ""},
};

std::string_view sectionOf(Group group) {
  for (const GroupInfo& info : kGroups) {
    if (info.group == group) return info.section;
  }
  return {};
}

// Applies a value to the config; returns "" or what the value should have been ("an integer
// from 1 to 256").
using Apply = std::function<std::string(DaemonConfig&, std::string_view value)>;

// One setting: the only place it is defined. Its variable and YAML key derive from its name.
struct Setting {
  std::string_view name;              // the flag, without the leading "--"
  std::string_view placeholder = {};  // the value in --help: "N", "LIST", "NAME=LIST"
  ValueKind kind = ValueKind::kRequired;
  std::string_view implicit_value = {};  // kOptional: the value when none is given
  Group group = Group::kOther;
  Shape shape = Shape::kScalar;
  char separator = 0;  // kEntries: between an entry's key and value, as in the flag
  Sources sources = Sources::kAll;
  std::string_view kafka_name = {};  // its key in the group's YAML section, if it has one
  std::string default_text = {};     // for --help; empty when there is no single default
  std::string_view help = {};
  Apply apply = nullptr;  // null for the settings the parser handles itself
};

std::string envName(std::string_view setting) {
  std::string out = "KAFKA_SIDECAR_";
  for (char c : setting) {
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

bool isHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

// Host names and IP literals, IPv6 ones (with a %zone) included.
bool isAddressChar(char c) {
  return isHostChar(c) || c == ':' || c == '%';
}

template <class Int>
std::optional<Int> parseInt(std::string_view text) {
  Int value{};
  if (text.empty() || text.front() == '+' || text.front() == '-') return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Parses a bootstrap list into `out`; returns what is wrong, or "".
std::string parseServers(std::string_view list, std::vector<std::string>& out) {
  auto servers = net::parseHostPortList(list);
  if (!servers.ok()) return "host:port[,host:port...] (" + servers.error().message + ")";
  out.clear();
  for (const net::HostPort& server : *servers) {
    if (!std::all_of(server.host.begin(), server.host.end(), isAddressChar)) {
      return "host:port[,host:port...] (bad host '" + server.host + "')";
    }
    out.push_back(server.toString());
  }
  return {};
}

std::string applyBootstrap(DaemonConfig& config, std::string_view value) {
  return parseServers(value, config.bootstrap_servers);
}

std::string applyNamedCluster(DaemonConfig& config, std::string_view value) {
  constexpr std::string_view kExpected = "NAME=host:port[,host:port...]";
  size_t equals = value.find('=');
  if (equals == std::string_view::npos) return std::string(kExpected);
  std::string_view name = value.substr(0, equals);
  if (name.empty() || !std::all_of(name.begin(), name.end(), isHostChar)) {
    return std::string(kExpected) + " (NAME: letters, digits, '.', '_' or '-')";
  }
  if (name == "default") {
    return std::string(kExpected) +
           " (the default cluster comes from --bootstrap-servers or --embedded-broker)";
  }
  return parseServers(value.substr(equals + 1), config.named_clusters[std::string(name)]);
}

std::string applyEmbedded(DaemonConfig& config, std::string_view value) {
  auto count = parseInt<int>(value);
  if (!count || *count < 1 || *count > kMaxEmbeddedBrokers) {
    return "a broker count from 1 to " + std::to_string(kMaxEmbeddedBrokers);
  }
  config.embedded_brokers = *count;
  return {};
}

std::string applyGrpcListen(DaemonConfig& config, std::string_view value) {
  if (value.starts_with("unix:")) {
    if (value.size() == 5) return "unix:PATH with a non-empty PATH";
    config.grpc_listen = std::string(value);
    return {};
  }
  auto address = parseListenAddress(value);
  if (!address) return "host:port (port 0 to 65535) or unix:PATH";
  config.grpc_listen = address->toString();
  return {};
}

std::string applyHttpListen(DaemonConfig& config, std::string_view value) {
  if (value.starts_with("unix:")) {
    if (value.size() == 5) return "unix:PATH with a non-empty PATH";
    config.http_unix_path = std::string(value.substr(5));
    return {};
  }
  auto address = parseListenAddress(value);
  if (!address) return "host:port (port 0 to 65535) or unix:PATH";
  config.http_listen = *address;
  config.http_unix_path.clear();
  return {};
}

// A setting naming a PEM file, which must be readable now (the Daemon parses it at start).
Apply pemFile(std::function<void(DaemonConfig&, std::string)> set) {
  return [set = std::move(set)](DaemonConfig& config, std::string_view value) -> std::string {
    std::string path(value);
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored)) return "a readable PEM file, not a directory";
    std::ifstream in(path, std::ios::binary);
    if (!in) return "a readable PEM file (" + std::string(std::strerror(errno)) + ")";
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().find("-----BEGIN ") == std::string::npos) {
      return "a PEM file (it has no '-----BEGIN' line)";
    }
    set(config, std::move(path));
    return {};
  };
}

std::string applySocketMode(DaemonConfig& config, std::string_view value) {
  unsigned mode = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), mode, 8);
  if (value.size() < 3 || value.size() > 4 || ec != std::errc() ||
      end != value.data() + value.size() || mode > 0777) {
    return "an octal file mode from 000 to 0777, e.g. 0660";
  }
  config.unix_socket_mode = mode;
  return {};
}

std::string applyClientId(DaemonConfig& config, std::string_view value) {
  // Kafka sends client.id as an int16-length string and logs it; keep it printable and sane.
  bool printable = std::all_of(value.begin(), value.end(), [](char c) {
    return std::isprint(static_cast<unsigned char>(c)) != 0;
  });
  if (value.empty() || value.size() > 255 || !printable) return "1 to 255 printable characters";
  config.client_id = std::string(value);
  return {};
}

std::string applyLogLevel(DaemonConfig& config, std::string_view value) {
  log::Level level{};
  if (value == "off" || !log::parseLevel(value, level)) {
    return "one of trace, debug, info, warn, error";
  }
  config.log_level = level;
  return {};
}

std::string applyLogFormat(DaemonConfig& config, std::string_view value) {
  if (!log::parseFormat(value, config.log_format)) return "one of text, json";
  return {};
}

std::string applyVersionCap(DaemonConfig& config, std::string_view value) {
  size_t colon = value.find(':');
  constexpr std::string_view kExpected = "API:VERSION, e.g. ListOffsets:3";
  if (colon == std::string_view::npos) return std::string(kExpected);
  auto key = protocol::apiKeyByName(value.substr(0, colon));
  if (!key) {
    return std::string(kExpected) + " (unknown API '" + std::string(value.substr(0, colon)) + "')";
  }
  auto version = parseInt<int16_t>(value.substr(colon + 1));
  if (!version) return std::string(kExpected);
  config.api_version_caps[*key] = *version;
  return {};
}

std::string applyAcks(DaemonConfig& config, std::string_view value) {
  if (value == "all" || value == "-1") {
    config.producer.acks = producer::Acks::kAll;
  } else if (value == "1") {
    config.producer.acks = producer::Acks::kLeader;
  } else if (value == "0") {
    config.producer.acks = producer::Acks::kNone;
  } else {
    return "all (or -1), 1 or 0";
  }
  return {};
}

std::string applyCompression(DaemonConfig& config, std::string_view value) {
  for (uint8_t id = 0; id <= record::kMaxCompressionId; ++id) {
    auto codec = static_cast<record::Compression>(id);
    if (value == record::compressionName(codec)) {
      config.producer.compression = codec;
      return {};
    }
  }
  return "one of none, gzip, snappy, lz4, zstd";
}

std::string applyOffsetReset(DaemonConfig& config, std::string_view value) {
  constexpr std::pair<std::string_view, consumer::OffsetReset> kPolicies[] = {
      {"earliest", consumer::OffsetReset::kEarliest},
      {"latest", consumer::OffsetReset::kLatest},
      {"none", consumer::OffsetReset::kNone}};
  for (const auto& [name, policy] : kPolicies) {
    if (value == name) {
      config.consumer.offset_reset = policy;
      return {};
    }
  }
  return "earliest, latest or none";
}

// A setting that `set`s "true" or "false".
Apply boolean(std::function<void(DaemonConfig&, bool)> set) {
  return [set = std::move(set)](DaemonConfig& config, std::string_view value) -> std::string {
    if (value != "true" && value != "false") return "true or false";
    set(config, value == "true");
    return {};
  };
}

// A setting that `set`s an integer from `min` to `max` (bytes, a count, or milliseconds).
Apply integer(uint64_t min, uint64_t max, std::function<void(DaemonConfig&, uint64_t)> set) {
  return [min, max, set = std::move(set)](DaemonConfig& config,
                                          std::string_view value) -> std::string {
    auto number = parseInt<uint64_t>(value);
    if (!number || *number < min || *number > max) {
      return "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    }
    set(config, *number);
    return {};
  };
}

std::chrono::milliseconds millis(uint64_t count) {
  return std::chrono::milliseconds(count);
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> kSettings = [] {
    const DaemonConfig defaults;
    const producer::ProducerConfig& producer = defaults.producer;
    const ConsumerSessionConfig& sessions = defaults.consumer;
    const consumer::FetchConfig& fetch = defaults.consumer.fetch;
    auto text = [](auto number) { return std::to_string(number); };
    using C = DaemonConfig;
    return std::vector<Setting>{
        {.name = "bootstrap-servers",
         .placeholder = "LIST",
         .group = Group::kCluster,
         .shape = Shape::kList,
         .help = "brokers to bootstrap from: host:port[,host:port...]",
         .apply = applyBootstrap},
        {.name = "embedded-broker",
         .placeholder = "N",
         .kind = ValueKind::kOptional,
         .implicit_value = "1",
         .group = Group::kCluster,
         .help = "run a test Kafka cluster (librdkafka's mock) in-process with N brokers (1 when "
                 "N is not given, at most 64) and a 3-partition topic \"demo\"; for trying the "
                 "sidecar out, not for production",
         .apply = applyEmbedded},
        {.name = "cluster",
         .placeholder = "NAME=LIST",
         .group = Group::kClusters,
         .shape = Shape::kEntries,
         .separator = '=',
         .help = "a cluster called NAME with bootstrap servers LIST; repeatable",
         .apply = applyNamedCluster},
        {.name = "grpc-listen",
         .placeholder = "ADDR",
         .group = Group::kListeners,
         .default_text = defaults.grpc_listen,
         .help = "gRPC: host:port or unix:PATH",
         .apply = applyGrpcListen},
        {.name = "http-listen",
         .placeholder = "ADDR",
         .group = Group::kListeners,
         .default_text = defaults.http_listen.toString(),
         .help = "HTTP (/healthz, /readyz, /metrics, the REST gateway): host:port or unix:PATH",
         .apply = applyHttpListen},
        {.name = "tls-cert-file",
         .placeholder = "FILE",
         .group = Group::kListeners,
         .help = "PEM certificate chain of the server: with --tls-key-file, both TCP listeners "
                 "serve TLS (1.2 or later) only; unix sockets stay plaintext",
         .apply = pemFile([](C& c, std::string v) { c.tls.cert_file = std::move(v); })},
        {.name = "tls-key-file",
         .placeholder = "FILE",
         .group = Group::kListeners,
         .help = "PEM private key of --tls-cert-file",
         .apply = pemFile([](C& c, std::string v) { c.tls.key_file = std::move(v); })},
        {.name = "tls-client-ca-file",
         .placeholder = "FILE",
         .group = Group::kListeners,
         .help = "PEM CA bundle: mTLS, clients of both TCP listeners must present a certificate "
                 "it signed (except for GET /healthz and /readyz, which kubelet probes cannot "
                 "present one to); needs --tls-cert-file",
         .apply = pemFile([](C& c, std::string v) { c.tls.client_ca_file = std::move(v); })},
        {.name = "unix-socket-mode",
         .placeholder = "MODE",
         .group = Group::kListeners,
         .default_text = "0660",
         .help = "octal permission bits of the unix sockets of --grpc-listen and --http-listen "
                 "unix:PATH (a stale socket file at PATH is replaced)",
         .apply = applySocketMode},
        {.name = "auth-tokens-file",
         .placeholder = "FILE",
         .group = Group::kListeners,
         .help = "a YAML file of bearer tokens, each granted topics and groups; when set, every "
                 "gRPC and REST call needs one, and what its token is not granted is refused",
         .apply =
             [](C& c, std::string_view v) {
               c.auth_tokens_file = std::string(v);
               return v.empty() ? std::string("a file name") : std::string();
             }},
        {.name = "acks",
         .placeholder = "all|1|0",
         .group = Group::kProducer,
         .kafka_name = "acks",
         .default_text = "all",
         .help = "replicas that must have a record before it counts as delivered: all in-sync "
                 "ones, the leader, or none",
         .apply = applyAcks},
        {.name = "compression",
         .placeholder = "CODEC",
         .group = Group::kProducer,
         .kafka_name = "compression.type",
         .default_text = std::string(record::compressionName(producer.compression)),
         .help = "none, gzip, snappy, lz4 or zstd",
         .apply = applyCompression},
        {.name = "linger-ms",
         .placeholder = "N",
         .group = Group::kProducer,
         .kafka_name = "linger.ms",
         .default_text = text(producer.linger.count()),
         .help = "how long a batch that is not full waits for more records",
         .apply =
             integer(0, kMaxMillisFlag, [](C& c, uint64_t v) { c.producer.linger = millis(v); })},
        {.name = "batch-size",
         .placeholder = "BYTES",
         .group = Group::kProducer,
         .kafka_name = "batch.size",
         .default_text = text(producer.batch_size),
         .help = "a partition's batch is sent once it holds this much",
         .apply = integer(1, kMaxSizeFlag, [](C& c, uint64_t v) { c.producer.batch_size = v; })},
        {.name = "buffer-memory",
         .placeholder = "BYTES",
         .group = Group::kProducer,
         .kafka_name = "buffer.memory",
         .default_text = text(producer.buffer_memory),
         .help = "records held until their delivery is reported, all partitions together, per "
                 "producer (one per cluster and distinct acks and compression of calls); when it "
                 "is full, callers wait",
         .apply =
             integer(1, kMaxBufferMemory, [](C& c, uint64_t v) { c.producer.buffer_memory = v; })},
        {.name = "max-request-size",
         .placeholder = "BYTES",
         .group = Group::kProducer,
         .kafka_name = "max.request.size",
         .default_text = text(producer.max_request_size),
         .help = "the largest Produce request, and so the largest record",
         .apply =
             integer(1, kMaxSizeFlag, [](C& c, uint64_t v) { c.producer.max_request_size = v; })},
        {.name = "enable-idempotence",
         .placeholder = "B",
         .group = Group::kProducer,
         .kafka_name = "enable.idempotence",
         .default_text = producer.idempotence ? "true" : "false",
         .help = "true or false: a retried batch is never written twice; needs --acks=all, and "
                 "is off with other acks",
         .apply = boolean([](C& c, bool v) { c.producer.idempotence = v; })},
        {.name = "delivery-timeout-ms",
         .placeholder = "N",
         .group = Group::kProducer,
         .kafka_name = "delivery.timeout.ms",
         .default_text = text(producer.delivery_timeout.count()),
         .help = "how long a record may take to be delivered, retries included, before it is "
                 "reported failed",
         .apply = integer(1, kMaxMillisFlag,
                          [](C& c, uint64_t v) { c.producer.delivery_timeout = millis(v); })},
        {.name = "request-timeout-ms",
         .placeholder = "N",
         .group = Group::kProducer,
         .kafka_name = "request.timeout.ms",
         .default_text = text(producer.request_timeout.count()),
         .help = "how long a broker may take to answer a Produce request",
         .apply = integer(1, kMaxMillisFlag,
                          [](C& c, uint64_t v) { c.producer.request_timeout = millis(v); })},
        {.name = "auto-offset-reset",
         .placeholder = "P",
         .group = Group::kConsumer,
         .kafka_name = "auto.offset.reset",
         .default_text = "latest",
         .help = "where a partition without a committed offset starts: earliest, latest or none "
                 "(an error event, and nothing until a seek)",
         .apply = applyOffsetReset},
        {.name = "consumer-session-idle-ttl-ms",
         .placeholder = "N",
         .group = Group::kConsumer,
         .default_text = text(sessions.idle_ttl.count()),
         .help = "how long a session stays open with no call using it, keeping its group "
                 "membership for an application that reconnects",
         .apply =
             integer(1, kMaxMillisFlag, [](C& c, uint64_t v) { c.consumer.idle_ttl = millis(v); })},
        {.name = "max-consumer-sessions",
         .placeholder = "N",
         .group = Group::kConsumer,
         .default_text = text(sessions.max_sessions),
         .help = "sessions open at once, at most; opening more fails with RESOURCE_EXHAUSTED",
         .apply = integer(1, kMaxConsumerSessions,
                          [](C& c, uint64_t v) { c.consumer.max_sessions = v; })},
        {.name = "consumer-session-max-buffered-bytes",
         .placeholder = "BYTES",
         .group = Group::kConsumer,
         .default_text = text(sessions.max_buffered_bytes),
         .help = "records one session holds fetched ahead of its application; it asks for no "
                 "more while they reach this",
         .apply = integer(1, kMaxBufferMemory,
                          [](C& c, uint64_t v) { c.consumer.max_buffered_bytes = v; })},
        {.name = "check-crcs",
         .placeholder = "B",
         .group = Group::kConsumer,
         .kafka_name = "check.crcs",
         .default_text = sessions.check_crcs ? "true" : "false",
         .help = "true or false: check the CRC of every fetched record batch; a batch that fails "
                 "stops its partition with an error event naming it",
         .apply = boolean([](C& c, bool v) { c.consumer.check_crcs = v; })},
        {.name = "fetch-max-wait-ms",
         .placeholder = "N",
         .group = Group::kConsumer,
         .kafka_name = "fetch.max.wait.ms",
         .default_text = text(fetch.max_wait.count()),
         .help = "how long a broker may hold a Fetch while it has nothing new for it (less than "
                 "--fetch-min-bytes)",
         .apply = integer(0, kMaxMillisFlag,
                          [](C& c, uint64_t v) { c.consumer.fetch.max_wait = millis(v); })},
        {.name = "fetch-busy-max-wait-ms",
         .placeholder = "N",
         .group = Group::kConsumer,
         .default_text = text(fetch.busy_max_wait.count()),
         .help = "how long a broker may hold a Fetch while records it just returned are out with "
                 "their sessions, whose next asks will find more (at most --fetch-max-wait-ms)",
         .apply = integer(0, kMaxMillisFlag,
                          [](C& c, uint64_t v) { c.consumer.fetch.busy_max_wait = millis(v); })},
        {.name = "fetch-min-bytes",
         .placeholder = "BYTES",
         .group = Group::kConsumer,
         .kafka_name = "fetch.min.bytes",
         .default_text = text(fetch.min_bytes),
         .help = "a broker answers a Fetch once it has this much for it, or when the wait is over",
         .apply = integer(
             1, kMaxSizeFlag,
             [](C& c, uint64_t v) { c.consumer.fetch.min_bytes = static_cast<int32_t>(v); })},
        {.name = "fetch-max-bytes",
         .placeholder = "BYTES",
         .group = Group::kConsumer,
         .kafka_name = "fetch.max.bytes",
         .default_text = text(fetch.max_bytes),
         .help = "the most one Fetch response may carry (a larger first batch still comes whole)",
         .apply = integer(
             1, kMaxSizeFlag,
             [](C& c, uint64_t v) { c.consumer.fetch.max_bytes = static_cast<int32_t>(v); })},
        {.name = "max-partition-fetch-bytes",
         .placeholder = "BYTES",
         .group = Group::kConsumer,
         .kafka_name = "max.partition.fetch.bytes",
         .default_text = text(fetch.partition_max_bytes),
         .help = "the most of one partition in one Fetch response (a larger first batch still "
                 "comes whole); at least 65536",
         .apply = integer(kMinPartitionFetchBytes, kMaxSizeFlag,
                          [](C& c, uint64_t v) {
                            c.consumer.fetch.partition_max_bytes = static_cast<int32_t>(v);
                          })},
        {.name = "fetch-max-buffered-bytes",
         .placeholder = "BYTES",
         .group = Group::kConsumer,
         .default_text = text(fetch.max_buffered_bytes),
         .help = "fetched records of all of a cluster's sessions held at once; no Fetch is sent "
                 "while they reach this",
         .apply = integer(1, kMaxBufferMemory,
                          [](C& c, uint64_t v) { c.consumer.fetch.max_buffered_bytes = v; })},
        {.name = "config",
         .placeholder = "FILE",
         .sources = Sources::kFlagAndEnv,
         .help = "read settings from this YAML file (see below)"},
        {.name = "client-id",
         .placeholder = "ID",
         .default_text = defaults.client_id,
         .help = "client.id sent to Kafka",
         .apply = applyClientId},
        {.name = "threads",
         .placeholder = "N",
         .help = "I/O threads (default: the number of hardware threads)",
         .apply = integer(1, kMaxThreads,
                          [](C& c, uint64_t v) { c.threads = static_cast<unsigned>(v); })},
        {.name = "shutdown-timeout-ms",
         .placeholder = "N",
         .default_text = text(defaults.shutdown_timeout.count()),
         .help = "how long a graceful shutdown on SIGTERM or SIGINT may take: in-flight calls, "
                 "the producers' flush, the final commits and LeaveGroups (at most 3600000); a "
                 "second signal exits at once",
         .apply = integer(1, kMaxShutdownTimeoutMs,
                          [](C& c, uint64_t v) { c.shutdown_timeout = millis(v); })},
        {.name = "log-level",
         .placeholder = "LEVEL",
         .default_text = std::string(log::levelName(defaults.log_level)),
         .help = "trace, debug, info, warn or error; logs go to stderr",
         .apply = applyLogLevel},
        {.name = "log-format",
         .placeholder = "FORMAT",
         .default_text = std::string(log::formatName(defaults.log_format)),
         .help = "text (one line per entry, context as key=value) or json (one object per "
                 "line: time, level, component, message, cluster, group, topic, partition, "
                 "broker, session)",
         .apply = applyLogFormat},
        {.name = "api-version-cap",
         .placeholder = "API:V",
         .shape = Shape::kEntries,
         .separator = ':',
         .help = "use at most version V of API (e.g. ListOffsets:3), even when the broker "
                 "offers more; repeatable",
         .apply = applyVersionCap},
        {.name = "help",
         .kind = ValueKind::kNone,
         .sources = Sources::kFlagOnly,
         .help = "print this help and exit"},
        {.name = "version",
         .kind = ValueKind::kNone,
         .sources = Sources::kFlagOnly,
         .help = "print the version and exit"},
    };
  }();
  return kSettings;
}

const Setting* findSetting(std::string_view name) {
  const auto& all = settings();
  auto found =
      std::find_if(all.begin(), all.end(), [&](const Setting& s) { return s.name == name; });
  return found == all.end() ? nullptr : &*found;
}

// A setting the parser itself refers to.
const Setting& settingNamed(std::string_view name) {
  return *findSetting(name);
}

// How a YAML map writes a kEntries setting's entries: "NAME: LIST" for --cluster=NAME=LIST.
std::string mapForm(const Setting& setting) {
  std::string_view placeholder = setting.placeholder;
  size_t split = placeholder.find(setting.separator);
  return std::string(placeholder.substr(0, split)) + ": " +
         std::string(placeholder.substr(split + 1));
}

// The setting's key in its group's YAML section ("producer: linger.ms"), or "" when none.
std::string sectionKey(const Setting& setting) {
  std::string_view section = sectionOf(setting.group);
  if (section.empty() || setting.kafka_name.empty()) return {};
  return std::string(section) + ": " + std::string(setting.kafka_name);
}

// ---------------------------------------------------------------------------------------------
// Values and where they came from

// One value given for a setting.
struct Given {
  const Setting* setting;
  std::string value;
  // For messages: "--threads", "KAFKA_SIDECAR_THREADS" or "threads in sidecar.yaml:3".
  std::string source;
};

ParsedArgs failure(std::string message) {
  ParsedArgs out;
  out.action = ParsedArgs::Action::kError;
  out.error = std::move(message);
  return out;
}

std::string invalidValue(const Given& given, std::string_view expected) {
  return "invalid value '" + given.value + "' for " + given.source + ": expected " +
         std::string(expected);
}

// The values the environment gives: a variable per setting; entries split at ';'. An empty
// variable counts as unset, as it does for most tools that read settings from variables.
std::vector<Given> fromEnvironment(const Environment& env) {
  std::vector<Given> out;
  for (const Setting& setting : settings()) {
    if (setting.sources == Sources::kFlagOnly) continue;
    std::string name = envName(setting.name);
    auto found = env.find(name);
    if (found == env.end() || found->second.empty()) continue;
    std::string_view value = found->second;
    if (setting.shape != Shape::kEntries) {
      out.push_back({&setting, std::string(value), name});
      continue;
    }
    for (size_t begin = 0;;) {
      size_t end = std::min(value.find(';', begin), value.size());
      out.push_back({&setting, std::string(value.substr(begin, end - begin)), name});
      if (end == value.size()) break;
      begin = end + 1;
    }
  }
  return out;
}

// Reads the settings of one YAML file, checking its keys and the shape of its values (their
// contents are checked by each setting's Apply, like a flag's).
class ConfigFileReader {
 public:
  ConfigFileReader(std::string file, std::vector<Given>& out) : file_(std::move(file)), out_(out) {}

  // Returns "" or the error.
  std::string read(const Given& named_by) {
    std::string cannot_read = "cannot read config file '" + file_ + "' (from " + named_by.source;
    std::error_code ignored;
    if (std::filesystem::is_directory(file_, ignored)) return cannot_read + "): it is a directory";
    std::ifstream in(file_, std::ios::binary);
    if (!in) return cannot_read + "): " + std::strerror(errno);
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return cannot_read + "): " + std::strerror(errno);
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAll(text.str());
    } catch (const YAML::Exception& error) {
      return "malformed YAML in " + where(error.mark) + ": " + error.msg;
    }
    if (documents.size() > 1) {
      return "config file '" + file_ + "' holds " + std::to_string(documents.size()) +
             " YAML documents; put every setting in one";
    }
    // An empty file (or one of comments only) sets nothing.
    if (documents.empty() || documents[0].IsNull()) return {};
    const YAML::Node& root = documents[0];
    if (!root.IsMap()) {
      return "wrong type for the top level of " + where(root.Mark()) +
             ": expected a map of settings, got " + kindOf(root);
    }
    for (const auto& entry : root) {
      std::string error = readTopLevel(entry.first, entry.second);
      if (!error.empty()) return error;
    }
    return {};
  }

 private:
  // "file:line" (or just the file when yaml-cpp gives no position).
  std::string where(const YAML::Mark& mark) const {
    if (mark.is_null()) return file_;
    return file_ + ":" + std::to_string(mark.line + 1);
  }

  static std::string kindOf(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Map:
        return "a map";
      case YAML::NodeType::Scalar:
        return "'" + node.Scalar() + "'";
      default:
        return "nothing";
    }
  }

  std::string readTopLevel(const YAML::Node& key, const YAML::Node& value) {
    if (!key.IsScalar()) {
      return "wrong type for a key in " + where(key.Mark()) + ": expected a setting's name, got " +
             kindOf(key);
    }
    const std::string& name = key.Scalar();
    for (const GroupInfo& group : kGroups) {
      if (!group.section.empty() && name == group.section) return readSection(group, key, value);
    }
    const Setting* setting = findSetting(name);
    if (!setting || setting->sources == Sources::kFlagOnly) {
      std::string hint =
          "; keys are the flags' names without '--', and the sections producer and consumer";
      for (const Setting& other : settings()) {
        if (!other.kafka_name.empty() && other.kafka_name == name && !sectionKey(other).empty()) {
          hint = "; Kafka's names go under their section (" + sectionKey(other) + ") or use '" +
                 std::string(other.name) + "'";
        }
      }
      return "unknown key '" + name + "' in " + where(key.Mark()) + hint;
    }
    if (setting->sources != Sources::kAll) {
      return "key '" + name + "' in " + where(key.Mark()) +
             ": a config file cannot name another; give --" + name + " or " + envName(name);
    }
    return add(*setting, name, key, value);
  }

  std::string readSection(const GroupInfo& group, const YAML::Node& key,
                          const YAML::Node& section) {
    if (section.IsNull()) return {};
    if (!section.IsMap()) {
      return "wrong type for " + key.Scalar() + " in " + where(key.Mark()) +
             ": expected a map of Kafka settings, got " + kindOf(section);
    }
    std::string known;
    for (const Setting& setting : settings()) {
      if (setting.group != group.group || setting.kafka_name.empty()) continue;
      known += (known.empty() ? "" : ", ") + std::string(setting.kafka_name);
    }
    for (const auto& entry : section) {
      if (!entry.first.IsScalar()) {
        return "wrong type for a key in " + where(entry.first.Mark()) +
               ": expected a Kafka setting's name, got " + kindOf(entry.first);
      }
      std::string name = std::string(group.section) + "." + entry.first.Scalar();
      const auto& all = settings();
      auto setting = std::find_if(all.begin(), all.end(), [&](const Setting& s) {
        return s.group == group.group && !s.kafka_name.empty() &&
               s.kafka_name == entry.first.Scalar();
      });
      if (setting == all.end()) {
        return "unknown key '" + name + "' in " + where(entry.first.Mark()) + "; " +
               std::string(group.section) + " takes " + known;
      }
      std::string error = add(*setting, name, entry.first, entry.second);
      if (!error.empty()) return error;
    }
    return {};
  }

  // `value` as the text of a flag's value: a string, or a list of strings joined by ','.
  static std::optional<std::string> flagText(const YAML::Node& value, bool list_allowed) {
    if (value.IsScalar()) return value.Scalar();
    if (!list_allowed || !value.IsSequence()) return std::nullopt;
    std::string out;
    for (const YAML::Node& item : value) {
      if (!item.IsScalar()) return std::nullopt;
      out += (out.empty() ? "" : ",") + item.Scalar();
    }
    return out;
  }

  // Adds the values `value` gives `setting`, which the file calls `name` at `key`.
  std::string add(const Setting& setting, const std::string& name, const YAML::Node& key,
                  const YAML::Node& value) {
    std::string source = name + " in " + where(key.Mark());
    auto [earlier, first] = seen_.emplace(&setting, source);
    if (!first) {
      return "--" + std::string(setting.name) + " is set twice in " + file_ + ": by " +
             earlier->second + " and by " + source;
    }
    switch (setting.shape) {
      case Shape::kScalar:
      case Shape::kList: {
        auto flag_value = flagText(value, setting.shape == Shape::kList);
        if (!flag_value) {
          return "wrong type for " + source + ": expected " +
                 (setting.shape == Shape::kList ? "a string or a list of strings"
                                                : "a single value") +
                 ", got " + kindOf(value);
        }
        out_.push_back({&setting, std::move(*flag_value), std::move(source)});
        return {};
      }
      case Shape::kEntries: {
        std::string expected = "a map of " + mapForm(setting);
        if (!value.IsMap()) {
          return "wrong type for " + source + ": expected " + expected + ", got " + kindOf(value);
        }
        for (const auto& entry : value) {
          auto entry_value = flagText(entry.second, true);
          std::string entry_source = name + " in " + where(entry.first.Mark());
          if (!entry.first.IsScalar() || !entry_value) {
            return "wrong type for " + entry_source + ": expected " + expected;
          }
          out_.push_back({&setting, entry.first.Scalar() + setting.separator + *entry_value,
                          std::move(entry_source)});
        }
        return {};
      }
    }
    return {};
  }

  std::string file_;
  std::vector<Given>& out_;
  // Each setting the file has set, with where.
  std::map<const Setting*, std::string> seen_;
};

// Applies the values of every level, lowest precedence first, and checks that they fit together.
class Resolver {
 public:
  // `levels`: the file's values, the environment's, the flags'.
  ParsedArgs resolve(std::initializer_list<const std::vector<Given>*> levels) {
    std::map<const Setting*, size_t> top;  // the highest level that sets each setting
    size_t level = 0;
    for (const std::vector<Given>* given : levels) {
      for (const Given& value : *given) top[value.setting] = level;
      ++level;
    }
    // For repeatable entries the level that wins gives all of them; those of lower levels are
    // only checked.
    DaemonConfig checked_only;
    level = 0;
    for (const std::vector<Given>* given : levels) {
      for (const Given& value : *given) {
        if (!value.setting->apply) continue;
        bool wins = value.setting->shape != Shape::kEntries || top[value.setting] == level;
        std::string expected = value.setting->apply(wins ? out_.config : checked_only, value.value);
        if (!expected.empty()) return failure(invalidValue(value, expected));
        if (wins) winner_[value.setting] = &value;
      }
      ++level;
    }
    if (std::string error = checkTogether(); !error.empty()) return failure(std::move(error));
    if (DaemonConfig& config = out_.config; !config.auth_tokens_file.empty()) {
      std::string error = loadTokenFile(config.auth_tokens_file, config.auth_tokens);
      if (!error.empty()) return failure(sourceOf("auth-tokens-file") + ": " + error);
    }
    return std::move(out_);
  }

 private:
  const Given* winner(std::string_view name) const {
    auto found = winner_.find(&settingNamed(name));
    return found == winner_.end() ? nullptr : found->second;
  }

  // Where the setting's value came from, for messages; its flag when it is the default.
  std::string sourceOf(std::string_view name) const {
    const Given* given = winner(name);
    return given ? given->source : "--" + std::string(name);
  }

  std::string checkTogether() const {
    const DaemonConfig& config = out_.config;
    const Given* bootstrap = winner("bootstrap-servers");
    const Given* embedded = winner("embedded-broker");
    if (bootstrap && embedded) {
      return bootstrap->source + " and " + embedded->source + " cannot be used together";
    }
    if (!bootstrap && !embedded) {
      return "one of --bootstrap-servers or --embedded-broker is required (a flag, its "
             "environment variable or its key in the --config file)";
    }
    const ListenerTls& tls = config.tls;
    if (tls.enabled() != !tls.key_file.empty()) {
      return tls.enabled() ? sourceOf("tls-cert-file") + " needs " + sourceOf("tls-key-file") +
                                 " (the certificate's private key)"
                           : sourceOf("tls-key-file") + " needs " + sourceOf("tls-cert-file") +
                                 " (the key's certificate)";
    }
    if (tls.mutual() && !tls.enabled()) {
      return sourceOf("tls-client-ca-file") + " (mTLS) needs " + sourceOf("tls-cert-file") +
             " and " + sourceOf("tls-key-file") + ": clients check the server first";
    }
    // As in Kafka's clients: idempotence is silently off with acks 0 or 1 by default, but asking
    // for both is a mistake.
    const Given* idempotence = winner("enable-idempotence");
    if (idempotence && config.producer.idempotence &&
        config.producer.acks != producer::Acks::kAll) {
      return "idempotence needs acks=all: " + idempotence->source + " is 'true' and " +
             sourceOf("acks") + " is '" + winner("acks")->value + "'";
    }
    if (Result<void> valid = producer::Producer::validate(config.producer); !valid.ok()) {
      return "invalid producer settings: " + withSourceNames(valid.error().message);
    }
    const consumer::FetchConfig& fetch = config.consumer.fetch;
    if (fetch.min_bytes > fetch.max_bytes) {
      return sourceOf("fetch-min-bytes") + " (" + std::to_string(fetch.min_bytes) +
             ") must be at most " + sourceOf("fetch-max-bytes") + " (" +
             std::to_string(fetch.max_bytes) + ")";
    }
    return {};
  }

  // `message` with Kafka's names of producer settings ("linger.ms") replaced by where each
  // setting came from ("--linger-ms", "KAFKA_SIDECAR_LINGER_MS", ...).
  std::string withSourceNames(std::string_view message) const {
    std::string out;
    for (size_t at = 0; at < message.size();) {
      const Setting* named = nullptr;
      for (const Setting& setting : settings()) {
        if (setting.group == Group::kProducer && !setting.kafka_name.empty() &&
            message.substr(at).starts_with(setting.kafka_name) &&
            (!named || setting.kafka_name.size() > named->kafka_name.size())) {
          named = &setting;
        }
      }
      if (named) {
        out += sourceOf(named->name);
        at += named->kafka_name.size();
      } else {
        out += message[at++];
      }
    }
    return out;
  }

  ParsedArgs out_;
  std::map<const Setting*, const Given*> winner_;
};

constexpr size_t kHelpColumn = 28;
constexpr size_t kHelpWidth = 99;

// Appends `chunks` at kHelpColumn, a space between two, wrapped to kHelpWidth between chunks;
// `out` already ends at kHelpColumn.
void appendWrapped(std::string& out, const std::vector<std::string>& chunks) {
  size_t column = kHelpColumn;
  for (const std::string& chunk : chunks) {
    if (column > kHelpColumn && column + 1 + chunk.size() > kHelpWidth) {
      out += "\n" + std::string(kHelpColumn, ' ');
      column = kHelpColumn;
    }
    if (column > kHelpColumn) {
      out += ' ';
      ++column;
    }
    out += chunk;
    column += chunk.size();
  }
  out += '\n';
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  for (size_t at = 0; at < text.size();) {
    size_t end = std::min(text.find(' ', at), text.size());
    out.emplace_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

// The variable and YAML keys of a setting, for --help: phrases that are not broken.
std::vector<std::string> sourcesHelp(const Setting& setting) {
  if (setting.sources == Sources::kFlagOnly) return {};
  std::string env = "env " + envName(setting.name);
  if (setting.shape == Shape::kEntries) env += " (entries split by ';')";
  if (setting.sources != Sources::kAll) return {env};
  std::string yaml = "yaml " + std::string(setting.name);
  if (setting.shape == Shape::kList) yaml += " (a string or a list)";
  if (setting.shape == Shape::kEntries) yaml += " (a map of " + mapForm(setting) + ")";
  std::vector<std::string> out = {env + ",", yaml};
  if (std::string key = sectionKey(setting); !key.empty()) out.push_back("or " + key);
  return out;
}

std::string settingHelp(const Setting& setting) {
  std::string out = "  --" + std::string(setting.name);
  if (setting.kind == ValueKind::kRequired) out += "=" + std::string(setting.placeholder);
  if (setting.kind == ValueKind::kOptional) out += "[=" + std::string(setting.placeholder) + "]";
  if (out.size() + 1 > kHelpColumn) {
    out += "\n" + std::string(kHelpColumn, ' ');
  } else {
    out += std::string(kHelpColumn - out.size(), ' ');
  }
  std::vector<std::string> text = words(setting.help);
  if (!setting.default_text.empty()) text.push_back("(default " + setting.default_text + ")");
  appendWrapped(out, text);
  if (std::vector<std::string> sources = sourcesHelp(setting); !sources.empty()) {
    out += std::string(kHelpColumn, ' ');
    appendWrapped(out, sources);
  }
  return out;
}

Environment processEnvironment() {
  Environment out;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text = *entry;
    if (!text.starts_with("KAFKA_SIDECAR_")) continue;
    size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    out.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return out;
}

}  // namespace

unsigned defaultThreadCount() {
  return std::max(1u, std::thread::hardware_concurrency());
}

std::optional<net::HostPort> parseListenAddress(std::string_view text) {
  net::HostPort out;
  std::string_view port_text;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    std::string_view host = text.substr(1, close - 1);
    if (host.empty() || !std::all_of(host.begin(), host.end(), isAddressChar)) {
      return std::nullopt;
    }
    out.host = std::string(host);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = text.substr(0, colon);
    if (host.empty() || !std::all_of(host.begin(), host.end(), isHostChar)) return std::nullopt;
    out.host = std::string(host);
    port_text = text.substr(colon + 1);
  }
  auto port = parseInt<uint32_t>(port_text);
  if (!port || *port > 65535 || port_text.size() > 5) return std::nullopt;
  out.port = static_cast<uint16_t>(*port);
  return out;
}

ParsedArgs parseArgs(std::span<const std::string_view> args, const Environment& env) {
  std::vector<Given> from_flags;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("--") || arg.size() == 2) {
      return failure("unexpected argument '" + std::string(arg) + "' (flags start with --)");
    }
    std::string_view body = arg.substr(2);
    size_t equals = body.find('=');
    std::string_view name = body.substr(0, equals);
    std::optional<std::string_view> value;
    if (equals != std::string_view::npos) value = body.substr(equals + 1);

    const Setting* setting = findSetting(name);
    if (!setting) return failure("unknown flag '--" + std::string(name) + "'");

    switch (setting->kind) {
      case ValueKind::kNone: {
        if (value) return failure("--" + std::string(name) + " takes no value");
        // --help and --version win over everything else, wherever they appear.
        ParsedArgs out;
        out.action = name == "help" ? ParsedArgs::Action::kHelp : ParsedArgs::Action::kVersion;
        return out;
      }
      case ValueKind::kRequired:
        if (!value) {
          if (i + 1 >= args.size()) return failure("missing value for --" + std::string(name));
          value = args[++i];
        }
        break;
      case ValueKind::kOptional:
        if (!value) value = setting->implicit_value;
        break;
    }
    from_flags.push_back({setting, std::string(*value), "--" + std::string(name)});
  }
  std::vector<Given> from_env = fromEnvironment(env);

  // The file that --config names, or else KAFKA_SIDECAR_CONFIG.
  const Setting* config_setting = &settingNamed("config");
  const Given* config_file = nullptr;
  for (const std::vector<Given>* level : {&from_env, &from_flags}) {
    for (const Given& given : *level) {
      if (given.setting == config_setting) config_file = &given;
    }
  }
  std::vector<Given> from_file;
  if (config_file) {
    if (config_file->value.empty()) return failure(invalidValue(*config_file, "a file name"));
    ConfigFileReader reader(config_file->value, from_file);
    if (std::string error = reader.read(*config_file); !error.empty()) {
      return failure(std::move(error));
    }
  }
  ParsedArgs out = Resolver().resolve({&from_file, &from_env, &from_flags});
  if (out.action == ParsedArgs::Action::kRun && config_file) out.config_file = config_file->value;
  return out;
}

ParsedArgs parseArgs(int argc, const char* const* argv) {
  std::vector<std::string_view> args(argv + std::min(argc, 1), argv + argc);
  // A later --help must still win over an earlier bad flag, as users expect of --help.
  for (std::string_view arg : args) {
    if (arg == "--help" || arg == "--version") {
      ParsedArgs out;
      out.action = arg == "--help" ? ParsedArgs::Action::kHelp : ParsedArgs::Action::kVersion;
      return out;
    }
  }
  return parseArgs(args, processEnvironment());
}

std::vector<SettingNames> settingNames() {
  std::vector<SettingNames> out;
  for (const GroupInfo& group : kGroups) {
    for (const Setting& setting : settings()) {
      if (setting.group != group.group) continue;
      SettingNames names;
      names.flag = "--" + std::string(setting.name);
      if (setting.sources != Sources::kFlagOnly) names.env = envName(setting.name);
      if (setting.sources == Sources::kAll) names.yaml_key = std::string(setting.name);
      names.section_key = sectionKey(setting);
      out.push_back(std::move(names));
    }
  }
  return out;
}

std::vector<SettingDoc> settingDocs() {
  std::vector<SettingNames> names = settingNames();
  std::vector<SettingDoc> out;
  for (const GroupInfo& group : kGroups) {
    for (const Setting& setting : settings()) {
      if (setting.group != group.group) continue;
      SettingDoc doc;
      doc.names = std::move(names[out.size()]);
      doc.usage = "--" + std::string(setting.name);
      if (setting.kind == ValueKind::kRequired) doc.usage += "=" + std::string(setting.placeholder);
      if (setting.kind == ValueKind::kOptional) {
        doc.usage += "[=" + std::string(setting.placeholder) + "]";
      }
      doc.default_text = setting.default_text;
      doc.help = std::string(setting.help);
      doc.heading = std::string(group.heading);
      out.push_back(std::move(doc));
    }
  }
  return out;
}

std::string usageText() {
  std::string out =
      R"(Usage: kafka-sidecar (--bootstrap-servers=HOST:PORT[,...] | --embedded-broker[=N]) [flags]

Keeps connections to a Kafka cluster and serves it to applications over gRPC (kafka.sidecar.v1,
plus grpc.health.v1 and server reflection) and HTTP (probes, /metrics, the REST gateway).

Every setting is a flag, an environment variable or a key of the YAML file that --config names,
as listed under each flag; a flag wins over a variable, and a variable over the file.
)";
  for (const GroupInfo& group : kGroups) {
    out += "\n" + std::string(group.heading) + "\n";
    for (const Setting& setting : settings()) {
      if (setting.group == group.group) out += settingHelp(setting);
    }
  }
  out += R"(
A flag's value may also follow as the next argument (--grpc-listen 127.0.0.1:0), except for
--embedded-broker, which takes only --embedded-broker=N. A repeated flag's last value wins,
except --api-version-cap and --cluster, which add one entry per API or cluster name. For those
two, the source that wins (flags, variable or file) gives every entry. Listen port 0 picks a free
port; the bound addresses are logged. An empty variable counts as unset. In the file, the
producer and consumer sections take Kafka's names of the settings that have one, e.g.:

  bootstrap-servers: [kafka-1:9092, kafka-2:9092]
  cluster: {analytics: "a1:9092,a2:9092"}
  producer: {linger.ms: 10, compression.type: lz4}
  consumer: {fetch.max.wait.ms: 200}

Exit status: 0 after a clean stop on SIGTERM or SIGINT, 1 when start-up fails, 2 on a usage error.
)";
  return out;
}

std::string versionText() {
  return std::string("kafka-sidecar ") + KS_VERSION;
}

}  // namespace kafka::sidecar
