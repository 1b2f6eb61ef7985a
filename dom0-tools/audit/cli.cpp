#include "twofold/audit/cli.h"

#include <chrono>
#include <charconv>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "twofold/audit/format.h"
#include "twofold/audit/keys.h"
#include "twofold/audit/verifier.h"
#include "twofold/audit/writer.h"

namespace twofold::audit {
namespace {

using nlohmann::json;

// Exit 0 (intact) is a normal return from the callback.
constexpr int kExitTampered = 1;
constexpr int kExitUsage = 2;

// Ends the command with `code` through CLI11, so the CLI's main returns it from app.exit().
[[noreturn]] void exit_with(int code) { throw CLI::RuntimeError(code); }

std::string format_utc(std::int64_t ns) {
  const std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
  const long fraction = static_cast<long>(ns % 1'000'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char full[48];
  std::snprintf(full, sizeof full, "%s.%09ldZ", date, fraction);
  return full;
}

bool parse_digits(std::string_view text, int& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

// Accepts nanoseconds since the epoch or RFC 3339 UTC: 2026-11-21T12:00:00[.fraction]Z.
std::optional<std::int64_t> parse_time(std::string_view text) {
  std::int64_t ns = 0;
  if (const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), ns);
      error == std::errc() && end == text.data() + text.size()) {
    return ns >= 0 ? std::optional(ns) : std::nullopt;
  }
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text.back() != 'Z') {
    return std::nullopt;
  }
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!parse_digits(text.substr(0, 4), year) || !parse_digits(text.substr(5, 2), month) ||
      !parse_digits(text.substr(8, 2), day) || !parse_digits(text.substr(11, 2), hour) ||
      !parse_digits(text.substr(14, 2), minute) || !parse_digits(text.substr(17, 2), second)) {
    return std::nullopt;
  }
  std::int64_t fraction_ns = 0;
  std::string_view fraction = text.substr(19, text.size() - 20);
  if (!fraction.empty()) {
    if (fraction[0] != '.' || fraction.size() < 2 || fraction.size() > 10) return std::nullopt;
    fraction.remove_prefix(1);
    for (std::size_t i = 0; i < 9; ++i) {
      const char c = i < fraction.size() ? fraction[i] : '0';
      if (c < '0' || c > '9') return std::nullopt;
      fraction_ns = fraction_ns * 10 + (c - '0');
    }
  }
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const auto since_epoch = std::chrono::sys_days(date).time_since_epoch() + std::chrono::hours(hour) +
                           std::chrono::minutes(minute) + std::chrono::seconds(second);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count() + fraction_ns;
}

std::vector<std::filesystem::path> to_paths(const std::vector<std::string>& names) {
  return {names.begin(), names.end()};
}

// ---- verify ---------------------------------------------------------------------------

struct VerifyArgs {
  std::string public_key;
  bool json_output = false;
  std::optional<std::uint64_t> expect_sequence;
  bool allow_missing_head = false;
  bool require_sealed = false;
  std::vector<std::string> paths;
};

json report_json(const VerifyReport& report) {
  json out = {{"intact", report.intact()},
              {"files", report.files},
              {"records", report.records},
              {"checkpoints", report.checkpoints},
              {"first_sequence", report.first_sequence},
              {"last_sequence", report.last_sequence},
              {"last_sealed_sequence", report.last_sealed_sequence},
              {"unsealed_records", report.unsealed_records},
              {"torn_tail_bytes", report.torn_tail_bytes},
              {"empty_last_file", report.empty_last_file},
              {"retired_before_file", report.retired_before_file ? json(*report.retired_before_file) : json(nullptr)},
              {"signatures_checked", report.signatures_checked},
              {"key_id", report.key_id},
              {"last_chain", to_hex(report.last_chain)},
              {"first_bad", nullptr}};
  if (report.first_bad) {
    const Finding& bad = *report.first_bad;
    out["first_bad"] = {{"problem", to_string(bad.problem)},
                        {"file", bad.where.file},
                        {"line", bad.where.line},
                        {"sequence", bad.where.sequence ? json(*bad.where.sequence) : json(nullptr)},
                        {"detail", bad.detail}};
  }
  return out;
}

void print_report(std::ostream& out, const VerifyReport& report) {
  if (report.first_bad && (report.first_bad->problem == Problem::io_error ||
                           report.first_bad->problem == Problem::empty_log)) {
    out << "ERROR: cannot verify " << report.first_bad->where.file << ": " << report.first_bad->detail << '\n';
    return;
  }
  if (report.first_bad) {
    const Finding& bad = *report.first_bad;
    out << "TAMPERED: first bad line " << bad.where.file << ':' << bad.where.line;
    if (bad.where.sequence) out << " (sequence " << *bad.where.sequence << ')';
    out << ": " << to_string(bad.problem) << ": " << bad.detail << '\n';
    return;
  }
  out << "INTACT: " << report.files << " file(s), " << report.records << " record(s)";
  if (report.records > 0) out << " (sequence " << report.first_sequence + 1 << ".." << report.last_sequence << ')';
  out << ", " << report.checkpoints << " checkpoint(s), sealed through sequence "
      << report.last_sealed_sequence << '\n';
  if (report.signatures_checked) {
    out << "checkpoints signed by pinned key " << report.key_id << '\n';
  }
  if (report.unsealed_records > 0) {
    out << "note: " << report.unsealed_records
        << " record(s) after the last checkpoint are unsealed (chain-consistent, not signed yet)\n";
  }
  if (report.torn_tail_bytes > 0) {
    out << "note: " << report.torn_tail_bytes
        << " unterminated byte(s) at the end of the log (write interrupted by a crash)\n";
  }
  if (report.empty_last_file) {
    out << "note: the last file is empty (crash while rotating; the writer repairs it on restart)\n";
  }
  if (report.retired_before_file) {
    out << "note: files before " << *report.retired_before_file
        << " were deleted by retention (a sealed audit.retention record says so); the log is verified from sequence "
        << report.first_sequence + 1 << '\n';
  }
}

void run_verify(const VerifyArgs& args, std::ostream& out, std::ostream& err) {
  if (args.paths.empty()) {
    err << "audit verify: give at least one log file or directory\n";
    exit_with(kExitUsage);
  }
  VerifyOptions options;
  options.expect_sequence = args.expect_sequence;
  options.allow_missing_head = args.allow_missing_head;
  options.require_sealed = args.require_sealed;
  if (!args.public_key.empty()) {
    try {
      options.public_key = VerifyKey::load_pem(args.public_key);
    } catch (const KeyError& error) {
      err << "audit verify: " << error.what() << '\n';
      exit_with(kExitUsage);
    }
  } else {
    err << "audit verify: warning: no --public-key, checkpoint signatures are NOT checked; "
           "anyone with write access could have rewritten the whole log\n";
  }
  const VerifyReport report = verify(to_paths(args.paths), options);
  if (args.json_output) {
    out << report_json(report).dump(2) << '\n';
  } else {
    print_report(out, report);
  }
  if (report.first_bad && (report.first_bad->problem == Problem::io_error ||
                           report.first_bad->problem == Problem::empty_log)) {
    exit_with(kExitUsage);
  }
  if (!report.intact()) exit_with(kExitTampered);
}

// ---- show -----------------------------------------------------------------------------

struct ShowArgs {
  bool json_output = false;
  std::string kind;
  std::string persona;
  std::string since;
  std::vector<std::string> paths;
};

void run_show(const ShowArgs& args, std::ostream& out, std::ostream& err) {
  if (args.paths.empty()) {
    err << "audit show: give at least one log file or directory\n";
    exit_with(kExitUsage);
  }
  std::optional<std::int64_t> since;
  if (!args.since.empty()) {
    since = parse_time(args.since);
    if (!since) {
      err << "audit show: --since wants RFC 3339 UTC (2026-11-21T12:00:00Z) or ns since the epoch\n";
      exit_with(kExitUsage);
    }
  }
  std::vector<std::filesystem::path> files;
  try {
    files = expand_log_paths(to_paths(args.paths));
  } catch (const std::exception& error) {
    err << "audit show: " << error.what() << '\n';
    exit_with(kExitUsage);
  }
  json listed = json::array();
  std::uint64_t skipped = 0;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      err << "audit show: cannot open " << file.string() << '\n';
      exit_with(kExitUsage);
    }
    std::string text;
    std::uint64_t line_no = 0;
    while (std::getline(in, text)) {
      ++line_no;
      auto parsed = parse_line(text);
      if (const auto* error = std::get_if<ParseError>(&parsed)) {
        err << file.string() << ':' << line_no << ": skipped: " << error->reason << '\n';
        ++skipped;
        continue;
      }
      const auto* line = std::get_if<RecordLine>(&std::get<Line>(parsed));
      if (line == nullptr) continue;
      const Record& record = line->record;
      if (!args.kind.empty() && record.kind != args.kind) continue;
      if (!args.persona.empty() && record.persona.value_or("") != args.persona) continue;
      if (since && record.timestamp_ns < *since) continue;
      if (args.json_output) {
        listed.push_back({{"seq", record.sequence},
                          {"ts", record.timestamp_ns},
                          {"time", format_utc(record.timestamp_ns)},
                          {"kind", record.kind},
                          {"persona", record.persona ? json(*record.persona) : json(nullptr)},
                          {"fields", record.fields},
                          {"file", file.string()},
                          {"line", line_no}});
      } else {
        out << record.sequence << "  " << format_utc(record.timestamp_ns) << "  " << record.kind << "  "
            << record.persona.value_or("-") << "  " << record.fields.dump() << '\n';
      }
    }
  }
  if (args.json_output) out << listed.dump(2) << '\n';
  if (skipped > 0) err << "audit show: " << skipped << " malformed line(s) skipped; run `twofold audit verify`\n";
}

// ---- keygen ---------------------------------------------------------------------------

void run_keygen(const std::string& directory, std::ostream& out, std::ostream& err) {
  try {
    const KeyFiles files = generate_key_files(directory);
    out << "private key: " << files.private_key.string() << " (0600; keep it on the writer only)\n"
        << "public key:  " << files.public_key.string() << " (give it to verifiers)\n"
        << "key id:      " << files.key_id << '\n';
  } catch (const std::exception& error) {
    err << "audit keygen: " << error.what() << '\n';
    exit_with(kExitUsage);
  }
}

}  // namespace

void register_audit_commands(CLI::App& app) { register_audit_commands(app, std::cout, std::cerr); }

void register_audit_commands(CLI::App& app, std::ostream& out, std::ostream& err) {
  CLI::App* audit = app.add_subcommand("audit", "Inspect and verify the tamper-evident audit log");
  audit->require_subcommand(1);

  auto verify_args = std::make_shared<VerifyArgs>();
  CLI::App* verify_cmd = audit->add_subcommand(
      "verify",
      "Check a log's hash chain, signed checkpoints, sequence, timestamps and rotation links.\n"
      "Exit status: 0 intact, 1 tampered (the first bad line is named), 2 usage or I/O error.");
  verify_cmd->add_option("--public-key", verify_args->public_key,
                         "Pinned Ed25519 public key (PEM); checkpoints signed by any other key fail")
      ->check(CLI::ExistingFile);
  verify_cmd->add_flag("--json", verify_args->json_output, "Print the report as JSON");
  verify_cmd->add_option("--expect-sequence", verify_args->expect_sequence,
                         "At least N records were written: fewer means the log was truncated");
  verify_cmd->add_flag("--allow-missing-head", verify_args->allow_missing_head,
                       "Accept a log whose oldest files were retired (starts after sequence 0)");
  verify_cmd->add_flag("--require-sealed", verify_args->require_sealed,
                       "Fail if records after the last checkpoint are not yet signed");
  verify_cmd->add_option("paths", verify_args->paths,
                         "Log directory (audit-*.log in order) or log files, oldest first");
  verify_cmd->callback([verify_args, &out, &err] { run_verify(*verify_args, out, err); });

  auto show_args = std::make_shared<ShowArgs>();
  CLI::App* show_cmd = audit->add_subcommand(
      "show", "List records (does not verify; run `audit verify` to trust what is shown)");
  show_cmd->add_flag("--json", show_args->json_output, "Print a JSON array of records");
  show_cmd->add_option("--kind", show_args->kind, "Only records of this kind (e.g. switch)");
  show_cmd->add_option("--persona", show_args->persona, "Only records about this persona");
  show_cmd->add_option("--since", show_args->since,
                       "Only records at or after this time (RFC 3339 UTC or ns since the epoch)");
  show_cmd->add_option("paths", show_args->paths, "Log directory or log files, oldest first");
  show_cmd->callback([show_args, &out, &err] { run_show(*show_args, out, err); });

  auto keygen_dir = std::make_shared<std::string>();
  CLI::App* keygen_cmd = audit->add_subcommand(
      "keygen", "Create an Ed25519 checkpoint signing key pair (never overwrites)");
  keygen_cmd->add_option("--out", *keygen_dir, "Directory for audit-signing.key and audit-signing.pub")
      ->required();
  keygen_cmd->callback([keygen_dir, &out, &err] { run_keygen(*keygen_dir, out, err); });
}

}  // namespace twofold::audit
