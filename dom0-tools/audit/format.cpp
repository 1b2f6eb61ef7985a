#include "twofold/audit/format.h"

#include <algorithm>
#include <limits>

namespace twofold::audit {
namespace {

using nlohmann::json;

constexpr std::string_view kCheckpointDomain{"twofold-audit-v1 checkpoint\0", 28};

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool lower_hex(char c) { return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9'); }

void append_be64(std::string& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

// Reads a non-negative integer that fits the target; floats, negatives and strings fail.
std::optional<std::uint64_t> get_unsigned(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<std::uint64_t>();
}

std::optional<std::int64_t> get_timestamp(const json& object, const char* key) {
  const auto value = get_unsigned(object, key);
  if (!value || *value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*value);
}

const std::string* get_string(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

// A hash field: 64 lower-case hex digits, or nothing.
std::optional<Digest> get_digest(const json& object, const char* key) {
  const std::string* text = get_string(object, key);
  return text ? digest_from_hex(*text) : std::nullopt;
}

bool has_exactly(const json& object, std::initializer_list<const char*> keys) {
  if (object.size() != keys.size()) return false;
  for (const char* key : keys) {
    if (!object.contains(key)) return false;
  }
  return true;
}

std::variant<Line, ParseError> parse_header(const json& object) {
  if (!has_exactly(object, {"file", "prev_chain", "prev_seq", "ts", "type", "version"})) {
    return ParseError{"header line must have exactly file, prev_chain, prev_seq, ts, type, version"};
  }
  HeaderLine header;
  const auto version = get_unsigned(object, "version");
  const auto file = get_unsigned(object, "file");
  const auto prev_seq = get_unsigned(object, "prev_seq");
  const auto ts = get_timestamp(object, "ts");
  const auto digest = get_digest(object, "prev_chain");
  if (!version || *version != kFormatVersion) return ParseError{"unsupported header version"};
  if (!file || !prev_seq || !ts) return ParseError{"header file/prev_seq/ts must be non-negative integers"};
  if (!digest) return ParseError{"header prev_chain must be 64 lower-case hex digits"};
  header.version = *version;
  header.file_index = *file;
  header.prev_sequence = *prev_seq;
  header.prev_chain = *digest;
  header.timestamp_ns = *ts;
  return Line{header};
}

std::variant<Line, ParseError> parse_record(json object) {
  const bool with_persona = object.contains("persona");
  if (!(with_persona ? has_exactly(object, {"chain", "fields", "kind", "persona", "seq", "ts", "type"})
                     : has_exactly(object, {"chain", "fields", "kind", "seq", "ts", "type"}))) {
    return ParseError{"record line must have exactly chain, fields, kind, [persona,] seq, ts, type"};
  }
  RecordLine line;
  const auto seq = get_unsigned(object, "seq");
  const auto ts = get_timestamp(object, "ts");
  if (!seq || !ts) return ParseError{"record seq/ts must be non-negative integers"};
  const std::string* kind = get_string(object, "kind");
  if (!kind || !valid_kind(*kind)) return ParseError{"record kind is missing or not [a-z][a-z0-9._-]{0,63}"};
  if (with_persona) {
    const std::string* persona = get_string(object, "persona");
    if (!persona || !valid_persona(*persona)) return ParseError{"record persona is not [a-z0-9_-]{1,32}"};
    line.record.persona = *persona;
  }
  if (!object["fields"].is_object()) return ParseError{"record fields must be a JSON object"};
  const auto digest = get_digest(object, "chain");
  if (!digest) return ParseError{"record chain must be 64 lower-case hex digits"};
  line.chain = *digest;
  line.record.sequence = *seq;
  line.record.timestamp_ns = *ts;
  line.record.kind = *kind;
  line.record.fields = std::move(object["fields"]);
  line.canonical = canonical_record_bytes(line.record);
  return Line{std::move(line)};
}

std::variant<Line, ParseError> parse_checkpoint(const json& object) {
  if (!has_exactly(object, {"chain", "key_id", "seq", "sig", "ts", "type"})) {
    return ParseError{"checkpoint line must have exactly chain, key_id, seq, sig, ts, type"};
  }
  CheckpointLine checkpoint;
  const auto seq = get_unsigned(object, "seq");
  const auto ts = get_timestamp(object, "ts");
  if (!seq || !ts) return ParseError{"checkpoint seq/ts must be non-negative integers"};
  const auto digest = get_digest(object, "chain");
  if (!digest) return ParseError{"checkpoint chain must be 64 lower-case hex digits"};
  const std::string* key_id = get_string(object, "key_id");
  if (!key_id || key_id->size() != 16 || !std::all_of(key_id->begin(), key_id->end(), lower_hex)) {
    return ParseError{"checkpoint key_id must be 16 lower-case hex digits"};
  }
  const std::string* sig = get_string(object, "sig");
  if (!sig || !bytes_from_hex(*sig, checkpoint.signature)) {
    return ParseError{"checkpoint sig must be 128 lower-case hex digits"};
  }
  checkpoint.sequence = *seq;
  checkpoint.chain = *digest;
  checkpoint.timestamp_ns = *ts;
  checkpoint.key_id = *key_id;
  return Line{std::move(checkpoint)};
}

}  // namespace

bool valid_kind(std::string_view kind) {
  if (kind.empty() || kind.size() > kMaxKindBytes || !(kind[0] >= 'a' && kind[0] <= 'z')) return false;
  for (char c : kind) {
    if (!lower_alnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

bool valid_persona(std::string_view persona) {
  if (persona.empty() || persona.size() > kMaxPersonaBytes) return false;
  for (char c : persona) {
    if (!lower_alnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

std::size_t json_depth(std::string_view text) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

std::string canonical_record_bytes(const Record& record) {
  json object = json::object();
  object["type"] = "record";
  object["seq"] = record.sequence;
  object["ts"] = record.timestamp_ns;
  object["kind"] = record.kind;
  if (record.persona) object["persona"] = *record.persona;
  object["fields"] = record.fields;
  return object.dump();  // nlohmann's object is a std::map: keys come out sorted
}

std::string format_record(const Record& record, const Digest& chain) {
  json object = json::object();
  object["type"] = "record";
  object["seq"] = record.sequence;
  object["ts"] = record.timestamp_ns;
  object["kind"] = record.kind;
  if (record.persona) object["persona"] = *record.persona;
  object["fields"] = record.fields;
  object["chain"] = to_hex(chain);
  return object.dump();
}

std::string format_checkpoint(const CheckpointLine& checkpoint) {
  json object = json::object();
  object["type"] = "checkpoint";
  object["seq"] = checkpoint.sequence;
  object["chain"] = to_hex(checkpoint.chain);
  object["ts"] = checkpoint.timestamp_ns;
  object["key_id"] = checkpoint.key_id;
  object["sig"] = to_hex(checkpoint.signature);
  return object.dump();
}

std::string format_header(const HeaderLine& header) {
  json object = json::object();
  object["type"] = "header";
  object["version"] = header.version;
  object["file"] = header.file_index;
  object["prev_seq"] = header.prev_sequence;
  object["prev_chain"] = to_hex(header.prev_chain);
  object["ts"] = header.timestamp_ns;
  return object.dump();
}

std::string checkpoint_message(std::uint64_t sequence, const Digest& chain,
                               std::int64_t timestamp_ns, std::string_view key_id) {
  std::string message(kCheckpointDomain);
  append_be64(message, sequence);
  message.append(reinterpret_cast<const char*>(chain.data()), chain.size());
  append_be64(message, static_cast<std::uint64_t>(timestamp_ns));
  message.append(key_id);
  return message;
}

std::variant<Line, ParseError> parse_line(std::string_view untrusted_line) {
  if (untrusted_line.size() > kMaxLineBytes) return ParseError{"line longer than 64 KiB"};
  if (json_depth(untrusted_line) > kMaxJsonDepth) return ParseError{"JSON nested deeper than 16"};
  json object = json::parse(untrusted_line, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return ParseError{"not valid JSON"};
  if (!object.is_object()) return ParseError{"not a JSON object"};
  // One byte string per line: reject anything a canonical writer would not have produced
  // (whitespace, key order, escapes, duplicate keys, number spellings).
  std::string canonical;
  try {
    canonical = object.dump();
  } catch (const json::exception&) {
    return ParseError{"not representable as canonical JSON"};
  }
  if (canonical != untrusted_line) return ParseError{"not canonical JSON (sorted keys, no whitespace)"};
  const std::string* type = get_string(object, "type");
  if (type == nullptr) return ParseError{"missing \"type\""};
  if (*type == "record") return parse_record(std::move(object));
  if (*type == "checkpoint") return parse_checkpoint(object);
  if (*type == "header") return parse_header(object);
  return ParseError{"unknown line type"};
}

}  // namespace twofold::audit
