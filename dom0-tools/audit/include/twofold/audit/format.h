#pragma once
// On-disk line formats. A log file is UTF-8 text, one canonical JSON object per line
// (nlohmann-json, keys sorted, no whitespace), '\n'-terminated:
//   {"file":F,"prev_chain":HEX,"prev_seq":N,"ts":NS,"type":"header","version":1}   first line
//   {"chain":HEX,"fields":{...},"kind":K,"persona":P,"seq":N,"ts":NS,"type":"record"}
//   {"chain":HEX,"key_id":ID,"seq":N,"sig":HEX,"ts":NS,"type":"checkpoint"}
// The canonical record bytes hashed into the leaf are the record line without "chain".
// Every line a reader accepts must be byte-identical to its canonical re-serialisation,
// so there is exactly one byte string per record.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "twofold/audit/hash.h"
#include "twofold/audit/keys.h"

namespace twofold::audit {

inline constexpr std::uint64_t kFormatVersion = 1;
// Limits on what a reader accepts (and a writer produces): bounded memory and recursion
// on a hostile file.
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;
inline constexpr std::size_t kMaxJsonDepth = 16;
inline constexpr std::size_t kMaxKindBytes = 64;
inline constexpr std::size_t kMaxPersonaBytes = 32;

// What a caller asks to record. Sequence, timestamp and chain are the writer's business.
struct Event {
  std::string kind;                    // e.g. "persona.start", "switch", "modem.refuse"
  std::optional<std::string> persona;  // e.g. "work"; absent for system-wide events
  nlohmann::json fields = nlohmann::json::object();
};

struct Record {
  std::uint64_t sequence = 0;  // 1, 2, 3... across all files of one log
  std::int64_t timestamp_ns = 0;  // UTC, ns since the Unix epoch
  std::string kind;
  std::optional<std::string> persona;
  nlohmann::json fields = nlohmann::json::object();
};

struct RecordLine {
  Record record;
  Digest chain{};
  std::string canonical;  // bytes hashed into the leaf
};

struct CheckpointLine {
  std::uint64_t sequence = 0;  // sequence of the last record sealed
  Digest chain{};              // chain hash after that record
  std::int64_t timestamp_ns = 0;
  std::string key_id;
  Signature signature{};
};

struct HeaderLine {
  std::uint64_t version = kFormatVersion;
  std::uint64_t file_index = 0;      // 0 for the first file of a log
  std::uint64_t prev_sequence = 0;   // last sequence of the previous file (0: genesis)
  Digest prev_chain{};               // chain hash at prev_sequence
  std::int64_t timestamp_ns = 0;
};

using Line = std::variant<HeaderLine, RecordLine, CheckpointLine>;

struct ParseError {
  std::string reason;
};

// kind: 1..64 of [a-z0-9._-], starting with a letter. persona: 1..32 of [a-z0-9_-].
[[nodiscard]] bool valid_kind(std::string_view kind);
[[nodiscard]] bool valid_persona(std::string_view persona);
// Nesting depth of a JSON text, counted without parsing (strings skipped), so that a
// recursive serialiser is never handed a hostile 10 000-level value.
[[nodiscard]] std::size_t json_depth(std::string_view text);

[[nodiscard]] std::string canonical_record_bytes(const Record& record);
[[nodiscard]] std::string format_record(const Record& record, const Digest& chain);
[[nodiscard]] std::string format_checkpoint(const CheckpointLine& checkpoint);
[[nodiscard]] std::string format_header(const HeaderLine& header);

// The exact bytes an Ed25519 checkpoint signature covers (fixed binary layout, not JSON):
//   "twofold-audit-v1 checkpoint\0" || be64(sequence) || chain(32) || be64(ts) || key_id
[[nodiscard]] std::string checkpoint_message(std::uint64_t sequence, const Digest& chain,
                                             std::int64_t timestamp_ns, std::string_view key_id);

// Parses one line (without its '\n') from a possibly hostile file.
[[nodiscard]] std::variant<Line, ParseError> parse_line(std::string_view untrusted_line);

}  // namespace twofold::audit
