#include "twofold/modem/at/errors.h"

namespace twofold::modem::at {

std::string_view to_string(ErrorReason reason) noexcept {
  switch (reason) {
    case ErrorReason::kLineTooLong: return "line too long";
    case ErrorReason::kMissingPrefix: return "missing AT prefix";
    case ErrorReason::kControlCharacter: return "control character in line";
    case ErrorReason::kUnexpectedCharacter: return "unexpected character";
    case ErrorReason::kNameTooLong: return "command name too long";
    case ErrorReason::kUnterminatedString: return "unterminated string";
    case ErrorReason::kInvalidEscape: return "invalid escape in string";
    case ErrorReason::kNumberOutOfRange: return "number out of range";
    case ErrorReason::kUnquotedString: return "unquoted string parameter";
    case ErrorReason::kTooManyParameters: return "too many parameters";
    case ErrorReason::kMissingSeparator: return "missing ';' after extended command";
    case ErrorReason::kInvalidDialString: return "invalid dial string";
    case ErrorReason::kDialStringTooLong: return "dial string too long";
    case ErrorReason::kBodyTooLong: return "SMS body too long";
    case ErrorReason::kInvalidBodyCharacter: return "invalid character in SMS body";
    case ErrorReason::kInvalidPdu: return "invalid PDU";
    case ErrorReason::kPduLengthMismatch: return "PDU length does not match <length>";
    case ErrorReason::kInvalidPduLength: return "invalid PDU <length>";
    case ErrorReason::kMalformedResponse: return "malformed response";
  }
  return "unknown error";
}

}  // namespace twofold::modem::at
