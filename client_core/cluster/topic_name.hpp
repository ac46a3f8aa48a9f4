// Kafka's rules for topic names, checked before a name is sent to a broker so that the caller
// hears exactly what is wrong with it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kafka {

// The longest topic name Kafka accepts.
inline constexpr size_t kMaxTopicNameLength = 249;

// Why `name` is not a legal topic name (empty, too long, "." or "..", or a character other than
// ASCII letters, digits, '.', '_' and '-'), or nullopt when it is legal.
std::optional<std::string> topicNameProblem(std::string_view name);

}  // namespace kafka
