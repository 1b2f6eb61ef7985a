#include "twofold/modem/mediator/urc_router.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace twofold::modem::mediator {
namespace {

using namespace std::string_view_literals;

// Status of the shared network and SIM: the same for both personas, and neither learns
// anything about the other from it. Not +CIEV: its "call", "callsetup", "message" indicators
// are the other persona's activity (and no persona can enable them: +CMER is not in the table).
constexpr std::array kBroadcast = {"+CREG"sv, "+CGREG"sv, "+CEREG"sv, "+C5GREG"sv,
                                   "+CTZV"sv, "+CTZE"sv,  "+CPIN"sv,  "+CBM"sv,    "+CSQ"sv};

bool in(std::string_view name, const auto& list) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

std::string with_body(const at::ResponseLine& line) {
  return line.body ? line.raw + "\r\n" + *line.body : line.raw;
}

}  // namespace

IncomingRouter::Target IncomingRouter::resolve(const policy::RouteTarget& target,
                                               const std::vector<std::string>& personas) {
  if (target.foreground) return Target{true, 0};
  const auto it = std::find(personas.begin(), personas.end(), target.persona);
  if (it == personas.end()) throw std::invalid_argument("modem route to unknown persona " + target.persona);
  return Target{false, static_cast<PersonaIndex>(it - personas.begin())};
}

IncomingRouter::IncomingRouter(const policy::Modem& modem, const std::vector<std::string>& personas)
    : default_(resolve(modem.incoming_default.value, personas)) {
  for (const policy::IncomingRoute& route : modem.routes) {
    Route r;
    if (route.sim_slot) r.sim_slot = route.sim_slot->value;
    if (route.called_line) {
      r.called_line = route.called_line->value;
      uses_called_line_ = true;
    }
    r.to = resolve(route.to.value, personas);
    routes_.push_back(std::move(r));
  }
}

PersonaIndex IncomingRouter::route(const IncomingContext& context, PersonaIndex foreground) const {
  for (const Route& r : routes_) {
    if (r.sim_slot && *r.sim_slot != context.sim_slot) continue;
    // A route by called line never matches when the modem did not say which line.
    if (r.called_line && r.called_line != context.called_line) continue;
    return r.to.foreground ? foreground : r.to.persona;
  }
  return default_.foreground ? foreground : default_.persona;
}

std::vector<Delivery> UrcRouter::to_all(const std::string& text) const {
  std::vector<Delivery> out;
  for (PersonaIndex p = 0; p < personas_.size(); ++p) out.push_back(Delivery{p, text});
  return out;
}

std::vector<Delivery> UrcRouter::route(const at::ResponseLine& urc, PersonaIndex foreground,
                                       const IncomingContext& context) {
  if (in(urc.name, kBroadcast)) return to_all(with_body(urc));
  if (urc.name == "RING" || urc.name == "+CRING" || urc.name == "+CLIP" || urc.name == "+CCWA") {
    return incoming_call(urc, foreground, context);
  }
  if (urc.name == "+CDIP") return called_line(urc, foreground, context);
  if (urc.name == "+CMTI" || urc.name == "+CMT") return incoming_sms(urc, foreground, context);
  if (urc.name == "NO CARRIER" || urc.name == "BUSY" || urc.name == "NO ANSWER") return call_progress(urc);
  // USSD is dom0's (the table): a network-initiated +CUSD names no persona. Status reports
  // (+CDS, +CDSI) name no persona we could check either; dropping is the safe side.
  return {};
}

std::vector<Delivery> UrcRouter::incoming_call(const at::ResponseLine& urc, PersonaIndex foreground,
                                               const IncomingContext& context) {
  // The routing decision is taken once per call, at its first code, so that a foreground
  // switch between two RINGs cannot move a ringing call to the other persona. With routes by
  // called line it waits for +CDIP (or the mediator's deadline, release_held).
  if (!state_.incoming_owner() && router_.uses_called_line() && !context.called_line) {
    if (held_.size() < kMaxHeld) held_.push_back(urc);
    return {};
  }
  const bool names_caller = (urc.name == "+CLIP" || urc.name == "+CCWA") && urc.fields_valid && !urc.fields.empty() &&
                            urc.fields[0].is_string();
  if (!releasing_ && state_.incoming_owner() && incoming_number_ && (urc.name == "RING" || urc.name == "+CRING")) {
    // A RING of the call routed before, or of a new one after it was abandoned without NO
    // CARRIER? The +CLIP that follows (dom0 keeps +CLIP on) tells; until then nobody hears it.
    if (held_.size() < kMaxHeld) held_.push_back(urc);
    return {};
  }
  if (state_.incoming_owner() && names_caller && incoming_number_ && *incoming_number_ != urc.fields[0].text) {
    // Another caller: the call routed before is gone (abandoned without NO CARRIER). This
    // one is routed on its own; its number must not reach the persona of the last one.
    state_.set_incoming_owner(std::nullopt);
    new_call_ = true;
  }
  if (!state_.incoming_owner()) {
    const PersonaIndex routed = router_.route(context, foreground);
    const std::optional<PersonaIndex> holder = state_.voice_holder();
    if (holder && *holder != routed) {
      // The other persona holds the voice channel: the routed persona's own modem would
      // ring, but answering would put the other's call on hold. The call waits unseen
      // (docs/security.md, the voice channel); neither persona is told.
      return {};
    }
    state_.set_incoming_owner(routed);
    incoming_audited_ = false;
    incoming_number_.reset();
  }
  const PersonaIndex owner = *state_.incoming_owner();
  if (names_caller && !incoming_number_) incoming_number_ = urc.fields[0].text;
  std::vector<Delivery> out;
  if (!releasing_ && names_caller && !held_.empty()) {
    // The held RINGs belong to this caller's call: its owner hears them first.
    for (const auto& line : std::exchange(held_, {})) out.push_back(Delivery{owner, line.raw});
  }
  if ((urc.name == "+CLIP" || urc.name == "+CCWA") && !incoming_audited_) {
    // The caller's number comes with the first +CLIP; the call is recorded then.
    const bool has_number = urc.fields_valid && !urc.fields.empty() && urc.fields[0].is_string();
    audit_.call(personas_[owner], CallDirection::kIncoming, has_number ? urc.fields[0].text : "");
    incoming_audited_ = true;
  }
  out.push_back(Delivery{owner, urc.raw});
  return out;
}

std::vector<Delivery> UrcRouter::called_line(const at::ResponseLine& urc, PersonaIndex foreground,
                                             const IncomingContext& context) {
  // +CDIP: <number>,<type>: which of the subscription's lines was called. Decides a call not
  // routed yet; never delivered itself (no persona asked for it, and it names a line).
  if (state_.incoming_owner()) return {};
  IncomingContext with_line = context;
  if (urc.fields_valid && !urc.fields.empty() && urc.fields[0].is_string()) with_line.called_line = urc.fields[0].text;
  if (!with_line.called_line) return {};
  if (held_.empty()) {
    // +CDIP before any RING: the call is routed now and its RINGs follow the decision.
    state_.set_incoming_owner(router_.route(with_line, foreground));
    incoming_audited_ = false;
    return {};
  }
  return release_held(foreground, with_line);
}

std::vector<Delivery> UrcRouter::release_held(PersonaIndex foreground, const IncomingContext& context) {
  std::vector<Delivery> out;
  if (held_.empty()) return out;
  if (!state_.incoming_owner()) {
    state_.set_incoming_owner(router_.route(context, foreground));
    incoming_audited_ = false;
  }
  const std::vector<at::ResponseLine> held = std::exchange(held_, {});
  releasing_ = true;
  for (const auto& line : held) {
    for (auto& d : incoming_call(line, foreground, context)) out.push_back(std::move(d));
  }
  releasing_ = false;
  return out;
}

std::vector<Delivery> UrcRouter::incoming_sms(const at::ResponseLine& urc, PersonaIndex foreground,
                                              const IncomingContext& context) {
  const PersonaIndex owner = router_.route(context, foreground);
  if (urc.name == "+CMT") {
    // Delivered directly, not stored: header and body go to the owner only.
    const bool has_number = urc.fields_valid && !urc.fields.empty() && urc.fields[0].is_string();
    audit_.sms(personas_[owner], CallDirection::kIncoming, has_number ? urc.fields[0].text : "");
    return {Delivery{owner, with_body(urc)}};
  }
  // +CMTI: <mem>,<index>. The stored message becomes the owner's, under its own index.
  if (!urc.fields_valid || urc.fields.size() != 2 || !urc.fields[1].is_number()) return {};
  const auto visible = state_.claim_message(owner, urc.fields[1].number);
  if (!visible) return {};
  audit_.sms(personas_[owner], CallDirection::kIncoming, "");
  auto fields = urc.fields;
  fields[1] = at::Parameter::of_number(*visible);
  return {Delivery{owner, format_response(urc.name, fields)}};
}

std::vector<Delivery> UrcRouter::call_progress(const at::ResponseLine& urc) const {
  // The remote end hung up, was busy or did not answer: only the persona holding the voice
  // channel has calls, so only it hears it.
  const std::optional<PersonaIndex> holder = state_.voice_holder();
  if (!holder) return {};
  return {Delivery{*holder, urc.raw}};
}

}  // namespace twofold::modem::mediator
