#pragma once
// Quoting text from the policy file into messages.
#include <string>
#include <string_view>

namespace twofold::policy::detail {

// 'text', cut to a bounded length on a UTF-8 character boundary (messages stay valid UTF-8,
// so JSON output never fails), with control characters replaced by '?' so that a policy
// cannot smuggle terminal escapes into a reviewer's terminal.
std::string excerpt(std::string_view text);

}  // namespace twofold::policy::detail
