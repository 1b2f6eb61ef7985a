#include "twofold/modem/at/command.h"
#include "twofold/modem/at/parameter.h"
#include "twofold/modem/at/response.h"

namespace twofold::modem::at {

std::string quote_string(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() + 2);
  out.push_back('"');
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || byte < 0x20 || byte == 0x7f) {
      out.push_back('\\');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string_view to_string(CommandKind kind) noexcept {
  switch (kind) {
    case CommandKind::kBasic: return "basic";
    case CommandKind::kSRegister: return "s-register";
    case CommandKind::kExtended: return "extended";
    case CommandKind::kDial: return "dial";
  }
  return "unknown";
}

std::string_view to_string(CommandForm form) noexcept {
  switch (form) {
    case CommandForm::kAction: return "action";
    case CommandForm::kSet: return "set";
    case CommandForm::kRead: return "read";
    case CommandForm::kTest: return "test";
  }
  return "unknown";
}

std::string_view to_string(ResponseKind kind) noexcept {
  switch (kind) {
    case ResponseKind::kFinal: return "final";
    case ResponseKind::kInformation: return "information";
    case ResponseKind::kUnsolicited: return "unsolicited";
    case ResponseKind::kPrompt: return "prompt";
    case ResponseKind::kEcho: return "echo";
    case ResponseKind::kUnexpected: return "unexpected";
  }
  return "unknown";
}

std::string_view to_string(FinalCode code) noexcept {
  switch (code) {
    case FinalCode::kOk: return "OK";
    case FinalCode::kConnect: return "CONNECT";
    case FinalCode::kNoCarrier: return "NO CARRIER";
    case FinalCode::kError: return "ERROR";
    case FinalCode::kNoDialtone: return "NO DIALTONE";
    case FinalCode::kBusy: return "BUSY";
    case FinalCode::kNoAnswer: return "NO ANSWER";
    case FinalCode::kCmeError: return "+CME ERROR";
    case FinalCode::kCmsError: return "+CMS ERROR";
  }
  return "unknown";
}

}  // namespace twofold::modem::at
