// ksctl: see ksctl.hpp.
#include <iostream>
#include <string_view>
#include <vector>

#include "tools/ksctl/ksctl.hpp"

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  return kafka::ksctl::runKsctl(args, std::cout, std::cerr);
}
