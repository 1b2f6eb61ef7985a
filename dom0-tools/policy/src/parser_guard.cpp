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

std::optional<Location> first_dotted_table_header(std::string_view text) {
  std::string_view open_delimiter;  // the multi-line string the line starts in, if any
  std::uint32_t line = 1;
  for (std::size_t start = 0; start <= text.size(); ++line) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view row = text.substr(start, end - start);
    if (open_delimiter.empty()) {
      std::size_t i = row.find_first_not_of(" \t");
      if (i != std::string_view::npos && row[i] == '[') {
        const std::size_t header = i;
        i = row.find_first_not_of(" \t", i + (row.substr(i).starts_with("[[") ? 2 : 1));
        if (i != std::string_view::npos && row[i] == '.') {
          return Location{line, static_cast<std::uint32_t>(header + 1)};
        }
      }
    }
    // Multi-line strings open and close on """ or '''; escapes inside them are not followed,
    // so a line in such a string that looks like a header is at worst refused, never parsed.
    for (std::size_t i = 0; i + 3 <= row.size();) {
      const std::string_view three = row.substr(i, 3);
      if ((three == "\"\"\"" || three == "'''") && (open_delimiter.empty() || open_delimiter == three)) {
        open_delimiter = open_delimiter.empty() ? three : std::string_view{};
        i += 3;
      } else if (open_delimiter.empty() && row[i] == '#') {
        break;  // a comment
      } else {
        ++i;
      }
    }
    start = end + 1;
  }
  return std::nullopt;
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
