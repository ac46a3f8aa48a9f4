#include "tools/ksctl/ksctl.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tools/ksctl/commands.hpp"

namespace kafka::ksctl {
namespace {

constexpr std::string_view kDefaultAddr = "localhost:50051";
constexpr double kDefaultTimeoutSeconds = 10;
constexpr double kMaxTimeoutSeconds = 24 * 3600;

const std::array kCommands = {
    Command{"brokers", "", "list the cluster's brokers: ID host:port [rack=R] [(controller)]",
            "Prints one line per broker, ordered by id: `ID host:port`, then ` rack=R` when the\n"
            "broker has a rack, and ` (controller)` on the controller.\n",
            runBrokers},
    Command{"topics", "[-v] | SUBCOMMAND ...",
            "list topics and their partition counts; create, delete, show configuration",
            "Without a subcommand, prints one line per topic, ordered by name:\n"
            "`NAME partitions=N`, then ` internal` for Kafka's own topics and ` error=CODE`\n"
            "when the topic has an error.\n"
            "  -v, --verbose   also print one indented line per partition:\n"
            "                  `partition=P leader=ID [epoch=E] replicas=IDS isr=IDS\n"
            "                  [offline=IDS] [error=CODE]` (IDS: comma-separated broker ids)\n"
            "\n"
            "topics create [-p N] [-r N] [--config NAME=VALUE]... [--validate-only] TOPIC\n"
            "  Creates TOPIC and prints `created TOPIC partitions=N replication_factor=R\n"
            "  [id=ID]` (counts the brokers did not report are left out).\n"
            "  -p N                  partitions, 1 or more (default: the brokers' num.partitions)\n"
            "  -r N                  replicas of each partition, 1 or more (default: the brokers'\n"
            "                        default.replication.factor)\n"
            "  --config NAME=VALUE   a topic setting, e.g. cleanup.policy=compact; repeatable\n"
            "  --validate-only       only check that the topic could be created; prints\n"
            "                        `valid TOPIC ...`\n"
            "topics delete TOPIC...\n"
            "  Deletes the topics, and all their records; prints `deleted TOPIC` for each.\n"
            "topics describe-config [--key NAME]... TOPIC...\n"
            "  Prints one line per configuration entry: `TOPIC NAME=VALUE source=SOURCE\n"
            "  [read-only]`, where SOURCE is topic, broker, default-broker, static-broker,\n"
            "  default (Kafka's default)... or unknown. Secret values print as (sensitive),\n"
            "  values the brokers do not show as (none). A topic that cannot be described\n"
            "  prints `TOPIC error=CODE`.\n"
            "  --key NAME            only this entry; repeatable\n"
            "\n"
            "A topic that `create` or `delete` could not handle is reported on stderr as\n"
            "`ksctl: topics SUBCOMMAND: TOPIC: CODE: message`, and the exit status is then 3.\n",
            runTopics},
    Command{"offsets", "[-g GROUP] [--read-committed] TOPIC...",
            "show where partitions start and end, and a group's committed offsets and lag",
            "Prints one line per partition, ordered by topic as given and then by partition:\n"
            "`TOPIC PARTITION earliest=E latest=L`, where E is the first offset in the log and L\n"
            "the offset the next record will get; then ` error=CODE` when a lookup failed (an\n"
            "offset it could not learn is -1). A topic the cluster does not have prints\n"
            "`TOPIC error=UNKNOWN_TOPIC_OR_PARTITION`. Reading offsets joins no group.\n"
            "  -g GROUP          also print ` committed=C lag=N`: the group's committed offset\n"
            "                    and L - C (`-` for both when the group has committed nothing)\n"
            "  --read-committed  L is the last stable offset, as read_committed consumers see\n"
            "                    it (default: the high watermark)\n",
            runOffsets},
    Command{"groups", "[SUBCOMMAND ...]",
            "list consumer groups; describe one; reset a group's offsets",
            "groups [list]\n"
            "  Prints one line per group of the cluster, ordered by name: `GROUP [type=TYPE]\n"
            "  [state=STATE] coordinator=ID`. TYPE is `consumer` for Kafka consumers, absent for\n"
            "  groups that only hold offsets; STATE is Empty, Stable, PreparingRebalance,\n"
            "  CompletingRebalance or Dead (absent from brokers before Kafka 2.6). A broker\n"
            "  that cannot answer is reported on stderr, `ksctl: groups list: broker ID: CODE:\n"
            "  message`, its groups are missing, and the exit status is 3.\n"
            "groups describe GROUP\n"
            "  Prints `GROUP state=STATE [type=TYPE] [protocol=ASSIGNOR] coordinator=ID\n"
            "  members=N`, then one indented line per member: `member=ID client=CLIENT_ID\n"
            "  host=HOST [instance=INSTANCE_ID] [assignment=TOPIC:P,P;TOPIC:P]`. A group that\n"
            "  does not exist is Dead, with no members.\n"
            "groups reset-offsets GROUP TARGET --topic TOPIC[:P,P...]... [--dry-run]\n"
            "  Moves GROUP's committed offsets. The group must have no running consumer (state\n"
            "  Empty or Dead). Prints one line per partition, ordered by topic as given and\n"
            "  then by partition: `TOPIC PARTITION previous=P offset=N` (previous is `-` when\n"
            "  the group had committed nothing); a partition that could not be moved is\n"
            "  reported on stderr, `ksctl: groups reset-offsets: TOPIC PARTITION: CODE:\n"
            "  message`, and the exit status is then 3.\n"
            "  TARGET is one of:\n"
            "  --to-earliest         the first offset still in each partition\n"
            "  --to-latest           the end of each partition: skip what is there\n"
            "  --to-timestamp MS     the first record at or after MS (milliseconds since the\n"
            "                        epoch; the end of the partition when there is none)\n"
            "  --to-offset N         offset N, brought within each partition's log\n"
            "  --topic TOPIC[:P,P...]  the partitions to move (all of TOPIC's without\n"
            "                        `:P...`); repeatable, at least one\n"
            "  --dry-run             print the new offsets, commit nothing\n",
            runGroups},
    Command{"produce", "[OPTIONS] TOPIC", "write stdin to TOPIC, one record per line",
            "Reads records from stdin, one per line, and streams them to TOPIC through the\n"
            "sidecar (Producer.ProduceStream). Only the newline is removed: an empty line is a\n"
            "record with an empty value, and a last line without a newline counts. A record's id\n"
            "is its line number, from 1, and errors name the lines.\n"
            "  -k SEP          the text before the first SEP is the key, the rest the value; a\n"
            "                  line without SEP has a null key (default: every key is null)\n"
            "  -H NAME=VALUE   add this header to every record; repeatable, kept in order.\n"
            "                  `-H NAME=` gives an empty value, `-H NAME` a null one\n"
            "  -p PARTITION    write every record to this partition (default: by the key's\n"
            "                  hash; records without a key stick to one partition per batch)\n"
            "  -z CODEC        compression: none, gzip, snappy, lz4 or zstd (default: the\n"
            "                  sidecar's)\n"
            "  --acks ACKS     0, 1 or all (default: the sidecar's, normally all)\n"
            "Records go in messages of up to 1000 records or 1 MiB, sooner when the input\n"
            "pauses. Input is read only as fast as the sidecar takes it, so any amount streams\n"
            "in bounded memory. --timeout bounds the wait for the last acks once the input has\n"
            "ended, not the reading of the input.\n"
            "\n"
            "At the end prints `produced N records (B bytes) to TOPIC, F failed`, where B counts\n"
            "the keys and values of the delivered records. Failures go to stderr, one line per\n"
            "ack (the first 20): `ksctl: produce: lines L failed (TOPIC partition P): ERROR:\n"
            "message`. Exit status: 0 when every record was delivered, 3 when some were not, 1\n"
            "when the call failed (some records may then have no known outcome) or the input\n"
            "could not be read.\n",
            runProduce},
    Command{"consume", "[OPTIONS] -g GROUP TOPIC",
            "print TOPIC's records as a member of GROUP, one per line",
            "Joins GROUP through a consumer session of the sidecar (Consumer.Subscribe) and\n"
            "prints each record's value on a line of its own, as it comes. The session is closed\n"
            "at the end: what was acked is committed and the group is left. The session's\n"
            "Kafka session timeout is 10 s, so the partitions of a run that is killed move on\n"
            "to other members soon.\n"
            "  -g GROUP          the consumer group (required)\n"
            "  -o FORMAT         `value` (default) or `json`: one JSON object per line with\n"
            "                    topic, partition, offset, key, value, headers and timestamp;\n"
            "                    keys and values are JSON strings, with bytes that are not\n"
            "                    UTF-8 written as \\u00XX escapes, and null when absent\n"
            "  -n COUNT          exit 0 after COUNT records\n"
            "  --from-beginning  start at the earliest offset where the group has no\n"
            "                    committed offset (default: the latest)\n"
            "  --manual-ack      ack each record once it is written to stdout, so that exactly\n"
            "                    what was printed is committed (default: records count as\n"
            "                    consumed once the sidecar sends them)\n"
            "With the global --timeout, exits 0 once that many seconds pass with no record;\n"
            "without it, runs until -n is reached or the sidecar ends the call.\n"
            "Exit status: 0 as above, 1 when the call failed, 2 for bad arguments.\n",
            runConsume},
};

struct GlobalOptions {
  std::string addr{kDefaultAddr};
  std::string cluster;
  double timeout_seconds = kDefaultTimeoutSeconds;
  bool timeout_given = false;
  // TLS: on with --tls or any of the files; the CA's PEM, else the system's roots.
  bool tls = false;
  std::string tls_ca_file;
  std::string tls_cert_file;  // with tls_key_file: the client certificate for mTLS
  std::string tls_key_file;
  std::string tls_server_name;  // the name the server's certificate must have, else the host's
  std::string token_file;
  bool help = false;
  const Command* command = nullptr;
  std::vector<std::string_view> command_args;
};

void printUsage(std::ostream& out) {
  out << "Usage: ksctl [--addr ADDR] [--cluster NAME] [--timeout SECONDS] [--token-file FILE]\n"
         "             [TLS flags] COMMAND [ARGS]\n"
         "\n"
         "Talks to a kafka-sidecar over gRPC.\n"
         "\n"
         "Commands:\n";
  const auto head = [](const Command& command) {
    std::string text(command.name);
    if (!command.arguments.empty()) text += " " + std::string(command.arguments);
    return text;
  };
  size_t column = 0;
  for (const Command& command : commands()) column = std::max(column, head(command).size() + 2);
  for (const Command& command : commands()) {
    std::string text = head(command);
    out << "  " << text << std::string(column - text.size(), ' ') << command.summary << "\n";
  }
  out << "\n"
         "Flags (anywhere on the line):\n"
         "  --addr ADDR        the sidecar's gRPC address: host:port or unix:PATH\n"
         "                     (default "
      << kDefaultAddr
      << ")\n"
         "  --cluster NAME     the sidecar's cluster to ask about (default: \"default\")\n"
         "  --timeout SECONDS  deadline of each call (default "
      << kDefaultTimeoutSeconds
      << "); for produce, how long to wait\n"
         "                     for the last acks once the input has ended\n"
         "  --token-file FILE  send the bearer token this file holds with every call (for a\n"
         "                     sidecar with --auth-tokens-file); without it, the token in\n"
         "                     the variable KAFKA_SIDECAR_TOKEN, if set\n"
         "  -h, --help         this help; `ksctl COMMAND --help` describes a command\n"
         "\n"
         "TLS (for a sidecar started with --tls-cert-file; any of these turns it on):\n"
         "  --tls                   TLS, trusting the system's root certificates\n"
         "  --tls-ca-file FILE      TLS, trusting the CA certificates in this PEM file\n"
         "  --tls-cert-file FILE    with --tls-key-file: present this PEM certificate (mTLS)\n"
         "  --tls-key-file FILE     the PEM private key of --tls-cert-file\n"
         "  --tls-server-name NAME  the name the sidecar's certificate must carry (default:\n"
         "                          the host of --addr)\n"
         "\n"
         "Exit status: 0 on success, 1 when the call fails (the error is printed as\n"
         "`ksctl: CODE: message`), 2 on a usage error, 3 when `produce` could not deliver\n"
         "some records.\n";
}

void printCommandUsage(const Command& command, std::ostream& out) {
  out << "Usage: ksctl [flags] " << command.name;
  if (!command.arguments.empty()) out << " " << command.arguments;
  out << "\n\n" << command.summary << "\n";
  if (!command.details.empty()) out << "\n" << command.details;
}

const Command* findCommand(std::string_view name) {
  auto found = std::find_if(commands().begin(), commands().end(),
                            [&](const Command& command) { return command.name == name; });
  return found == commands().end() ? nullptr : &*found;
}

std::optional<double> parseSeconds(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value <= 0 || value > kMaxTimeoutSeconds) {
    return std::nullopt;
  }
  return value;
}

// Where the value of the TLS flag `name` goes; null when `name` is no TLS flag with a value.
std::string* tlsOption(GlobalOptions& options, std::string_view name) {
  if (name == "--tls-ca-file") return &options.tls_ca_file;
  if (name == "--tls-cert-file") return &options.tls_cert_file;
  if (name == "--tls-key-file") return &options.tls_key_file;
  if (name == "--tls-server-name") return &options.tls_server_name;
  return nullptr;
}

// The contents of the file that `flag` names; on failure, nullopt and the message in `error`.
std::optional<std::string> readFlagFile(std::string_view flag, const std::string& path,
                                        std::string& error) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    error = "cannot read " + std::string(flag) + " '" + path + "'";
    return std::nullopt;
  }
  return text.str();
}

// The channel to the sidecar that `options` describe; on a usage error, null and the message.
std::shared_ptr<grpc::Channel> makeChannel(const GlobalOptions& options, std::string& error) {
  if (!options.tls) {
    return grpc::CreateChannel(options.addr, grpc::InsecureChannelCredentials());
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    error = "--tls-cert-file and --tls-key-file go together";
    return nullptr;
  }
  grpc::SslCredentialsOptions ssl;
  const std::pair<std::string_view, std::pair<const std::string*, std::string*>> files[] = {
      {"--tls-ca-file", {&options.tls_ca_file, &ssl.pem_root_certs}},
      {"--tls-cert-file", {&options.tls_cert_file, &ssl.pem_cert_chain}},
      {"--tls-key-file", {&options.tls_key_file, &ssl.pem_private_key}},
  };
  for (const auto& [flag, paths] : files) {
    if (paths.first->empty()) continue;
    auto text = readFlagFile(flag, *paths.first, error);
    if (!text) return nullptr;
    *paths.second = std::move(*text);
  }
  grpc::ChannelArguments arguments;
  if (!options.tls_server_name.empty()) {
    arguments.SetSslTargetNameOverride(options.tls_server_name);
  }
  return grpc::CreateCustomChannel(options.addr, grpc::SslCredentials(ssl), arguments);
}

// Fills `options` from `args`; on a usage error returns the message.
std::optional<std::string> parseGlobal(std::span<const std::string_view> args,
                                       GlobalOptions& options) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      options.help = true;
      continue;
    }
    std::string_view name = arg.substr(0, arg.find('='));
    if (arg == "--tls") {
      options.tls = true;
      continue;
    }
    if (auto* file = tlsOption(options, name)) {
      auto flag_value = takeFlagValue(args, i, name);
      if (!flag_value || flag_value->empty()) return "missing value for " + std::string(name);
      *file = std::string(*flag_value);
      options.tls = true;
      continue;
    }
    if (name == "--addr" || name == "--cluster" || name == "--timeout" || name == "--token-file") {
      auto flag_value = takeFlagValue(args, i, name);
      if (!flag_value) return "missing value for " + std::string(name);
      std::string_view value = *flag_value;
      if (name == "--addr") {
        if (value.empty() || value == "unix:") return "invalid value '' for --addr";
        options.addr = std::string(value);
      } else if (name == "--cluster") {
        options.cluster = std::string(value);
      } else if (name == "--token-file") {
        if (value.empty()) return "invalid value '' for --token-file";
        options.token_file = std::string(value);
      } else {
        auto seconds = parseSeconds(value);
        if (!seconds) {
          return invalidValue(name, value, "a number of seconds greater than 0");
        }
        options.timeout_seconds = *seconds;
        options.timeout_given = true;
      }
      continue;
    }
    if (options.command) {
      // The command judges its own arguments, flags included.
      options.command_args.push_back(arg);
      continue;
    }
    if (arg.starts_with("-")) return "unknown flag '" + std::string(name) + "'";
    options.command = findCommand(arg);
    if (!options.command) return "unknown command '" + std::string(arg) + "'";
  }
  return std::nullopt;
}

// The bearer token: --token-file's contents (without the line break that usually ends them), else
// KAFKA_SIDECAR_TOKEN; "" for none. On a usage error returns the message, never the token.
std::optional<std::string> readToken(const GlobalOptions& options, std::string& token) {
  token.clear();
  if (!options.token_file.empty()) {
    std::ifstream in(options.token_file, std::ios::binary);
    if (!in) {
      return "cannot read --token-file '" + options.token_file + "': " + std::strerror(errno);
    }
    std::ostringstream text;
    text << in.rdbuf();
    token = text.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  } else if (const char* variable = std::getenv("KAFKA_SIDECAR_TOKEN")) {
    token = variable;
  } else {
    return std::nullopt;
  }
  const bool usable = !token.empty() && std::all_of(token.begin(), token.end(),
                                                    [](char c) { return c > ' ' && c < 0x7f; });
  if (!usable) {
    token.clear();
    return std::string(options.token_file.empty() ? "KAFKA_SIDECAR_TOKEN"
                                                  : "--token-file '" + options.token_file + "'") +
           ": the token must be printable characters without spaces";
  }
  return std::nullopt;
}

}  // namespace

std::span<const Command> commands() {
  return kCommands;
}

std::optional<std::string_view> takeFlagValue(std::span<const std::string_view> args, size_t& i,
                                              std::string_view name) {
  if (name.size() < args[i].size()) return args[i].substr(name.size() + 1);
  if (i + 1 < args.size()) return args[++i];
  return std::nullopt;
}

std::string invalidValue(std::string_view flag, std::string_view value, std::string_view wanted) {
  return "invalid value '" + std::string(value) + "' for " + std::string(flag) + ": expected " +
         std::string(wanted);
}

std::unique_ptr<grpc::ClientContext> CommandContext::callContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  authorize(*context);
  return context;
}

void CommandContext::authorize(grpc::ClientContext& call) const {
  if (!token.empty()) call.AddMetadata("authorization", "Bearer " + token);
}

int CommandContext::rpcFailed(const grpc::Status& status) const {
  err << "ksctl: " << statusCodeName(status.error_code()) << ": " << status.error_message() << "\n";
  return kExitRpcFailed;
}

void printItemFailure(const CommandContext& context, std::string_view command,
                      std::string_view item, std::string_view code, std::string_view message) {
  context.err << "ksctl: " << command << ": " << item << ": " << code;
  if (!message.empty()) context.err << ": " << message;
  context.err << "\n";
}

int CommandContext::usageError(std::string_view command, std::string_view message) const {
  err << "ksctl: " << command << ": " << message << "\n"
      << "Try 'ksctl " << command << " --help'.\n";
  return kExitUsage;
}

int runKsctl(std::span<const std::string_view> args, std::ostream& out, std::ostream& err,
             std::istream& in) {
  GlobalOptions options;
  if (auto error = parseGlobal(args, options)) {
    err << "ksctl: " << *error << "\nTry 'ksctl --help'.\n";
    return kExitUsage;
  }
  if (options.help) {
    if (options.command) {
      printCommandUsage(*options.command, out);
    } else {
      printUsage(out);
    }
    return kExitOk;
  }
  if (!options.command) {
    printUsage(err);
    return kExitUsage;
  }
  std::string token;
  if (auto error = readToken(options, token)) {
    err << "ksctl: " << *error << "\nTry 'ksctl --help'.\n";
    return kExitUsage;
  }

  std::string channel_error;
  std::shared_ptr<grpc::Channel> channel = makeChannel(options, channel_error);
  if (!channel) {
    err << "ksctl: " << channel_error << "\nTry 'ksctl --help'.\n";
    return kExitUsage;
  }
  CommandContext context{
      std::move(channel),
      options.cluster,
      std::chrono::milliseconds(std::max(1LL, std::llround(options.timeout_seconds * 1000))),
      options.timeout_given,
      std::move(token),
      in,
      out,
      err,
  };
  return options.command->run(context, options.command_args);
}

}  // namespace kafka::ksctl
