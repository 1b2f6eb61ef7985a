#include "text.h"

namespace twofold::policy::detail {

std::string excerpt(std::string_view text) {
  constexpr std::size_t kShown = 48;
  std::size_t cut = text.size();
  if (cut > kShown) {
    cut = kShown;
    // Back up over UTF-8 continuation bytes (10xxxxxx) to the start of a character.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  std::string out = "'";
  for (const char c : text.substr(0, cut)) {
    const auto byte = static_cast<unsigned char>(c);
    out += (byte < 0x20 || byte == 0x7f) ? '?' : c;
  }
  if (cut < text.size()) out += "...";
  out += '\'';
  return out;
}

}  // namespace twofold::policy::detail
