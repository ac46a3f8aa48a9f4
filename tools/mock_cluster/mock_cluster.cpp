#include "tools/mock_cluster/mock_cluster.hpp"

#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <future>
#include <limits>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace kafka::mock {
namespace {

constexpr int kMaxBrokers = 64;
constexpr int kMaxPartitions = 10000;
constexpr int kMaxDelayMs = 24 * 3600 * 1000;
constexpr int kMaxReplicationFactor = 3;
constexpr int16_t kListOffsetsKey = 2;
constexpr int16_t kListOffsetsSafeMaxVersion = 3;

// What librdkafka 2.0.2's mock serves (its handler table). Requests of any other API make the
// mock close the connection, and raising a maximum past these would make it parse versions it
// does not know.
struct ServedApi {
  int16_t key;
  std::string_view name;
  int16_t max_version;
};

constexpr std::array<ServedApi, 17> kServedApis{{
    {0, "Produce", 7},
    {1, "Fetch", 11},
    {2, "ListOffsets", 5},
    {3, "Metadata", 2},
    {8, "OffsetCommit", 7},
    {9, "OffsetFetch", 5},
    {10, "FindCoordinator", 2},
    {11, "JoinGroup", 5},
    {12, "Heartbeat", 3},
    {13, "LeaveGroup", 1},
    {14, "SyncGroup", 3},
    {18, "ApiVersions", 2},
    {22, "InitProducerId", 4},
    {24, "AddPartitionsToTxn", 1},
    {25, "AddOffsetsToTxn", 1},
    {26, "EndTxn", 1},
    {28, "TxnOffsetCommit", 2},
}};

std::vector<std::string_view> splitWords(std::string_view line) {
  std::vector<std::string_view> words;
  constexpr std::string_view kBlanks = " \t\r\n";
  size_t pos = line.find_first_not_of(kBlanks);
  while (pos != std::string_view::npos) {
    size_t end = line.find_first_of(kBlanks, pos);
    words.push_back(line.substr(pos, end == std::string_view::npos ? end : end - pos));
    pos = line.find_first_not_of(kBlanks, end);
  }
  return words;
}

template <typename Int>
std::optional<Int> parseInt(std::string_view word, Int min, Int max) {
  Int value{};
  const char* end = word.data() + word.size();
  auto [ptr, ec] = std::from_chars(word.data(), end, value);
  if (word.empty() || ec != std::errc() || ptr != end || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

std::string quoted(std::string_view word) {
  return "'" + std::string(word) + "'";
}

const ServedApi* findApi(std::string_view word) {
  auto key = parseInt<int16_t>(word, 0, std::numeric_limits<int16_t>::max());
  auto it = std::find_if(kServedApis.begin(), kServedApis.end(), [&](const ServedApi& api) {
    return key ? api.key == *key : api.name == word;
  });
  return it == kServedApis.end() ? nullptr : &*it;
}

// Broker error codes (>= 0) that librdkafka knows, plus _TRANSPORT, which the mock turns into a
// dropped connection. Other local codes would be written into the response as garbage.
std::optional<rd_kafka_resp_err_t> findErrorCode(std::string_view word) {
  auto number =
      parseInt<int>(word, std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
  const rd_kafka_err_desc* descs = nullptr;
  size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_err_desc& desc = descs[i];
    if (desc.name == nullptr) continue;
    if (desc.code < 0 && desc.code != RD_KAFKA_RESP_ERR__TRANSPORT) continue;
    if (number ? desc.code == *number : word == desc.name) return desc.code;
  }
  return std::nullopt;
}

bool validTopicName(std::string_view name) {
  // Kafka's own rule: 1..249 characters of [A-Za-z0-9._-], and not "." or "..".
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::string usage(std::string_view form) {
  return "usage: " + std::string(form);
}

std::vector<int> portsOf(std::string_view bootstraps) {
  std::vector<int> ports;
  size_t start = 0;
  while (start < bootstraps.size()) {
    size_t comma = std::min(bootstraps.find(',', start), bootstraps.size());
    std::string_view entry = bootstraps.substr(start, comma - start);
    if (auto port = parseInt<int>(entry.substr(entry.rfind(':') + 1), 1, 65535)) {
      ports.push_back(*port);
    }
    start = comma + 1;
  }
  return ports;
}

// Connects to the first broker that accepts a connection, and hangs up at once.
void wakeMockThread(const std::vector<int>& ports) {
  for (int port : ports) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    timeval limit{0, 50 * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool connected =
        ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
    ::close(fd);
    if (connected) return;
  }
}

// Makes a call that librdkafka passes to the mock's thread through its op queue, and waits for
// it. In 2.0.2 the mock thread can lose the wake-up of such a call: it serves its queue, then
// drains its wake-up pipe, which may by then hold the byte of a call made in between; that call
// then waits for the thread's next 1 s poll timeout. Any connection to a listening broker also
// wakes the thread, so while the call has not returned we connect to one and hang up. (If every
// broker is down, the call still completes within about a second.)
template <typename Call>
std::invoke_result_t<Call> throughOpQueue(const std::vector<int>& ports, Call call) {
  auto result = std::async(std::launch::async, std::move(call));
  auto pause = std::chrono::milliseconds(2);
  while (result.wait_for(pause) != std::future_status::ready) {
    wakeMockThread(ports);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  return result.get();
}

}  // namespace

MockCluster::MockCluster(int brokers) : brokers_(brokers) {
  if (brokers < 1 || brokers > kMaxBrokers) {
    throw std::invalid_argument("broker count must be 1.." + std::to_string(kMaxBrokers) +
                                ", not " + std::to_string(brokers));
  }
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // librdkafka would otherwise note on stderr, among other things, that this handle has no
  // bootstrap servers; only its errors are worth showing.
  if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "client.id", "mock-cluster", errstr, sizeof(errstr)) !=
          RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("librdkafka configuration: ") + errstr);
  }
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("cannot create librdkafka handle: ") + errstr);
  }
  mock_ = rd_kafka_mock_cluster_new(rk_, brokers);
  if (mock_ == nullptr) {
    rd_kafka_destroy(rk_);
    throw std::runtime_error("cannot create the mock cluster (see librdkafka's log above)");
  }
  bootstraps_ = rd_kafka_mock_cluster_bootstraps(mock_);
  ports_ = portsOf(bootstraps_);
  rd_kafka_resp_err_t err = throughOpQueue(ports_, [this] {
    return rd_kafka_mock_set_apiversion(mock_, kListOffsetsKey, 0, kListOffsetsSafeMaxVersion);
  });
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    destroy();
    throw std::runtime_error(std::string("cannot cap ListOffsets at v3: ") + rd_kafka_err2str(err));
  }
}

MockCluster::~MockCluster() {
  destroy();
}

void MockCluster::destroy() {
  throughOpQueue(ports_, [this] { rd_kafka_mock_cluster_destroy(mock_); });
  rd_kafka_destroy(rk_);
}

void MockCluster::createTopic(std::string_view name, int partitions) {
  if (!validTopicName(name)) throw std::invalid_argument("bad topic name " + quoted(name));
  if (partitions < 1 || partitions > kMaxPartitions) {
    throw std::invalid_argument("partition count of topic " + std::string(name) + " must be 1.." +
                                std::to_string(kMaxPartitions));
  }
  std::string error = tryCreateTopic(name, partitions);
  if (!error.empty()) throw std::runtime_error(error);
}

std::string MockCluster::tryCreateTopic(std::string_view name, int partitions) {
  std::string topic(name);
  rd_kafka_resp_err_t err = throughOpQueue(ports_, [&] {
    return rd_kafka_mock_topic_create(mock_, topic.c_str(), partitions,
                                      std::min(kMaxReplicationFactor, brokers_));
  });
  if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return "topic " + topic + " already exists";
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return "cannot create topic " + topic + ": " + rd_kafka_err2str(err);
  }
  return {};
}

std::string MockCluster::execute(std::string_view command) {
  std::string error = run(command);
  return error.empty() ? "ok" : "error: " + error;
}

std::string MockCluster::run(std::string_view command) {
  const std::vector<std::string_view> w = splitWords(command);
  if (w.empty()) return "empty command";

  auto existing_broker = [&](std::string_view word, bool allow_all) -> std::optional<int32_t> {
    auto id = parseInt<int32_t>(word, allow_all ? -1 : 1, brokers_);
    if (!id || *id == 0) return std::nullopt;
    return id;
  };
  auto no_broker = [&](std::string_view word) {
    return "no broker " + quoted(word) + " (ids are 1.." + std::to_string(brokers_) + ")";
  };
  auto any_broker_id = [](std::string_view word) {
    return parseInt<int32_t>(word, -1, std::numeric_limits<int32_t>::max());
  };
  auto failed = [](std::string_view what, rd_kafka_resp_err_t err) -> std::string {
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
    return std::string(what) + ": " + rd_kafka_err2str(err);
  };
  auto unknown_api = [](std::string_view word) {
    return "unknown or unserved API " + quoted(word) + " (see --help for the served APIs)";
  };
  auto unknown_code = [](std::string_view word) {
    return "unknown error code " + quoted(word) +
           " (a Kafka error code or librdkafka's name for one, or _TRANSPORT)";
  };

  const std::string_view verb = w[0];
  if (verb == "broker") {
    if (w.size() >= 2 && (w[1] == "down" || w[1] == "up")) {
      if (w.size() != 3) return usage("broker " + std::string(w[1]) + " ID");
      auto id = existing_broker(w[2], true);
      if (!id) return no_broker(w[2]);
      const bool down = w[1] == "down";
      rd_kafka_resp_err_t err = throughOpQueue(ports_, [&] {
        return down ? rd_kafka_mock_broker_set_down(mock_, *id)
                    : rd_kafka_mock_broker_set_up(mock_, *id);
      });
      return failed("broker " + std::string(w[1]), err);
    }
    if (w.size() >= 2 && w[1] == "rtt") {
      if (w.size() != 4) return usage("broker rtt ID MS");
      auto id = existing_broker(w[2], true);
      if (!id) return no_broker(w[2]);
      auto ms = parseInt<int>(w[3], 0, kMaxDelayMs);
      if (!ms) return "bad round-trip time " + quoted(w[3]) + " (milliseconds, >= 0)";
      return failed("broker rtt", throughOpQueue(ports_, [&] {
                      return rd_kafka_mock_broker_set_rtt(mock_, *id, *ms);
                    }));
    }
    return usage("broker down|up ID, broker rtt ID MS");
  }

  if (verb == "errors") {
    if (w.size() < 3) return usage("errors API CODE [CODE...]");
    const ServedApi* api = findApi(w[1]);
    if (api == nullptr) return unknown_api(w[1]);
    std::vector<rd_kafka_resp_err_t> codes;
    for (size_t i = 2; i < w.size(); ++i) {
      auto code = findErrorCode(w[i]);
      if (!code) return unknown_code(w[i]);
      codes.push_back(*code);
    }
    // Error lists are changed under the cluster's lock, not through the op queue.
    rd_kafka_mock_push_request_errors_array(mock_, api->key, codes.size(), codes.data());
    return {};
  }

  if (verb == "broker-errors") {
    if (w.size() < 4) return usage("broker-errors ID API CODE:MS [CODE:MS...]");
    auto id = existing_broker(w[1], false);
    if (!id) return no_broker(w[1]);
    const ServedApi* api = findApi(w[2]);
    if (api == nullptr) return unknown_api(w[2]);
    std::vector<std::pair<rd_kafka_resp_err_t, int>> entries;
    for (size_t i = 3; i < w.size(); ++i) {
      size_t colon = w[i].rfind(':');
      if (colon == std::string_view::npos) return "expected CODE:MS, got " + quoted(w[i]);
      auto code = findErrorCode(w[i].substr(0, colon));
      if (!code) return unknown_code(w[i].substr(0, colon));
      auto ms = parseInt<int>(w[i].substr(colon + 1), 0, kMaxDelayMs);
      if (!ms) return "bad delay in " + quoted(w[i]) + " (milliseconds, >= 0)";
      entries.emplace_back(*code, *ms);
    }
    // 2.0.2 has no array form of this call; pushing one entry at a time appends in order, and
    // all of them are checked above so that a bad entry pushes nothing.
    for (const auto& [code, ms] : entries) {
      rd_kafka_resp_err_t err =
          rd_kafka_mock_broker_push_request_error_rtts(mock_, *id, api->key, 1, code, ms);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return failed("broker-errors", err);
    }
    return {};
  }

  if (verb == "clear-errors") {
    if (w.size() != 2) return usage("clear-errors API");
    const ServedApi* api = findApi(w[1]);
    if (api == nullptr) return unknown_api(w[1]);
    rd_kafka_mock_clear_request_errors(mock_, api->key);
    return {};
  }

  if (verb == "leader" || verb == "follower") {
    if (w.size() != 4) return usage(std::string(verb) + " TOPIC PARTITION BROKER_ID");
    if (!validTopicName(w[1])) return "bad topic name " + quoted(w[1]);
    auto partition = parseInt<int32_t>(w[2], 0, std::numeric_limits<int32_t>::max());
    if (!partition) return "bad partition " + quoted(w[2]);
    std::string topic(w[1]);
    rd_kafka_resp_err_t err;
    if (verb == "leader") {
      auto id = existing_broker(w[3], true);
      if (!id) return no_broker(w[3]) + ", or -1 for no leader";
      err = throughOpQueue(ports_, [&] {
        return rd_kafka_mock_partition_set_leader(mock_, topic.c_str(), *partition, *id);
      });
    } else {
      // The mock allows a follower that is not one of its brokers.
      auto id = any_broker_id(w[3]);
      if (!id) return "bad broker id " + quoted(w[3]);
      err = throughOpQueue(ports_, [&] {
        return rd_kafka_mock_partition_set_follower(mock_, topic.c_str(), *partition, *id);
      });
    }
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      return "topic " + topic + " has no partition " + std::string(w[2]);
    }
    return failed(verb, err);
  }

  if (verb == "coordinator") {
    if (w.size() != 4 || (w[1] != "group" && w[1] != "txn")) {
      return usage("coordinator group|txn KEY BROKER_ID");
    }
    // As with followers, the mock allows a coordinator that is not one of its brokers.
    auto id = any_broker_id(w[3]);
    if (!id) return "bad broker id " + quoted(w[3]);
    std::string key(w[2]);
    const char* type = w[1] == "group" ? "group" : "transaction";
    return failed("coordinator", throughOpQueue(ports_, [&] {
                    return rd_kafka_mock_coordinator_set(mock_, type, key.c_str(), *id);
                  }));
  }

  if (verb == "topic") {
    if (w.size() >= 2 && w[1] == "create") {
      if (w.size() != 4) return usage("topic create NAME PARTITIONS");
      if (!validTopicName(w[2])) return "bad topic name " + quoted(w[2]);
      auto partitions = parseInt<int>(w[3], 1, kMaxPartitions);
      if (!partitions) {
        return "bad partition count " + quoted(w[3]) + " (1.." + std::to_string(kMaxPartitions) +
               ")";
      }
      return tryCreateTopic(w[2], *partitions);
    }
    if (w.size() >= 2 && w[1] == "error") {
      if (w.size() != 4) return usage("topic error NAME CODE");
      if (!validTopicName(w[2])) return "bad topic name " + quoted(w[2]);
      auto code = findErrorCode(w[3]);
      if (!code) return unknown_code(w[3]);
      std::string topic(w[2]);
      throughOpQueue(ports_, [&] { rd_kafka_mock_topic_set_error(mock_, topic.c_str(), *code); });
      return {};
    }
    return usage("topic create NAME PARTITIONS, topic error NAME CODE");
  }

  if (verb == "apiversion") {
    if (w.size() != 4) return usage("apiversion API MIN MAX");
    const ServedApi* api = findApi(w[1]);
    if (api == nullptr) return unknown_api(w[1]);
    auto min = parseInt<int16_t>(w[2], -1, api->max_version);
    auto max = parseInt<int16_t>(w[3], -1, api->max_version);
    bool disable = min == -1 && max == -1;
    if (!min || !max || (!disable && (*min < 0 || *min > *max))) {
      return "bad version range " + std::string(w[2]) + ".." + std::string(w[3]) + " for " +
             std::string(api->name) + " (the mock implements 0.." +
             std::to_string(api->max_version) + "; -1 -1 disables it)";
    }
    return failed("apiversion", throughOpQueue(ports_, [&] {
                    return rd_kafka_mock_set_apiversion(mock_, api->key, *min, *max);
                  }));
  }

  return "unknown command " + quoted(verb) + " (see --help)";
}

}  // namespace kafka::mock
