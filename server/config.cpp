#include "server/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <thread>
#include <type_traits>
#include <utility>

#include "client_core/producer/producer.hpp"

namespace kafka::sidecar {
namespace {

enum class ValueKind {
  kNone,      // --help
  kRequired,  // --flag=value or --flag value
  kOptional,  // --flag or --flag=value; never takes the next argument
};

// Applies a flag's value to the config; returns an empty string or what is wrong with the value.
using Apply = std::function<std::string(DaemonConfig&, std::string_view value)>;

struct Flag {
  std::string_view name;  // without the leading "--"
  ValueKind kind;
  Apply apply;
  std::string_view implicit_value = {};  // kOptional: the value when none is given
};

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

std::string badValue(std::string_view flag, std::string_view value, std::string_view expected) {
  return "invalid value '" + std::string(value) + "' for --" + std::string(flag) + ": expected " +
         std::string(expected);
}

// Parses a bootstrap list for `flag` into `out`; returns what is wrong, or "".
std::string parseServers(std::string_view flag, std::string_view value, std::string_view list,
                         std::vector<std::string>& out) {
  auto servers = net::parseHostPortList(list);
  if (!servers.ok()) {
    return badValue(flag, value, "host:port[,host:port...] (" + servers.error().message + ")");
  }
  out.clear();
  for (const net::HostPort& server : *servers) {
    if (!std::all_of(server.host.begin(), server.host.end(), isAddressChar)) {
      return badValue(flag, value, "host:port[,host:port...] (bad host '" + server.host + "')");
    }
    out.push_back(server.toString());
  }
  return {};
}

std::string applyBootstrap(DaemonConfig& config, std::string_view value) {
  return parseServers("bootstrap-servers", value, value, config.bootstrap_servers);
}

std::string applyNamedCluster(DaemonConfig& config, std::string_view value) {
  constexpr std::string_view kExpected = "NAME=host:port[,host:port...]";
  size_t equals = value.find('=');
  if (equals == std::string_view::npos) return badValue("cluster", value, kExpected);
  std::string_view name = value.substr(0, equals);
  if (name.empty() || !std::all_of(name.begin(), name.end(), isHostChar)) {
    return badValue("cluster", value,
                    std::string(kExpected) + " (NAME: letters, digits, '.', '_' or '-')");
  }
  if (name == "default") {
    return badValue("cluster", value,
                    std::string(kExpected) +
                        " (the default cluster comes from --bootstrap-servers or "
                        "--embedded-broker)");
  }
  return parseServers("cluster", value, value.substr(equals + 1),
                      config.named_clusters[std::string(name)]);
}

std::string applyEmbedded(DaemonConfig& config, std::string_view value) {
  auto count = parseInt<int>(value);
  if (!count || *count < 1 || *count > kMaxEmbeddedBrokers) {
    return badValue("embedded-broker", value,
                    "a broker count from 1 to " + std::to_string(kMaxEmbeddedBrokers));
  }
  config.embedded_brokers = *count;
  return {};
}

std::string applyGrpcListen(DaemonConfig& config, std::string_view value) {
  if (value.starts_with("unix:")) {
    if (value.size() == 5) return badValue("grpc-listen", value, "unix:PATH with a non-empty PATH");
    config.grpc_listen = std::string(value);
    return {};
  }
  auto address = parseListenAddress(value);
  if (!address) return badValue("grpc-listen", value, "host:port (port 0 to 65535) or unix:PATH");
  config.grpc_listen = address->toString();
  return {};
}

std::string applyHttpListen(DaemonConfig& config, std::string_view value) {
  auto address = parseListenAddress(value);
  if (!address) return badValue("http-listen", value, "host:port with a port from 0 to 65535");
  config.http_listen = *address;
  return {};
}

std::string applyClientId(DaemonConfig& config, std::string_view value) {
  // Kafka sends client.id as an int16-length string and logs it; keep it printable and sane.
  bool printable = std::all_of(value.begin(), value.end(), [](char c) {
    return std::isprint(static_cast<unsigned char>(c)) != 0;
  });
  if (value.empty() || value.size() > 255 || !printable) {
    return badValue("client-id", value, "1 to 255 printable characters");
  }
  config.client_id = std::string(value);
  return {};
}

std::string applyThreads(DaemonConfig& config, std::string_view value) {
  auto threads = parseInt<unsigned>(value);
  if (!threads || *threads < 1 || *threads > kMaxThreads) {
    return badValue("threads", value, "an integer from 1 to " + std::to_string(kMaxThreads));
  }
  config.threads = *threads;
  return {};
}

std::string applyLogLevel(DaemonConfig& config, std::string_view value) {
  log::Level level{};
  if (value == "off" || !log::parseLevel(value, level)) {
    return badValue("log-level", value, "one of trace, debug, info, warn, error");
  }
  config.log_level = level;
  return {};
}

std::string applyVersionCap(DaemonConfig& config, std::string_view value) {
  size_t colon = value.find(':');
  constexpr std::string_view kExpected = "API:VERSION, e.g. ListOffsets:3";
  if (colon == std::string_view::npos) return badValue("api-version-cap", value, kExpected);
  auto key = protocol::apiKeyByName(value.substr(0, colon));
  if (!key) {
    return badValue("api-version-cap", value,
                    std::string(kExpected) + " (unknown API '" +
                        std::string(value.substr(0, colon)) + "')");
  }
  auto version = parseInt<int16_t>(value.substr(colon + 1));
  if (!version) return badValue("api-version-cap", value, kExpected);
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
    return badValue("acks", value, "all (or -1), 1 or 0");
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
  return badValue("compression", value, "one of none, gzip, snappy, lz4, zstd");
}

// Sets `out` from "true" or "false"; anything else is an error naming `flag`.
std::string applyBool(std::string_view flag, std::string_view value, bool& out) {
  if (value != "true" && value != "false") return badValue(flag, value, "true or false");
  out = value == "true";
  return {};
}

std::string applyIdempotence(DaemonConfig& config, std::string_view value) {
  return applyBool("enable-idempotence", value, config.producer.idempotence);
}

std::string applyCheckCrcs(DaemonConfig& config, std::string_view value) {
  return applyBool("check-crcs", value, config.consumer.check_crcs);
}

// A flag that sets the producer setting `Member` (bytes, or milliseconds for a duration) to an
// integer from `min` to `max`.
template <auto Member>
Apply producerNumber(std::string_view flag, uint64_t min, uint64_t max) {
  return [flag, min, max](DaemonConfig& config, std::string_view value) -> std::string {
    auto number = parseInt<uint64_t>(value);
    if (!number || *number < min || *number > max) {
      return badValue(flag, value,
                      "an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    using Setting = std::remove_reference_t<decltype(config.producer.*Member)>;
    config.producer.*Member = Setting(*number);
    return {};
  };
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
  return badValue("auto-offset-reset", value, "earliest, latest or none");
}

std::string applySessionIdleTtl(DaemonConfig& config, std::string_view value) {
  auto millis = parseInt<uint64_t>(value);
  if (!millis || *millis < 1 || *millis > kMaxMillisFlag) {
    return badValue("consumer-session-idle-ttl-ms", value,
                    "an integer from 1 to " + std::to_string(kMaxMillisFlag));
  }
  config.consumer.idle_ttl = std::chrono::milliseconds(*millis);
  return {};
}

std::string applyMaxSessions(DaemonConfig& config, std::string_view value) {
  auto count = parseInt<uint64_t>(value);
  if (!count || *count < 1 || *count > kMaxConsumerSessions) {
    return badValue("max-consumer-sessions", value,
                    "an integer from 1 to " + std::to_string(kMaxConsumerSessions));
  }
  config.consumer.max_sessions = static_cast<size_t>(*count);
  return {};
}

const std::vector<Flag>& flags() {
  static const std::vector<Flag> kFlags = {
      {"bootstrap-servers", ValueKind::kRequired, applyBootstrap},
      {"embedded-broker", ValueKind::kOptional, applyEmbedded, "1"},
      {"grpc-listen", ValueKind::kRequired, applyGrpcListen},
      {"http-listen", ValueKind::kRequired, applyHttpListen},
      {"client-id", ValueKind::kRequired, applyClientId},
      {"threads", ValueKind::kRequired, applyThreads},
      {"log-level", ValueKind::kRequired, applyLogLevel},
      {"api-version-cap", ValueKind::kRequired, applyVersionCap},
      {"cluster", ValueKind::kRequired, applyNamedCluster},
      {"acks", ValueKind::kRequired, applyAcks},
      {"compression", ValueKind::kRequired, applyCompression},
      {"linger-ms", ValueKind::kRequired,
       producerNumber<&producer::ProducerConfig::linger>("linger-ms", 0, kMaxMillisFlag)},
      {"batch-size", ValueKind::kRequired,
       producerNumber<&producer::ProducerConfig::batch_size>("batch-size", 1, kMaxSizeFlag)},
      {"buffer-memory", ValueKind::kRequired,
       producerNumber<&producer::ProducerConfig::buffer_memory>("buffer-memory", 1,
                                                                kMaxBufferMemory)},
      {"max-request-size", ValueKind::kRequired,
       producerNumber<&producer::ProducerConfig::max_request_size>("max-request-size", 1,
                                                                   kMaxSizeFlag)},
      {"enable-idempotence", ValueKind::kRequired, applyIdempotence},
      {"delivery-timeout-ms", ValueKind::kRequired,
       producerNumber<&producer::ProducerConfig::delivery_timeout>("delivery-timeout-ms", 1,
                                                                   kMaxMillisFlag)},
      {"request-timeout-ms", ValueKind::kRequired,
       producerNumber<&producer::ProducerConfig::request_timeout>("request-timeout-ms", 1,
                                                                  kMaxMillisFlag)},
      {"auto-offset-reset", ValueKind::kRequired, applyOffsetReset},
      {"consumer-session-idle-ttl-ms", ValueKind::kRequired, applySessionIdleTtl},
      {"max-consumer-sessions", ValueKind::kRequired, applyMaxSessions},
      {"check-crcs", ValueKind::kRequired, applyCheckCrcs},
      {"help", ValueKind::kNone, nullptr},
      {"version", ValueKind::kNone, nullptr},
  };
  return kFlags;
}

// `message` with Kafka's names of producer settings ("linger.ms") replaced by our flags.
std::string withFlagNames(std::string message) {
  constexpr std::string_view kProducerFlags[] = {"acks",
                                                 "batch-size",
                                                 "buffer-memory",
                                                 "compression",
                                                 "linger-ms",
                                                 "enable-idempotence",
                                                 "delivery-timeout-ms",
                                                 "request-timeout-ms",
                                                 "max-request-size"};
  for (std::string_view flag : kProducerFlags) {
    std::string kafka_name(flag);
    std::replace(kafka_name.begin(), kafka_name.end(), '-', '.');
    std::string replacement = "--" + std::string(flag);
    for (size_t at = 0; (at = message.find(kafka_name, at)) != std::string::npos;
         at += replacement.size()) {
      message.replace(at, kafka_name.size(), replacement);
    }
  }
  return message;
}

ParsedArgs failure(std::string message) {
  ParsedArgs out;
  out.action = ParsedArgs::Action::kError;
  out.error = std::move(message);
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

ParsedArgs parseArgs(std::span<const std::string_view> args) {
  ParsedArgs out;
  bool saw_bootstrap = false;
  bool saw_embedded = false;
  bool idempotence_asked = false;  // --enable-idempotence=true, as opposed to the default
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

    auto flag =
        std::find_if(flags().begin(), flags().end(), [&](const Flag& f) { return f.name == name; });
    if (flag == flags().end()) return failure("unknown flag '--" + std::string(name) + "'");

    switch (flag->kind) {
      case ValueKind::kNone:
        if (value) return failure("--" + std::string(name) + " takes no value");
        // --help and --version win over everything else, wherever they appear.
        out.action = name == "help" ? ParsedArgs::Action::kHelp : ParsedArgs::Action::kVersion;
        return out;
      case ValueKind::kRequired:
        if (!value) {
          if (i + 1 >= args.size()) return failure("missing value for --" + std::string(name));
          value = args[++i];
        }
        break;
      case ValueKind::kOptional:
        if (!value) value = flag->implicit_value;
        break;
    }
    if (std::string error = flag->apply(out.config, *value); !error.empty()) {
      return failure(std::move(error));
    }
    saw_bootstrap |= name == "bootstrap-servers";
    saw_embedded |= name == "embedded-broker";
    if (name == "enable-idempotence") idempotence_asked = out.config.producer.idempotence;
  }
  if (saw_bootstrap && saw_embedded) {
    return failure("--bootstrap-servers and --embedded-broker cannot be used together");
  }
  if (!saw_bootstrap && !saw_embedded) {
    return failure("one of --bootstrap-servers or --embedded-broker is required");
  }
  // As in Kafka's clients: idempotence is silently off with acks 0 or 1 by default, but asking
  // for both is a mistake.
  if (idempotence_asked && out.config.producer.acks != producer::Acks::kAll) {
    return failure("--enable-idempotence=true needs --acks=all");
  }
  if (Result<void> valid = producer::Producer::validate(out.config.producer); !valid.ok()) {
    return failure("invalid producer settings: " + withFlagNames(valid.error().message));
  }
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
  return parseArgs(args);
}

std::string usageText() {
  return R"(Usage: kafka-sidecar (--bootstrap-servers=HOST:PORT[,...] | --embedded-broker[=N]) [flags]

Keeps connections to a Kafka cluster and serves it to applications over gRPC (kafka.sidecar.v1,
plus grpc.health.v1 and server reflection) and plain HTTP probes.

Kafka cluster (exactly one is required):
  --bootstrap-servers=LIST  brokers to bootstrap from: host:port[,host:port...]
  --embedded-broker[=N]     run a test Kafka cluster (librdkafka's mock) in-process with N
                            brokers (default 1, at most 64) and a 3-partition topic "demo";
                            for trying the sidecar out, not for production

Further clusters (optional; API calls choose one by name, the default when they name none):
  --cluster=NAME=LIST       a cluster called NAME with bootstrap servers LIST; repeatable

Listeners:
  --grpc-listen=ADDR        gRPC: host:port or unix:PATH (default 127.0.0.1:50051)
  --http-listen=ADDR        HTTP /healthz and /readyz: host:port (default 127.0.0.1:8080)
                            Port 0 picks a free port; the bound addresses are logged.

Producer (for Produce and ProduceStream; a call may choose its own acks and compression):
  --acks=all|1|0            replicas that must have a record before it counts as delivered:
                            all in-sync ones, the leader, or none (default all)
  --compression=CODEC       none, gzip, snappy, lz4 or zstd (default none)
  --linger-ms=N             how long a batch that is not full waits for more records (default 5)
  --batch-size=BYTES        a partition's batch is sent once it holds this much (default 1000000)
  --buffer-memory=BYTES     records held until their delivery is reported, all partitions
                            together, per producer (one per cluster and distinct acks and
                            compression of calls); when it is full, callers wait
                            (default 67108864)
  --max-request-size=BYTES  the largest Produce request, and so the largest record
                            (default 1048576)
  --enable-idempotence=B    true or false: a retried batch is never written twice; needs
                            --acks=all, and is off with other acks (default true)
  --delivery-timeout-ms=N   how long a record may take to be delivered, retries included, before
                            it is reported failed (default 120000)
  --request-timeout-ms=N    how long a broker may take to answer a Produce request
                            (default 30000)

Consumer (for the Consumer service's sessions; a session may choose its own reset and TTL):
  --auto-offset-reset=P     where a partition without a committed offset starts: earliest,
                            latest or none (an error event, and nothing until a seek)
                            (default latest)
  --consumer-session-idle-ttl-ms=N
                            how long a session stays open with no call using it, keeping its
                            group membership for an application that reconnects (default 60000)
  --max-consumer-sessions=N sessions open at once, at most; opening more fails with
                            RESOURCE_EXHAUSTED (default 10000)
  --check-crcs=B            true or false: check the CRC of every fetched record batch; a
                            batch that fails stops its partition with an error event naming
                            it (default true)

Other:
  --client-id=ID            client.id sent to Kafka (default kafka-sidecar)
  --threads=N               I/O threads (default: the number of hardware threads)
  --log-level=LEVEL         trace, debug, info, warn or error (default info); logs go to stderr
  --api-version-cap=API:V   use at most version V of API (e.g. ListOffsets:3), even when the
                            broker offers more; repeatable
  --help                    print this help and exit
  --version                 print the version and exit

A flag's value may also follow as the next argument (--grpc-listen 127.0.0.1:0), except for
--embedded-broker, which takes only --embedded-broker=N. A repeated flag's last value wins,
except --api-version-cap and --cluster, which add one entry per API or cluster name.
Exit status: 0 after a clean stop on SIGTERM or SIGINT, 1 when start-up fails, 2 on a usage error.
)";
}

std::string versionText() {
  return std::string("kafka-sidecar ") + KS_VERSION;
}

}  // namespace kafka::sidecar
