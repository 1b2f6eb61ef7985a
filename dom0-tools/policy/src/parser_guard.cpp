#include "parser_guard.h"

#include <cstdint>
#include <string_view>

namespace twofold::policy::detail {

bool is_parser_hazard(char32_t c) noexcept {
  if (c < U'\xA0' || c > U'\uFEFF') return false;
  const auto child = (static_cast<std::uint64_t>(c) - 0xA0u) / 0x3FAu;
  if (((std::uint64_t{1} << child) & 0x7FFFFFFFFFFFF75Eu) != 0) return false;
  if (c == U'\xA0' || c == U'\u3000' || c == U'\uFEFF') return false;
  return child != 0x05 && child != 0x07;  // the two children toml++ does handle
}

std::optional<CodePointAt> first_parser_hazard(std::string_view text) {
  std::uint32_t line = 1;
  std::uint32_t column = 1;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 1;
    char32_t code_point = lead;
    if (lead >= 0xC0 && lead < 0xE0) {
      length = 2;
      code_point = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead < 0xF0) {
      length = 3;
      code_point = lead & 0x0Fu;
    } else if (lead >= 0xF0 && lead < 0xF8) {
      length = 4;
      code_point = lead & 0x07u;
    }
    // Malformed UTF-8 is left to the parser, which reports it as a syntax error.
    bool well_formed = i + length <= text.size();
    for (std::size_t k = 1; well_formed && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      well_formed = (next & 0xC0u) == 0x80u;
      code_point = (code_point << 6) | (next & 0x3Fu);
    }
    if (!well_formed) length = 1;
    if (well_formed && length > 1 && is_parser_hazard(code_point)) {
      return CodePointAt{code_point, Location{line, column}};
    }
    if (lead == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += length;
  }
  return std::nullopt;
}

}  // namespace twofold::policy::detail
