#pragma once
// Canonical AT text for parsed commands. The mediator forwards these, never the guest's
// raw bytes: what reaches the physical modem is rebuilt from the validated value, so
// nothing the parser did not understand can be smuggled through.
//
// parse_command_line(format_command_line(x)) == x for every x the parser produced (the
// at_command_fuzz target checks this). Escaping can make the text longer than the input,
// so callers still check the result against the physical modem's line limit.
#include <string>

#include "twofold/modem/at/command.h"

namespace twofold::modem::at {

// One command without prefix: "E0", "S7?", "+CMGS=\"+4912\",145", "D+4930;".
std::string format_command(const Command& command);
// "AT" + the commands, ';' after extended commands that are followed by another.
std::string format_command_line(const CommandLine& line);

}  // namespace twofold::modem::at
