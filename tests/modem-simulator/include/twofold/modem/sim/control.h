#pragma once
// The simulator's control channel: one command per line, one reply line each.
//
//   call <number> [<line>] incoming voice call (RING, +CLIP per +CLIP=1, +CDIP: <line> per +CDIP=1)
//   answer | busy        the remote party answers / rejects our outgoing call
//   hangup               the remote party hangs up (NO CARRIER)
//   sms <number> <text>  incoming SMS (+CMTI per +CNMI), text to the end of the line
//   creg <0-5>           network registration status (+CREG URC per +CREG=1/2)
//   csq <0-31|99>        signal strength
//   silent on|off        stop / resume answering (input is dropped, nothing is sent)
//   reset                power cycle: settings to defaults, calls dropped, SIM storage kept
//   state                one line of JSON: settings, calls, stored and sent messages
// Replies: "OK", "ERROR <reason>", or the JSON line for "state".
#include <cstddef>
#include <string>
#include <string_view>

#include "twofold/modem/sim/modem.h"

namespace twofold::modem::sim {

inline constexpr std::size_t kMaxControlLineLength = 1024;

std::string handle_control_line(Modem& modem, std::string_view line);

}  // namespace twofold::modem::sim
