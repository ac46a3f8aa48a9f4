#include "client_core/cluster/topic_name.hpp"

#include <gtest/gtest.h>

namespace kafka {
namespace {

TEST(TopicNameTest, AcceptsWhatKafkaAccepts) {
  EXPECT_EQ(topicNameProblem("orders"), std::nullopt);
  EXPECT_EQ(topicNameProblem("a.b_c-D9"), std::nullopt);
  EXPECT_EQ(topicNameProblem(std::string(249, 'x')), std::nullopt);
  EXPECT_EQ(topicNameProblem("..."), std::nullopt);
}

TEST(TopicNameTest, NamesWhatIsWrong) {
  EXPECT_EQ(topicNameProblem(""), "the topic name is empty");
  EXPECT_EQ(topicNameProblem(".."), "'..' is not a legal topic name");
  EXPECT_EQ(topicNameProblem(std::string(250, 'x')),
            "a topic name of 250 characters is longer than 249");
  EXPECT_EQ(topicNameProblem("bad name"),
            "topic name 'bad name' has the character 0x20 at position 3; only ASCII letters, "
            "digits, '.', '_' and '-' are allowed");
  EXPECT_EQ(topicNameProblem(std::string("t\n\xff", 3)),
            "topic name 't?" "?' has the character 0x0a at position 1; only ASCII letters, "
            "digits, '.', '_' and '-' are allowed");
}

}  // namespace
}  // namespace kafka
