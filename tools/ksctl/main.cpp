// ksctl: see ksctl.hpp.
#include <iostream>
#include <string_view>
#include <vector>

#include "tools/ksctl/ksctl.hpp"

int main(int argc, char** argv) {
  // Unsynchronised streams buffer stdin themselves and can tell how much input is at hand
  // (in_avail()), which `produce` uses to send what it has when the input pauses.
  std::ios::sync_with_stdio(false);
  std::vector<std::string_view> args(argv + 1, argv + argc);
  return kafka::ksctl::runKsctl(args, std::cout, std::cerr, std::cin);
}
