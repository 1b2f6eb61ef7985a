// Fuzzes load + check + both report forms. Beyond "no crash", it asserts the invariants
// callers rely on: a syntax error is exactly one finding; every finding names a registered
// rule with its registered severity; messages are valid UTF-8 (strict JSON dump throws
// otherwise, and libFuzzer reports the uncaught exception as a crash).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "twofold/policy/checker.h"
#include "twofold/policy/report.h"
#include "twofold/policy/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace twofold::policy;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // resolve_paths off: the fuzzer must not depend on (or probe) this machine's files.
  const LoadResult result = load_and_check_policy(text, "fuzz.toml", CheckOptions{.resolve_paths = false});

  if (result.status == LoadStatus::syntax_error && result.findings.size() != 1) std::abort();
  if (result.status == LoadStatus::loaded && !result.policy) std::abort();
  for (const Finding& finding : result.findings) {
    const RuleInfo* info = find_rule(finding.rule);
    if (info == nullptr || info->severity != finding.severity) std::abort();
    if (format_human(finding).empty()) std::abort();
  }
  const std::string json = to_json(result.findings).dump();
  if (json.empty()) std::abort();
  return 0;
}
