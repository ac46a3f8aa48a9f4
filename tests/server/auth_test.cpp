// Bearer tokens: the patterns, the tokens file and its checks, the Authorizer's answers and
// messages, the setting; then a Daemon with tokens in front of a mock cluster, driven over gRPC,
// REST and ksctl: no token or an unknown one is UNAUTHENTICATED (401), a token without the right
// is PERMISSION_DENIED (403) naming it, a token with the rights produces and consumes end to end,
// a session cannot be used or attached to with another token, and health, reflection, /metrics
// and the probes stay open.
#include "server/auth.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "kafka/sidecar/v1/admin.grpc.pb.h"
#include "kafka/sidecar/v1/consumer.grpc.pb.h"
#include "kafka/sidecar/v1/producer.grpc.pb.h"
#include "server/auth_reload.hpp"
#include "server/config.hpp"
#include "server/daemon.hpp"
#include "tests/server/test_support.hpp"
#include "tools/ksctl/ksctl.hpp"
#include "tools/mock_cluster/mock_cluster.hpp"

namespace kafka::sidecar {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kOrdersToken = "orders-0123456789abcdef";
constexpr std::string_view kAuditToken = "audit-0123456789abcdef";
constexpr std::string_view kAdminToken = "admin-0123456789abcdef";

// A tokens file for the tests: orders-service produces to orders and orders.*, consumes orders
// in group orders-workers; audit (given by its SHA-256) consumes and uses every group; ops is an
// admin and nothing else.
std::string tokensYaml() {
  const TokenDigest audit = sha256Of(kAuditToken);
  std::string audit_hex;
  for (unsigned char byte : audit) {
    constexpr char kHex[] = "0123456789abcdef";
    audit_hex += kHex[byte >> 4];
    audit_hex += kHex[byte & 15];
  }
  return "tokens:\n"
         "  - name: orders-service\n"
         "    token: \"" +
         std::string(kOrdersToken) +
         "\"\n"
         "    produce: [orders, \"orders.*\"]\n"
         "    consume: orders\n"
         "    groups: [orders-workers]\n"
         "  - name: audit\n"
         "    token_sha256: " +
         audit_hex +
         "\n"
         "    consume: [\"*\"]\n"
         "    groups: \"*\"\n"
         "  - name: ops\n"
         "    token: " +
         std::string(kAdminToken) +
         "\n"
         "    admin: true\n";
}

// A file holding `text`, removed with the object.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/ks-tokens-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    if (fd >= 0) close(fd);
    path_ = name;
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }
  void rewrite(const std::string& text) const { std::ofstream(path_) << text; }

 private:
  std::string path_;
};

std::vector<TokenGrant> parsed(const std::string& text) {
  std::vector<TokenGrant> out;
  std::string error = parseTokenFile(text, "tokens.yaml", out);
  EXPECT_EQ(error, "");
  return out;
}

std::string parseError(const std::string& text) {
  std::vector<TokenGrant> out;
  return parseTokenFile(text, "tokens.yaml", out);
}

Authorizer testAuthorizer() {
  return Authorizer(parsed(tokensYaml()));
}

Caller callerOf(const Authorizer& authorizer, std::string_view token) {
  Caller caller;
  std::string header = "Bearer " + std::string(token);
  grpc::Status status = authorizer.authenticateValues({header}, caller);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return caller;
}

TEST(NamePatternsTest, MatchExactNamesAndPrefixes) {
  NamePatterns patterns({"orders", "audit.*", "logs-"});
  EXPECT_TRUE(patterns.matches("orders"));
  EXPECT_FALSE(patterns.matches("orders2"));
  EXPECT_FALSE(patterns.matches("order"));
  EXPECT_TRUE(patterns.matches("audit.eu"));
  EXPECT_TRUE(patterns.matches("audit."));
  EXPECT_FALSE(patterns.matches("audit"));
  EXPECT_FALSE(patterns.matches("logs-1"));  // no '*': exact
  EXPECT_FALSE(patterns.matchesAll());
  EXPECT_FALSE(NamePatterns().matches("orders"));
  NamePatterns all({"*"});
  EXPECT_TRUE(all.matches("anything"));
  EXPECT_TRUE(all.matchesAll());
}

TEST(TokenFileTest, ParsesGrantsAndKeepsOnlyDigests) {
  std::vector<TokenGrant> tokens = parsed(tokensYaml());
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0].name, "orders-service");
  EXPECT_EQ(tokens[0].digest, sha256Of(kOrdersToken));
  EXPECT_TRUE(tokens[0].produce.matches("orders.eu"));
  EXPECT_TRUE(tokens[0].consume.matches("orders"));  // a single string is a list of one
  EXPECT_FALSE(tokens[0].consume.matches("orders.eu"));
  EXPECT_TRUE(tokens[0].groups.matches("orders-workers"));
  EXPECT_FALSE(tokens[0].admin);
  EXPECT_EQ(tokens[1].digest, sha256Of(kAuditToken));
  EXPECT_TRUE(tokens[1].groups.matchesAll());
  EXPECT_FALSE(tokens[1].produce.matches("orders"));
  EXPECT_TRUE(tokens[2].admin);
  // SHA-256 of "abc" (FIPS 180-2's example).
  EXPECT_EQ(sha256Of("abc")[0], 0xba);
  EXPECT_EQ(sha256Of("abc")[31], 0xad);
}

TEST(TokenFileTest, BadFilesAreRefusedNamingLineEntryAndField) {
  const std::string good = "    token: 0123456789abcdef0\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"tokens: [", "malformed YAML in tokens.yaml:"},
      {"- a\n", "expected a map with the key 'tokens'"},
      {"tokens: []\n", "tokens.yaml:1: 'tokens' must be a list of at least one token"},
      {"{}\n", "tokens.yaml: 'tokens' must be a list"},
      {"tokens:\n", "'tokens' must be a list"},
      {"tokens:\n  - {name: a, token: 0123456789abcdef0}\nusers: []\n",
       "tokens.yaml:3: unknown key 'users'"},
      {"tokens:\n  - just-a-string\n", "token entry 1: expected a map"},
      {"tokens:\n  - token: 0123456789abcdef0\n", "token entry 1: 'name' is required"},
      {"tokens:\n  - name: a\n" + good + "    topics: [x]\n",
       "tokens.yaml:4: token 'a' (entry 1): unknown key 'topics'"},
      {"tokens:\n  - name: a\n" + good + "  - name: a\n    token: 0123456789abcdef1\n",
       "tokens.yaml:4: token 'a' (entry 2): another entry has the same name"},
      {"tokens:\n  - name: a\n", "token 'a' (entry 1): give exactly one of 'token' and"},
      {"tokens:\n  - name: a\n" + good + "    token_sha256: 00\n", "give exactly one of"},
      {"tokens:\n  - name: a\n    token: short\n",
       "tokens.yaml:3: token 'a' (entry 1): 'token' "
       "must be at least 16 printable characters"},
      {"tokens:\n  - name: a\n    token: \"0123456789 abcdef\"\n", "without spaces"},
      {"tokens:\n  - name: a\n    token: ''\n", "'token' must be at least 16"},
      {"tokens:\n  - name: a\n    token_sha256: abc\n", "'token_sha256' must be 64 hex digits"},
      {"tokens:\n  - name: a\n" + good + "  - name: b\n" + good,
       "token 'b' (entry 2): the same token as 'a'"},
      {"tokens:\n  - name: a\n" + good + "    produce: [\"a*b\"]\n",
       "tokens.yaml:4: token 'a' (entry 1): produce: 'a*b': '*' may only end a pattern"},
      {"tokens:\n  - name: a\n" + good + "    consume: [\"bad topic\"]\n",
       "consume: 'bad topic': topic names have letters, digits"},
      {"tokens:\n  - name: a\n" + good + "    consume: [\"\"]\n", "consume: an empty name"},
      {"tokens:\n  - name: a\n" + good + "    groups: {x: y}\n",
       "groups: expected a name or a list of names"},
      {"tokens:\n  - name: a\n" + good + "    groups: [[x]]\n", "expected a list of names"},
      {"tokens:\n  - name: a\n" + good + "    admin: yes\n", "'admin' must be true or false"},
  };
  for (const auto& [text, expected] : cases) {
    std::string error = parseError(text);
    EXPECT_NE(error.find(expected), std::string::npos) << text << "\n=> " << error;
    // Messages never show a token.
    EXPECT_EQ(error.find("0123456789abcdef"), std::string::npos) << error;
  }
  EXPECT_EQ(parseError("tokens:\n  - name: a\n" + good + "    groups: \"orders-*\"\n"), "");
}

TEST(TokenFileTest, TheSettingReadsTheFileAndReportsItsErrors) {
  TempFile file(tokensYaml());
  const std::vector<std::string_view> args = {"--embedded-broker", "--auth-tokens-file",
                                              file.path()};
  ParsedArgs ok = parseArgs(args);
  ASSERT_EQ(ok.action, ParsedArgs::Action::kRun) << ok.error;
  EXPECT_EQ(ok.config.auth_tokens_file, file.path());
  ASSERT_EQ(ok.config.auth_tokens.size(), 3u);
  EXPECT_EQ(ok.config.auth_tokens[2].name, "ops");

  ParsedArgs from_env = parseArgs(std::vector<std::string_view>{"--embedded-broker"},
                                  {{"KAFKA_SIDECAR_AUTH_TOKENS_FILE", file.path()}});
  ASSERT_EQ(from_env.action, ParsedArgs::Action::kRun) << from_env.error;
  EXPECT_EQ(from_env.config.auth_tokens.size(), 3u);

  ParsedArgs missing = parseArgs(std::vector<std::string_view>{
      "--embedded-broker", "--auth-tokens-file=/nonexistent/tokens.yaml"});
  ASSERT_EQ(missing.action, ParsedArgs::Action::kError);
  EXPECT_EQ(missing.error,
            "--auth-tokens-file: cannot read the tokens file '/nonexistent/tokens.yaml': No such "
            "file or directory");

  TempFile bad("tokens:\n  - name: a\n    token: short\n");
  ParsedArgs refused = parseArgs(std::vector<std::string_view>{
      "--embedded-broker", "--auth-tokens-file", std::string_view(bad.path())});
  ASSERT_EQ(refused.action, ParsedArgs::Action::kError);
  EXPECT_EQ(refused.error.find("--auth-tokens-file: " + bad.path() + ":3: token 'a' (entry 1)"), 0u)
      << refused.error;

  ParsedArgs empty =
      parseArgs(std::vector<std::string_view>{"--embedded-broker", "--auth-tokens-file="});
  ASSERT_EQ(empty.action, ParsedArgs::Action::kError);
  EXPECT_EQ(empty.error, "invalid value '' for --auth-tokens-file: expected a file name");

  ParsedArgs none = parseArgs(std::vector<std::string_view>{"--embedded-broker"});
  ASSERT_EQ(none.action, ParsedArgs::Action::kRun);
  EXPECT_TRUE(none.config.auth_tokens.empty());
}

TEST(AuthorizerTest, WithoutTokensEveryCallerMayDoEverything) {
  Authorizer open;
  EXPECT_FALSE(open.enabled());
  Caller caller;
  EXPECT_TRUE(open.authenticateValues({}, caller).ok());
  EXPECT_TRUE(caller.mayProduce("x").ok());
  EXPECT_TRUE(caller.mayConsumeAll("subscribe").ok());
  EXPECT_TRUE(caller.mayAdmin("Admin.CreateTopics").ok());
  EXPECT_EQ(caller.name(), "");
}

TEST(AuthorizerTest, AuthenticatesBearerTokens) {
  const Authorizer authorizer = testAuthorizer();
  EXPECT_TRUE(authorizer.enabled());
  auto statusOf = [&](const std::vector<std::string_view>& values, Caller* out = nullptr) {
    Caller caller;
    grpc::Status status = authorizer.authenticateValues(values, caller);
    if (out) *out = caller;
    return status;
  };
  const std::vector<std::pair<std::vector<std::string_view>, std::string>> refused = {
      {{}, "no bearer token"},
      {{"Basic b3JkZXJz"}, "not 'Bearer <token>'"},
      {{"Bearer"}, "not 'Bearer <token>'"},
      {{"Bearer   "}, "'Bearer' without a token"},
      {{"Bearerorders-0123456789abcdef"}, "not 'Bearer <token>'"},
      {{"Bearer orders-0123456789abcdeX"}, "not one of the sidecar's tokens"},
      {{"Bearer orders-0123456789abcdef", "Bearer orders-0123456789abcdef"},
       "more than one authorization"},
  };
  for (const auto& [values, expected] : refused) {
    grpc::Status status = statusOf(values);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << expected;
    EXPECT_NE(status.error_message().find(expected), std::string::npos) << status.error_message();
    EXPECT_EQ(status.error_message().find("0123456789abcde"), std::string::npos);
  }
  Caller caller;
  ASSERT_TRUE(statusOf({"bearer  orders-0123456789abcdef "}, &caller).ok());
  EXPECT_EQ(caller.name(), "orders-service");
  ASSERT_TRUE(statusOf({"BEARER audit-0123456789abcdef"}, &caller).ok());
  EXPECT_EQ(caller.name(), "audit");
}

TEST(AuthorizerTest, GrantsWhatTheFileSaysAndNamesWhatItRefuses) {
  const Authorizer authorizer = testAuthorizer();
  const Caller orders = callerOf(authorizer, kOrdersToken);
  EXPECT_TRUE(orders.mayProduce("orders").ok());
  EXPECT_TRUE(orders.mayProduce("orders.eu").ok());
  EXPECT_TRUE(orders.mayConsume("orders").ok());
  EXPECT_TRUE(orders.mayDescribe("orders.eu").ok());  // produce is enough to describe
  EXPECT_TRUE(orders.mayUseGroup("orders-workers").ok());
  EXPECT_FALSE(orders.admin());

  auto expectDenied = [](const grpc::Status& status, const std::string& message) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << message;
    EXPECT_EQ(status.error_message(), message);
  };
  expectDenied(orders.mayProduce("payments"),
               "token 'orders-service' may not produce to topic 'payments'");
  expectDenied(orders.mayConsume("orders.eu"),
               "token 'orders-service' may not consume from topic 'orders.eu'");
  expectDenied(orders.mayUseGroup("billing"),
               "token 'orders-service' may not use consumer group 'billing'");
  expectDenied(orders.mayDescribe("payments"),
               "token 'orders-service' may not describe topic 'payments' (it neither produces "
               "nor consumes it)");
  expectDenied(orders.mayAdmin("Admin.CreateTopics"),
               "token 'orders-service' may not call Admin.CreateTopics (it needs admin: true)");
  expectDenied(orders.mayConsumeAll("subscribe to topic_pattern 'o.*'"),
               "token 'orders-service' may not subscribe to topic_pattern 'o.*' (it may consume "
               "only the topics it names)");

  const Caller audit = callerOf(authorizer, kAuditToken);
  EXPECT_TRUE(audit.mayConsumeAll("subscribe").ok());
  EXPECT_TRUE(audit.mayUseGroup("anything").ok());
  expectDenied(audit.mayProduce("orders"), "token 'audit' may not produce to topic 'orders'");

  const Caller ops = callerOf(authorizer, kAdminToken);
  EXPECT_TRUE(ops.admin());
  EXPECT_TRUE(ops.mayAdmin("Admin.DeleteTopics").ok());
  expectDenied(ops.mayProduce("orders"), "token 'ops' may not produce to topic 'orders'");
}

TEST(TokenFileWatcherTest, ReloadsAChangedFileAndKeepsTheTokensOnAnUnusableOne) {
  TempFile file(tokensYaml());
  Authorizer authorizer(parsed(tokensYaml()));
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread thread([&io] { io.run(); });
  TokenFileWatcher watcher(io.get_executor(), file.path(), authorizer, 20ms);
  watcher.start();
  auto authenticates = [&](std::string_view token, std::string_view name) {
    Caller caller;
    const std::string header = "Bearer " + std::string(token);
    return authorizer.authenticateValues({header}, caller).ok() && caller.name() == name;
  };
  EXPECT_TRUE(authenticates(kOrdersToken, "orders-service"));

  const std::string rotated = "rotated-0123456789abcdef";
  file.rewrite("tokens:\n  - name: orders-service\n    token: " + rotated +
               "\n    produce: [orders]\n");
  EXPECT_TRUE(testing::waitUntil([&] { return authenticates(rotated, "orders-service"); }));
  EXPECT_FALSE(authenticates(kOrdersToken, "orders-service"));
  EXPECT_FALSE(authenticates(kAdminToken, "ops"));

  // A file that does not parse changes nothing; a missing one neither.
  file.rewrite("tokens: [");
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(authenticates(rotated, "orders-service"));
  std::filesystem::remove(file.path());
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(authenticates(rotated, "orders-service"));
  file.rewrite(tokensYaml());
  EXPECT_TRUE(testing::waitUntil([&] { return authenticates(kAdminToken, "ops"); }));
  EXPECT_TRUE(authorizer.enabled());

  watcher.stop();
  work.reset();
  thread.join();  // ends only once the watcher's wait was cancelled
}

// ---------------------------------------------------------------------------------------------
// A daemon with tokens

class TokenDaemonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokens_ = new TempFile(tokensYaml());
    mock_ = new mock::MockCluster(1);
    mock_->createTopic("orders", 1);
    mock_->createTopic("orders.stream", 1);
    mock_->createTopic("payments", 1);
    DaemonConfig config = testing::loopbackDaemonConfig(mock_->bootstraps());
    config.auth_tokens_file = tokens_->path();
    std::string error = loadTokenFile(tokens_->path(), config.auth_tokens);
    ASSERT_EQ(error, "");
    daemon_ = new Daemon(std::move(config), Daemon::Signals::kIgnore);
    daemon_->start();
    channel_ = grpc::CreateChannel(daemon_->grpcAddress(), grpc::InsecureChannelCredentials());
  }

  static void TearDownTestSuite() {
    channel_.reset();
    daemon_->requestStop();
    daemon_->wait();
    delete daemon_;
    delete mock_;
    delete tokens_;
  }

  // A call context with a 10 s deadline and, unless empty, the token as a bearer token.
  static std::unique_ptr<grpc::ClientContext> as(std::string_view token) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + 10s);
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + std::string(token));
    return context;
  }

  static grpc::Status produce(std::string_view token, const std::string& topic,
                              std::vector<std::string> values, v1::ProduceResponse* out = nullptr) {
    v1::ProduceRequest request;
    request.set_topic(topic);
    for (std::string& value : values) request.add_records()->set_value(std::move(value));
    v1::ProduceResponse response;
    grpc::Status status =
        v1::Producer::NewStub(channel_)->Produce(as(token).get(), request, &response);
    if (out) *out = response;
    return status;
  }

  // Opens an assignment session on partition 0 of `topic` from the earliest offset.
  static grpc::Status open(std::string_view token, const std::string& topic,
                           const std::string& group, std::string* session_id = nullptr) {
    v1::OpenRequest request;
    v1::SessionSpec& spec = *request.mutable_spec();
    spec.set_group(group);
    spec.set_name("reader");
    v1::TopicPartitions& assigned = *spec.add_assignment();
    assigned.set_topic(topic);
    assigned.add_partitions(0);
    spec.set_offset_reset(v1::OFFSET_RESET_EARLIEST);
    v1::OpenResponse response;
    grpc::Status status =
        v1::Consumer::NewStub(channel_)->Open(as(token).get(), request, &response);
    if (session_id) *session_id = response.session_id();
    return status;
  }

  static grpc::Status poll(std::string_view token, const std::string& session,
                           v1::PollResponse& response) {
    v1::PollRequest request;
    request.set_session_id(session);
    request.set_timeout_ms(200);
    response.Clear();
    return v1::Consumer::NewStub(channel_)->Poll(as(token).get(), request, &response);
  }

  static uint16_t httpPort() { return daemon_->httpEndpoint().port(); }

  static void expectStatus(const grpc::Status& status, grpc::StatusCode code,
                           const std::string& message_part) {
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_NE(status.error_message().find(message_part), std::string::npos)
        << status.error_message();
  }

  static inline TempFile* tokens_ = nullptr;
  static inline mock::MockCluster* mock_ = nullptr;
  static inline Daemon* daemon_ = nullptr;
  static inline std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(TokenDaemonTest, CallsWithoutAKnownTokenAreUnauthenticated) {
  expectStatus(produce("", "orders", {"x"}), grpc::StatusCode::UNAUTHENTICATED, "no bearer token");
  expectStatus(produce("not-a-token-0123456789", "orders", {"x"}),
               grpc::StatusCode::UNAUTHENTICATED, "not one of the sidecar's tokens");
  expectStatus(open("", "orders", "orders-workers"), grpc::StatusCode::UNAUTHENTICATED,
               "no bearer token");
  v1::PollResponse polled;
  expectStatus(poll("", "some-session", polled), grpc::StatusCode::UNAUTHENTICATED,
               "no bearer token");
  v1::ListTopicsResponse topics;
  expectStatus(v1::Admin::NewStub(channel_)->ListTopics(as("").get(), {}, &topics),
               grpc::StatusCode::UNAUTHENTICATED, "no bearer token");

  // Streams end at once.
  auto producer = v1::Producer::NewStub(channel_);
  auto context = as("");
  auto stream = producer->ProduceStream(context.get());
  v1::ProduceStreamResponse acks;
  EXPECT_FALSE(stream->Read(&acks));
  expectStatus(stream->Finish(), grpc::StatusCode::UNAUTHENTICATED, "no bearer token");
  auto consumer = v1::Consumer::NewStub(channel_);
  auto subscribe_context = as("wrong-token-0123456789");
  auto subscription = consumer->Subscribe(subscribe_context.get());
  v1::SubscribeResponse response;
  EXPECT_FALSE(subscription->Read(&response));
  expectStatus(subscription->Finish(), grpc::StatusCode::UNAUTHENTICATED,
               "not one of the sidecar's tokens");
}

TEST_F(TokenDaemonTest, ATokenWithoutRightsIsDeniedNamingTheTokenTheRightAndTheTopic) {
  v1::ProduceResponse produced;
  expectStatus(produce(kOrdersToken, "payments", {"x"}, &produced),
               grpc::StatusCode::PERMISSION_DENIED,
               "token 'orders-service' may not produce to topic 'payments'");
  EXPECT_EQ(produced.results_size(), 0);
  // One record for an ungranted topic refuses the whole request: nothing is written.
  v1::ProduceRequest mixed;
  mixed.set_topic("orders");
  mixed.add_records()->set_value("fine");
  v1::ProduceRecord& other = *mixed.add_records();
  other.set_topic("payments");
  other.set_value("not fine");
  expectStatus(v1::Producer::NewStub(channel_)->Produce(as(kOrdersToken).get(), mixed, &produced),
               grpc::StatusCode::PERMISSION_DENIED, "may not produce to topic 'payments'");
  expectStatus(open(kOrdersToken, "payments", "orders-workers"),
               grpc::StatusCode::PERMISSION_DENIED,
               "token 'orders-service' may not consume from topic 'payments'");
  expectStatus(open(kOrdersToken, "orders", "billing"), grpc::StatusCode::PERMISSION_DENIED,
               "token 'orders-service' may not use consumer group 'billing'");
  expectStatus(open(kAdminToken, "orders", "orders-workers"), grpc::StatusCode::PERMISSION_DENIED,
               "token 'ops' may not use consumer group 'orders-workers'");

  v1::OpenRequest pattern;
  pattern.mutable_spec()->set_group("orders-workers");
  pattern.mutable_spec()->set_topic_pattern("orders.*");
  v1::OpenResponse opened;
  expectStatus(v1::Consumer::NewStub(channel_)->Open(as(kOrdersToken).get(), pattern, &opened),
               grpc::StatusCode::PERMISSION_DENIED,
               "may not subscribe to topic_pattern 'orders.*'");

  auto admin = v1::Admin::NewStub(channel_);
  v1::CreateTopicsRequest create;
  create.add_topics()->set_name("orders.new");
  v1::CreateTopicsResponse created;
  expectStatus(admin->CreateTopics(as(kOrdersToken).get(), create, &created),
               grpc::StatusCode::PERMISSION_DENIED,
               "token 'orders-service' may not call Admin.CreateTopics (it needs admin: true)");
  v1::DescribeOffsetsRequest offsets;
  offsets.add_topics("payments");
  v1::DescribeOffsetsResponse described;
  expectStatus(admin->DescribeOffsets(as(kOrdersToken).get(), offsets, &described),
               grpc::StatusCode::PERMISSION_DENIED,
               "token 'orders-service' may not describe topic 'payments'");
  v1::DescribeGroupRequest group;
  group.set_group("billing");
  v1::DescribeGroupResponse group_answer;
  expectStatus(admin->DescribeGroup(as(kOrdersToken).get(), group, &group_answer),
               grpc::StatusCode::PERMISSION_DENIED, "may not use consumer group 'billing'");
}

TEST_F(TokenDaemonTest, ATokenWithRightsProducesConsumesAndOwnsItsSession) {
  v1::ProduceResponse produced;
  grpc::Status status = produce(kOrdersToken, "orders", {"one", "two"}, &produced);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(produced.results_size(), 2);
  EXPECT_FALSE(produced.results(0).has_error()) << produced.results(0).error().message();

  std::string session;
  status = open(kOrdersToken, "orders", "orders-workers", &session);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<std::string> values;
  std::vector<int64_t> offsets;
  ASSERT_TRUE(testing::waitUntil([&] {
    v1::PollResponse polled;
    grpc::Status polled_status = poll(kOrdersToken, session, polled);
    EXPECT_TRUE(polled_status.ok()) << polled_status.error_message();
    for (const v1::PartitionRecords& partition : polled.records()) {
      for (const v1::ConsumedRecord& record : partition.records()) {
        values.push_back(record.value());
        offsets.push_back(record.offset());
      }
    }
    return values.size() >= 2;
  }));
  EXPECT_EQ(values, (std::vector<std::string>{"one", "two"}));

  // Another token may neither use the session by id nor attach to it by name, although audit
  // may consume the topic and use the group.
  v1::PollResponse stolen;
  expectStatus(poll(kAuditToken, session, stolen), grpc::StatusCode::PERMISSION_DENIED,
               "token 'audit' may not use consumer session 'reader' of group 'orders-workers'");
  EXPECT_EQ(stolen.records_size(), 0);
  v1::AckRequest ack;
  ack.set_session_id(session);
  v1::PartitionOffsets& acked = *ack.add_partitions();
  acked.set_topic("orders");
  acked.mutable_offsets()->Add(offsets.begin(), offsets.end());
  v1::AckResponse ack_answer;
  auto consumer = v1::Consumer::NewStub(channel_);
  expectStatus(consumer->Ack(as(kAuditToken).get(), ack, &ack_answer),
               grpc::StatusCode::PERMISSION_DENIED, "another token opened it");
  expectStatus(open(kAuditToken, "orders", "orders-workers"), grpc::StatusCode::PERMISSION_DENIED,
               "another token opened it");
  v1::CloseRequest close;
  close.set_session_id(session);
  v1::CloseResponse closed;
  expectStatus(consumer->Close(as(kAuditToken).get(), close, &closed),
               grpc::StatusCode::PERMISSION_DENIED, "another token opened it");

  // Its own token acks and commits.
  status = consumer->Ack(as(kOrdersToken).get(), ack, &ack_answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::CommitRequest commit;
  commit.set_session_id(session);
  v1::CommitResponse committed;
  status = consumer->Commit(as(kOrdersToken).get(), commit, &committed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(committed.partitions_size(), 1);
  EXPECT_EQ(committed.partitions(0).offset(), offsets.back() + 1);
  status = consumer->Close(as(kOrdersToken).get(), close, &closed);
  EXPECT_TRUE(status.ok()) << status.error_message();

  // The group's offsets: the token may describe its own topic and group.
  v1::DescribeOffsetsRequest describe;
  describe.add_topics("orders");
  describe.set_group("orders-workers");
  v1::DescribeOffsetsResponse described;
  status =
      v1::Admin::NewStub(channel_)->DescribeOffsets(as(kOrdersToken).get(), describe, &described);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(TokenDaemonTest, AProduceStreamEndsAtAMessageForAnUngrantedTopic) {
  auto producer = v1::Producer::NewStub(channel_);
  auto context = as(kOrdersToken);
  auto stream = producer->ProduceStream(context.get());
  v1::ProduceStreamRequest granted;
  granted.set_topic("orders.stream");
  v1::ProduceRecord& first = *granted.add_records();
  first.set_id(1);
  first.set_value("granted");
  ASSERT_TRUE(stream->Write(granted));
  v1::ProduceStreamRequest refused;
  refused.set_topic("payments");
  v1::ProduceRecord& second = *refused.add_records();
  second.set_id(2);
  second.set_value("refused");
  stream->Write(refused);
  std::vector<uint64_t> acked;
  v1::ProduceStreamResponse response;
  while (stream->Read(&response)) {
    for (const v1::ProduceAck& ack : response.acks()) {
      acked.insert(acked.end(), ack.ids().begin(), ack.ids().end());
    }
  }
  // The first message's record is acked before the stream ends; the second is never sent.
  EXPECT_EQ(acked, std::vector<uint64_t>{1});
  expectStatus(stream->Finish(), grpc::StatusCode::PERMISSION_DENIED,
               "token 'orders-service' may not produce to topic 'payments'");
}

TEST_F(TokenDaemonTest, ASubscribeOpenIsCheckedLikeOpen) {
  auto consumer = v1::Consumer::NewStub(channel_);
  auto context = as(kOrdersToken);
  auto stream = consumer->Subscribe(context.get());
  v1::SubscribeRequest request;
  request.mutable_open()->set_group("orders-workers");
  request.mutable_open()->add_topics("payments");
  ASSERT_TRUE(stream->Write(request));
  v1::SubscribeResponse response;
  EXPECT_FALSE(stream->Read(&response));
  expectStatus(stream->Finish(), grpc::StatusCode::PERMISSION_DENIED,
               "token 'orders-service' may not consume from topic 'payments'");
}

TEST_F(TokenDaemonTest, AdminCallsNeedAnAdminTokenOrTheTopic) {
  auto admin = v1::Admin::NewStub(channel_);
  v1::ListTopicsResponse topics;
  expectStatus(admin->ListTopics(as(kOrdersToken).get(), {}, &topics),
               grpc::StatusCode::PERMISSION_DENIED,
               "token 'orders-service' may not call Admin.ListTopics");
  grpc::Status status = admin->ListTopics(as(kAdminToken).get(), {}, &topics);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GE(topics.topics_size(), 2);
  v1::DescribeClusterResponse cluster;
  status = admin->DescribeCluster(as(kAdminToken).get(), {}, &cluster);
  EXPECT_TRUE(status.ok()) << status.error_message();
  expectStatus(admin->DescribeCluster(as(kAuditToken).get(), {}, &cluster),
               grpc::StatusCode::PERMISSION_DENIED, "may not call Admin.DescribeCluster");
}

TEST_F(TokenDaemonTest, HealthAndReflectionNeedNoToken) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  EXPECT_TRUE(testing::waitUntil([&] {
    grpc::health::v1::HealthCheckResponse response;
    return health->Check(as("").get(), {}, &response).ok() &&
           response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  }));
}

TEST_F(TokenDaemonTest, RestForwardsTheAuthorizationHeader) {
  const std::string records = R"({"records": [{"value": "cmVzdA=="}]})";
  auto post = [&](const std::string& topic, std::string_view authorization) {
    return testing::httpRequest(httpPort(), "POST", "/v1/topics/" + topic + "/records", records,
                                "application/json", authorization);
  };
  testing::HttpReply reply = post("orders", "");
  EXPECT_EQ(reply.status, 401u) << reply.body;
  EXPECT_NE(reply.body.find("\"UNAUTHENTICATED\""), std::string::npos) << reply.body;
  reply = post("orders", "Bearer wrong-token-0123456789");
  EXPECT_EQ(reply.status, 401u) << reply.body;
  reply = post("orders", "Bearer caf\xc3\xa9-0123456789abcdef");
  EXPECT_EQ(reply.status, 401u) << reply.body;
  reply = post("payments", "Bearer " + std::string(kOrdersToken));
  EXPECT_EQ(reply.status, 403u) << reply.body;
  EXPECT_NE(reply.body.find("token 'orders-service' may not produce to topic 'payments'"),
            std::string::npos)
      << reply.body;
  reply = post("orders", "Bearer " + std::string(kOrdersToken));
  EXPECT_EQ(reply.status, 200u) << reply.body;

  const std::string admin = "Bearer " + std::string(kAdminToken);
  reply = testing::httpRequest(httpPort(), "GET", "/v1/topics", {}, {}, admin);
  EXPECT_EQ(reply.status, 200u) << reply.body;
  reply = testing::httpRequest(httpPort(), "GET", "/v1/topics", {}, {},
                               "Bearer " + std::string(kOrdersToken));
  EXPECT_EQ(reply.status, 403u) << reply.body;

  // The probes, the metrics and the API's description stay open.
  for (std::string_view path : {"/healthz", "/metrics", "/openapi.json"}) {
    reply = testing::httpRequest(httpPort(), "GET", path);
    EXPECT_EQ(reply.status, 200u) << path << ": " << reply.body;
  }
  EXPECT_TRUE(testing::waitUntil(
      [&] { return testing::httpRequest(httpPort(), "GET", "/readyz").status == 200; }));
}

struct KsctlRun {
  int exit_code;
  std::string out;
  std::string err;
};

KsctlRun runCli(const std::vector<std::string_view>& args) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  int code = ksctl::runKsctl(args, out, err, in);
  return {code, out.str(), err.str()};
}

TEST_F(TokenDaemonTest, KsctlSendsTheTokenOfItsFileOrVariable) {
  const std::string addr = daemon_->grpcAddress();
  KsctlRun without = runCli({"--addr", addr, "topics"});
  EXPECT_EQ(without.exit_code, ksctl::kExitRpcFailed);
  EXPECT_NE(without.err.find("UNAUTHENTICATED"), std::string::npos) << without.err;

  TempFile admin_file(std::string(kAdminToken) + "\n");
  KsctlRun with_file = runCli({"--addr", addr, "--token-file", admin_file.path(), "topics"});
  EXPECT_EQ(with_file.exit_code, ksctl::kExitOk) << with_file.err;
  EXPECT_NE(with_file.out.find("orders partitions=1"), std::string::npos) << with_file.out;

  TempFile orders_file{std::string(kOrdersToken)};
  KsctlRun denied = runCli({"--addr", addr, "--token-file", orders_file.path(), "topics"});
  EXPECT_EQ(denied.exit_code, ksctl::kExitRpcFailed);
  EXPECT_NE(denied.err.find("PERMISSION_DENIED: token 'orders-service' may not call"),
            std::string::npos)
      << denied.err;

  ASSERT_EQ(setenv("KAFKA_SIDECAR_TOKEN", std::string(kAdminToken).c_str(), 1), 0);
  KsctlRun with_env = runCli({"--addr", addr, "topics"});
  unsetenv("KAFKA_SIDECAR_TOKEN");
  EXPECT_EQ(with_env.exit_code, ksctl::kExitOk) << with_env.err;

  KsctlRun unreadable = runCli({"--addr", addr, "--token-file", "/nonexistent/token", "topics"});
  EXPECT_EQ(unreadable.exit_code, ksctl::kExitUsage);
  EXPECT_NE(unreadable.err.find("cannot read --token-file '/nonexistent/token'"), std::string::npos)
      << unreadable.err;
}

}  // namespace
}  // namespace kafka::sidecar
