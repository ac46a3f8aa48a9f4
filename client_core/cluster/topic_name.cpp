#include "client_core/cluster/topic_name.hpp"

#include <cstdio>

namespace kafka {

namespace {

bool legalCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// The name as it can be shown in a message: non-printable bytes become '?'.
std::string printable(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

}  // namespace

std::optional<std::string> topicNameProblem(std::string_view name) {
  if (name.empty()) return "the topic name is empty";
  if (name == "." || name == "..") return "'" + std::string(name) + "' is not a legal topic name";
  if (name.size() > kMaxTopicNameLength) {
    return "a topic name of " + std::to_string(name.size()) + " characters is longer than " +
           std::to_string(kMaxTopicNameLength);
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (legalCharacter(name[i])) continue;
    char shown[8];
    std::snprintf(shown, sizeof shown, "0x%02x", static_cast<unsigned char>(name[i]));
    return "topic name '" + printable(name) + "' has the character " + shown + " at position " +
           std::to_string(i) + "; only ASCII letters, digits, '.', '_' and '-' are allowed";
  }
  return std::nullopt;
}

}  // namespace kafka
