// UTF-8 well-formedness, for what must turn arbitrary bytes into valid text: JSON log lines, the
// REST gateway's text encoding, ksctl's output. Header-only, so that any layer may use it.
#pragma once

#include <cstddef>
#include <string_view>

namespace kafka {

// The length of the well-formed UTF-8 sequence that `text` starts with (1 for ASCII), or 0 when
// it starts with an ill-formed one or is empty. Well-formed as RFC 3629 says: no overlong forms,
// no surrogates, nothing past U+10FFFF.
inline size_t utf8SequenceLength(std::string_view text) {
  if (text.empty()) return 0;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80;  // the range of the second byte
  unsigned char high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;   // no overlong forms
    if (lead == 0xed) high = 0x9f;  // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;   // no overlong forms
    if (lead == 0xf4) high = 0x8f;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
  }
  return length;
}

}  // namespace kafka
