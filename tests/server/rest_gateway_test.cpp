// The REST gateway end to end: a Daemon in this process, on a mock cluster the test owns, driven
// over HTTP through produce, consume, ack and commit in both encodings of bytes; the OpenAPI
// document against the routes served; a Python client with kafka-python as the peer; and a table of
// bad requests, each answered with a 4xx and a JSON error naming what was wrong, after which the
// daemon still serves. Also the JSON pieces (base64, UTF-8, status mapping) on their own.
#include "server/rest_gateway.hpp"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "kafka/sidecar/v1/producer.grpc.pb.h"
#include "server/daemon.hpp"
#include "server/rest_json.hpp"
#include "tests/server/test_support.hpp"
#include "tools/mock_cluster/mock_cluster.hpp"

namespace kafka::sidecar {
namespace {

namespace pb = google::protobuf;
using namespace std::chrono_literals;
using testing::HttpReply;

TEST(RestJsonTest, Base64RoundTripsTheRfcVectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64Encode(plain), encoded);
    EXPECT_EQ(base64Decode(encoded), plain);
  }
  EXPECT_EQ(base64Decode("Zm8"), "fo");  // padding is optional
  const std::string binary("\x00\xff\xfe\x80", 4);
  EXPECT_EQ(base64Decode(base64Encode(binary)), binary);
  EXPECT_FALSE(base64Decode("Zm9v!").has_value());
  EXPECT_FALSE(base64Decode("Z").has_value());
}

TEST(RestJsonTest, Utf8IsCheckedAndRepaired) {
  EXPECT_TRUE(isUtf8("plain"));
  EXPECT_TRUE(isUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_FALSE(isUtf8("\xc0\xaf"));                             // overlong '/'
  EXPECT_FALSE(isUtf8("\xed\xa0\x80"));                         // a surrogate
  EXPECT_FALSE(isUtf8("\xf4\x90\x80\x80"));                     // past U+10FFFF
  EXPECT_FALSE(isUtf8("\xe2\x82"));                             // cut short
  EXPECT_EQ(utf8Text("a\xffz"), "a\xef\xbf\xbdz");
  EXPECT_EQ(utf8Text("\xc3\xa9"), "\xc3\xa9");
}

TEST(RestJsonTest, StatusesMapAsGoogleApisDo) {
  EXPECT_EQ(httpStatusOf(grpc::StatusCode::INVALID_ARGUMENT), 400u);
  EXPECT_EQ(httpStatusOf(grpc::StatusCode::FAILED_PRECONDITION), 400u);
  EXPECT_EQ(httpStatusOf(grpc::StatusCode::NOT_FOUND), 404u);
  EXPECT_EQ(httpStatusOf(grpc::StatusCode::PERMISSION_DENIED), 403u);
  EXPECT_EQ(httpStatusOf(grpc::StatusCode::ABORTED), 409u);
  EXPECT_EQ(httpStatusOf(grpc::StatusCode::RESOURCE_EXHAUSTED), 429u);
  EXPECT_EQ(httpStatusOf(grpc::StatusCode::UNIMPLEMENTED), 501u);
  EXPECT_EQ(httpStatusOf(grpc::StatusCode::UNAVAILABLE), 503u);
  const HttpResponse error = jsonError(400, grpc::StatusCode::INVALID_ARGUMENT, "bad \xff");
  EXPECT_EQ(error.content_type, "application/json");
  pb::Struct body;
  ASSERT_TRUE(pb::util::JsonStringToMessage(error.body, &body).ok()) << error.body;
  EXPECT_EQ(body.fields().at("code").string_value(), "INVALID_ARGUMENT");
  EXPECT_EQ(body.fields().at("message").string_value(), "bad \xef\xbf\xbd");
}

// A JSON reply as a Struct; a failed expectation when it is not one.
pb::Struct json(const HttpReply& reply) {
  pb::Struct out;
  EXPECT_TRUE(pb::util::JsonStringToMessage(reply.body, &out).ok())
      << reply.status << " " << reply.error << ": " << reply.body;
  return out;
}

const pb::Value& field(const pb::Struct& object, const std::string& name) {
  static const pb::Value kMissing;
  auto found = object.fields().find(name);
  return found == object.fields().end() ? kMissing : found->second;
}

class RestGatewayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mock_ = new mock::MockCluster(1);
    DaemonConfig config = testing::loopbackDaemonConfig(mock_->bootstraps());
    daemon_ = new Daemon(std::move(config), Daemon::Signals::kIgnore);
    daemon_->start();
  }

  static void TearDownTestSuite() {
    daemon_->requestStop();
    daemon_->wait();
    delete daemon_;
    delete mock_;
  }

  static HttpReply request(std::string_view method, std::string_view target,
                           std::string_view body = {}) {
    return testing::httpRequest(daemon_->httpEndpoint().port(), method, target, body);
  }

  // Opens an assignment session on partition 0 of `topic` from the earliest offset.
  static std::string open(const std::string& topic, const std::string& group) {
    const HttpReply opened =
        request("POST", "/v1/consumers",
                R"({"spec": {"group": ")" + group + R"(", "assignment": [{"topic": ")" + topic +
                    R"(", "partitions": [0]}], "offset_reset": "OFFSET_RESET_EARLIEST"}})");
    EXPECT_EQ(opened.status, 200u) << opened.body;
    return field(json(opened), "session_id").string_value();
  }

  // Polls the session until `count` records came, or kWait passed; the records, in order.
  static std::vector<pb::Struct> poll(const std::string& session, size_t count,
                                      std::string_view encoding) {
    std::vector<pb::Struct> records;
    testing::waitUntil([&] {
      const HttpReply reply = request(
          "GET", "/v1/consumers/" + session +
                     "/records?timeout_ms=500&max_records=100&encoding=" + std::string(encoding));
      EXPECT_EQ(reply.status, 200u) << reply.body;
      const pb::Struct answer = json(reply);
      for (const pb::Value& partition : field(answer, "records").list_value().values()) {
        for (const pb::Value& record :
             field(partition.struct_value(), "records").list_value().values()) {
          records.push_back(record.struct_value());
        }
      }
      return records.size() >= count;
    });
    return records;
  }

  static inline mock::MockCluster* mock_ = nullptr;
  static inline Daemon* daemon_ = nullptr;
};

TEST_F(RestGatewayTest, ProducesConsumesAcksAndCommitsInBase64) {
  const std::string topic = "rest-base64";
  mock_->createTopic(topic, 1);
  const std::string key = base64Encode(std::string("k\x00\xff", 3));
  const HttpReply produced = request(
      "POST", "/v1/topics/" + topic + "/records",
      R"({"records": [{"key": ")" + key +
          R"(", "value": "b25l", "headers": [{"key": "h", "value": "aGk="}]},)"
          R"( {"value": "dHdv", "partition": 0}, {"key": "", "timestamp_ms": "1700000000000"}]})");
  ASSERT_EQ(produced.status, 200u) << produced.body;
  EXPECT_EQ(produced.content_type, "application/json");
  const pb::Struct produce_answer = json(produced);
  const auto& results = field(produce_answer, "results").list_value().values();
  ASSERT_EQ(results.size(), 3);
  for (int i = 0; i < 3; ++i) {
    const pb::Struct& result = results[i].struct_value();
    EXPECT_EQ(field(result, "offset").string_value(), std::to_string(i)) << produced.body;
    // Default values are written out: partition 0 and an empty error are there.
    EXPECT_EQ(field(result, "partition").number_value(), 0) << produced.body;
  }

  const std::string session = open(topic, "rest-base64-group");
  ASSERT_FALSE(session.empty());
  const std::vector<pb::Struct> records = poll(session, 3, "base64");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(field(records[0], "key").string_value(), key);
  EXPECT_EQ(field(records[0], "value").string_value(), "b25l");
  const auto& headers = field(records[0], "headers").list_value().values();
  ASSERT_EQ(headers.size(), 1);
  EXPECT_EQ(field(headers[0].struct_value(), "value").string_value(), "aGk=");
  // A null key is left out, an empty one is there; so for values.
  EXPECT_FALSE(records[1].fields().contains("key"));
  EXPECT_EQ(field(records[2], "key").string_value(), "");
  EXPECT_FALSE(records[2].fields().contains("value"));
  EXPECT_EQ(field(records[2], "timestamp_ms").string_value(), "1700000000000");

  const HttpReply acked =
      request("POST", "/v1/consumers/" + session + "/acks",
              R"({"partitions": [{"topic": ")" + topic + R"(", "offsets": [0, 1, 2]}]})");
  EXPECT_EQ(acked.status, 200u) << acked.body;
  const HttpReply committed = request("POST", "/v1/consumers/" + session + "/commit");
  ASSERT_EQ(committed.status, 200u) << committed.body;
  const pb::Struct commit_answer = json(committed);
  const auto& commits = field(commit_answer, "partitions").list_value().values();
  ASSERT_EQ(commits.size(), 1) << committed.body;
  EXPECT_EQ(field(commits[0].struct_value(), "offset").string_value(), "3");

  const HttpReply offsets = request("GET", "/v1/groups/rest-base64-group/offsets?topics=" + topic);
  ASSERT_EQ(offsets.status, 200u) << offsets.body;
  const pb::Struct offsets_answer = json(offsets);
  const auto& topics = field(offsets_answer, "topics").list_value().values();
  ASSERT_EQ(topics.size(), 1) << offsets.body;
  const auto& partitions = field(topics[0].struct_value(), "partitions").list_value().values();
  ASSERT_EQ(partitions.size(), 1) << offsets.body;
  EXPECT_EQ(field(partitions[0].struct_value(), "committed").string_value(), "3");
  EXPECT_EQ(field(partitions[0].struct_value(), "lag").string_value(), "0");

  EXPECT_EQ(request("DELETE", "/v1/consumers/" + session).status, 200u);
  const HttpReply gone = request("POST", "/v1/consumers/" + session + "/commit");
  EXPECT_EQ(gone.status, 404u) << gone.body;
  EXPECT_EQ(field(json(gone), "code").string_value(), "NOT_FOUND");
}

TEST_F(RestGatewayTest, TextEncodingCarriesKeysAndValuesAsUtf8) {
  const std::string topic = "rest-text";
  mock_->createTopic(topic, 1);
  const HttpReply produced = request("POST", "/v1/topics/" + topic + "/records?encoding=text",
                                     R"({"records": [{"key": "clé", "value": "{\"n\": 1}",)"
                                     R"( "headers": [{"key": "trace", "value": "x-1"}]}]})");
  ASSERT_EQ(produced.status, 200u) << produced.body;
  // Bytes that are not UTF-8, written over gRPC, read as text with U+FFFD in their place.
  auto channel = grpc::CreateChannel(daemon_->grpcAddress(), grpc::InsecureChannelCredentials());
  auto producer = v1::Producer::NewStub(channel);
  v1::ProduceRequest binary;
  binary.set_topic(topic);
  binary.add_records()->set_value("a\xff");
  v1::ProduceResponse binary_result;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + testing::kWait);
  ASSERT_TRUE(producer->Produce(&context, binary, &binary_result).ok());

  const std::string session = open(topic, "rest-text-group");
  const std::vector<pb::Struct> records = poll(session, 2, "text");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(field(records[0], "key").string_value(), "clé");
  EXPECT_EQ(field(records[0], "value").string_value(), "{\"n\": 1}");
  EXPECT_EQ(field(field(records[0], "headers").list_value().values(0).struct_value(), "value")
                .string_value(),
            "x-1");
  EXPECT_EQ(field(records[1], "value").string_value(), "a\xef\xbf\xbd");
  EXPECT_EQ(request("DELETE", "/v1/consumers/" + session).status, 200u);
}

TEST_F(RestGatewayTest, EveryDocumentedRouteAnswers) {
  const HttpReply document = request("GET", "/openapi.json");
  ASSERT_EQ(document.status, 200u);
  EXPECT_EQ(document.content_type, "application/json");
  const pb::Struct openapi = json(document);
  EXPECT_EQ(field(openapi, "openapi").string_value(), "3.0.3");
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : field(openapi, "paths").struct_value().fields()) {
    for (const auto& [verb, operation] : item.struct_value().fields()) {
      std::string method = verb;
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.emplace(method, path);
      // Every {parameter} is declared, and the schemas referred to exist.
      std::string target = path;
      for (size_t open = target.find('{'); open != std::string::npos; open = target.find('{')) {
        target.replace(open, target.find('}', open) - open + 1, "none");
      }
      const bool body = operation.struct_value().fields().contains("requestBody");
      const HttpReply reply = request(method, target, body ? "{}" : "");
      EXPECT_NE(reply.status, 0u) << method << " " << target << ": " << reply.error;
      EXPECT_NE(reply.status, 405u) << method << " " << target << ": " << reply.body;
      EXPECT_EQ(field(json(reply), "message").string_value().find("no route"), std::string::npos)
          << method << " " << target << ": " << reply.body;
    }
  }
  std::set<std::pair<std::string, std::string>> served;
  for (const RestRoute& route : restRoutes()) served.emplace(route.verb, route.path);
  EXPECT_EQ(documented, served);
  const auto& schemas =
      field(field(openapi, "components").struct_value(), "schemas").struct_value();
  for (const char* name : {"kafka.sidecar.v1.ProduceRequest", "kafka.sidecar.v1.PollResponse",
                           "kafka.sidecar.v1.ConsumedRecord", "Error"}) {
    EXPECT_TRUE(schemas.fields().contains(name)) << name;
  }
}

TEST_F(RestGatewayTest, PythonClientAndKafkaPythonAgreeWithTheGateway) {
  const std::string topic = "rest-python";
  mock_->createTopic(topic, 1);
  const testing::ProcessResult run =
      testing::ChildProcess::run({"/usr/bin/python3", KS_SOURCE_DIR "/tests/server/rest_client.py",
                                  std::to_string(daemon_->httpEndpoint().port()),
                                  mock_->bootstraps(), topic, "rest-python-group"},
                                 60s);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out, "ok\n") << run.err;
}

struct BadRequest {
  std::string method;
  std::string target;
  std::string body;
  unsigned status;
  std::string code;
  std::string says;  // a part of the message
};

TEST_F(RestGatewayTest, BadRequestsAreAnsweredWithA4xxNamingTheFault) {
  mock_->createTopic("rest-bad", 1);
  const std::string records = "/v1/topics/rest-bad/records";
  const std::string oversized =
      R"({"records": [{"value": ")" + std::string(HttpServer::kMaxBodyBytes, 'A') + R"("}]})";
  const std::vector<BadRequest> table = {
      // Malformed JSON.
      {"POST", records, "{", 400, "INVALID_ARGUMENT", "does not parse"},
      {"POST", records, "[1, 2]", 400, "INVALID_ARGUMENT", "does not parse"},
      {"POST", records, "\"text\"", 400, "INVALID_ARGUMENT", "does not parse"},
      {"POST", records, R"({"records": [}])", 400, "INVALID_ARGUMENT", "does not parse"},
      {"POST", records + "?encoding=text", "{nope", 400, "INVALID_ARGUMENT", "not JSON"},
      // Wrong types and unknown fields.
      {"POST", records, R"({"records": "many"})", 400, "INVALID_ARGUMENT", "records"},
      {"POST", records, R"({"records": [{"partition": "zero"}]})", 400, "INVALID_ARGUMENT",
       "partition"},
      {"POST", records, R"({"records": [{"timestamp_ms": true}]})", 400, "INVALID_ARGUMENT",
       "timestamp_ms"},
      {"POST", records, R"({"records": [{"colour": "red"}]})", 400, "INVALID_ARGUMENT", "colour"},
      {"POST", records, R"({"settings": {"acks": "SOME"}})", 400, "INVALID_ARGUMENT", "acks"},
      {"POST", "/v1/consumers", R"({"spec": {"group": 7}})", 400, "INVALID_ARGUMENT", "group"},
      {"POST", "/v1/consumers", R"({"spec": {"max_unacked_records": -1}})", 400, "INVALID_ARGUMENT",
       "max_unacked_records"},
      // Bad base64 and text.
      {"POST", records, R"({"records": [{"value": "not base64!"}]})", 400, "INVALID_ARGUMENT",
       "value"},
      {"POST", records, "{\"records\": [{\"value\": \"\xff\"}]}", 400, "INVALID_ARGUMENT",
       "does not parse"},
      // Missing or invalid fields, refused by the service itself.
      {"POST", "/v1/consumers", "{}", 400, "INVALID_ARGUMENT", "group"},
      {"POST", "/v1/consumers", R"({"spec": {"group": "g"}})", 400, "INVALID_ARGUMENT", "topics"},
      {"POST", "/v1/consumers", R"({"spec": {"group": "g", "topic_pattern": "("}})", 400,
       "INVALID_ARGUMENT", "topic_pattern"},
      {"POST", records, R"({"records": [{"value": "eA=="}], "cluster": "elsewhere"})", 404,
       "NOT_FOUND", "elsewhere"},
      {"GET", "/v1/consumers/no-such-session/records?timeout_ms=1", "", 404, "NOT_FOUND",
       "no-such-session"},
      {"POST", "/v1/consumers/no-such-session/seek", R"({"target": {"topic": "t"}})", 404,
       "NOT_FOUND", "no-such-session"},
      {"GET", "/v1/groups/%20/offsets", "", 400, "INVALID_ARGUMENT", "topics"},
      // Parameters.
      {"GET", "/v1/topics?colour=red", "", 400, "INVALID_ARGUMENT", "colour"},
      {"GET", "/v1/topics?encoding=hex", "", 400, "INVALID_ARGUMENT", "encoding"},
      {"GET", "/v1/consumers/s/records?timeout_ms=soon", "", 400, "INVALID_ARGUMENT", "timeout_ms"},
      {"GET", "/v1/consumers/s/records?max_records=-5", "", 400, "INVALID_ARGUMENT", "max_records"},
      {"GET", "/v1/consumers/s/records?max_records=1&max_records=2", "", 400, "INVALID_ARGUMENT",
       "twice"},
      {"GET", "/v1/topics/rest-bad/offsets?read_committed=yes", "", 400, "INVALID_ARGUMENT",
       "read_committed"},
      {"GET", "/v1/topics/rest-bad/offsets?group=%zz", "", 400, "INVALID_ARGUMENT",
       "percent-encoding"},
      {"GET", "/v1/groups/%ff", "", 400, "INVALID_ARGUMENT", "UTF-8"},
      {"POST", records, R"({"topic": "other"})", 400, "INVALID_ARGUMENT", "'topic'"},
      {"GET", "/v1/topics", "{}", 400, "INVALID_ARGUMENT", "takes no body"},
      // Unknown routes and methods, and what HTTP itself refuses.
      {"GET", "/v2/topics", "", 404, "NOT_FOUND", "no route"},
      {"GET", "/v1/topics/rest-bad/records/extra", "", 404, "NOT_FOUND", "no route"},
      {"GET", "/", "", 404, "NOT_FOUND", "no route"},
      {"PUT", records, "{}", 405, "UNIMPLEMENTED", "POST"},
      {"POST", "/metrics", "", 405, "UNIMPLEMENTED", "not served"},
      {"POST", records, oversized, 413, "RESOURCE_EXHAUSTED", "larger than"},
  };
  ASSERT_GE(table.size(), 30u);
  for (const BadRequest& row : table) {
    const HttpReply reply = request(row.method, row.target, row.body);
    const std::string what = row.method + " " + row.target + " " + row.body.substr(0, 60);
    EXPECT_EQ(reply.status, row.status) << what << ": " << reply.error << reply.body;
    const pb::Struct error = json(reply);
    EXPECT_EQ(field(error, "code").string_value(), row.code) << what << ": " << reply.body;
    EXPECT_NE(field(error, "message").string_value().find(row.says), std::string::npos)
        << what << ": " << reply.body;
  }
  // A body that does not say it is JSON (curl -d sends a form unless told otherwise).
  const HttpReply form =
      testing::httpRequest(daemon_->httpEndpoint().port(), "POST", records, R"({"records": []})",
                           "application/x-www-form-urlencoded");
  EXPECT_EQ(form.status, 415u) << form.body;
  EXPECT_NE(field(json(form), "message").string_value().find("application/json"), std::string::npos)
      << form.body;

  // Nothing was written, and the daemon still serves.
  const HttpReply offsets = request("GET", "/v1/topics/rest-bad/offsets");
  ASSERT_EQ(offsets.status, 200u) << offsets.body;
  const pb::Struct offsets_answer = json(offsets);
  const auto& topics = field(offsets_answer, "topics").list_value().values();
  ASSERT_EQ(topics.size(), 1);
  EXPECT_EQ(
      field(field(topics[0].struct_value(), "partitions").list_value().values(0).struct_value(),
            "latest")
          .string_value(),
      "0");
}

}  // namespace
}  // namespace kafka::sidecar
