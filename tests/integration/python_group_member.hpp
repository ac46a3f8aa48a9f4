// PythonGroupMember: /usr/bin/python3 running tests/integration/kafka_python_group_member.py (a
// subscribed kafka-python KafkaConsumer that reports its assignment, commits and reads offsets on
// command, and leaves on "quit"), with stdin and stdout on pipes; its stderr is the test's.
//
// The destructor closes stdin and kills the child (by its pid) unless it exits within 5 s. Not
// thread-safe: one test thread drives it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kafka::integration {

class PythonGroupMember {
 public:
  // `args` follow the script name (see the script's usage).
  explicit PythonGroupMember(const std::vector<std::string>& args);
  ~PythonGroupMember();
  PythonGroupMember(const PythonGroupMember&) = delete;
  PythonGroupMember& operator=(const PythonGroupMember&) = delete;

  bool started() const { return pid_ > 0; }
  // Writes `line` and a newline to the script's stdin; false when that failed.
  bool send(const std::string& line);
  // The next line of output, or nullopt if none comes within `timeout`.
  std::optional<std::string> line(std::chrono::milliseconds timeout);
  // The first line starting with `prefix` within `timeout`, skipping the others.
  std::optional<std::string> lineStarting(std::string_view prefix,
                                          std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string buffered_;
};

}  // namespace kafka::integration
