#pragma once
// Where unsolicited result codes go. Network status reaches every persona; an incoming
// call or SMS reaches only the persona the policy routes it to (the other is never told);
// call progress reaches the persona holding the voice channel; anything else (indicators,
// USSD, status reports, unknown codes) reaches nobody. A call routed to a persona while the
// other holds the voice channel reaches nobody (it waits unseen), so no persona learns from
// a RING or +CCWA that the other is in a call.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "twofold/modem/at/response.h"
#include "twofold/modem/mediator/audit_reporter.h"
#include "twofold/modem/mediator/state_filter.h"
#include "twofold/policy/policy.h"

namespace twofold::modem::mediator {

// What the modem tells about an incoming call or SMS that routes can match on.
struct IncomingContext {
  std::uint8_t sim_slot = 1;
  std::optional<std::string> called_line;  // known only on multi-line SIMs
};

// [modem] routes: the first route whose fields all match wins, else incoming_default.
class IncomingRouter {
 public:
  // `personas` are the names in PersonaIndex order. Throws std::invalid_argument for a
  // route naming an unknown persona (the policy checker refuses such a policy first).
  IncomingRouter(const policy::Modem& modem, const std::vector<std::string>& personas);
  PersonaIndex route(const IncomingContext& context, PersonaIndex foreground) const;
  // Some route matches on the called line: a call's routing waits for the modem to name it.
  bool uses_called_line() const noexcept { return uses_called_line_; }

 private:
  struct Target {
    bool foreground = false;
    PersonaIndex persona = 0;
  };
  struct Route {
    std::optional<std::uint8_t> sim_slot;
    std::optional<std::string> called_line;
    Target to;
  };
  static Target resolve(const policy::RouteTarget& target, const std::vector<std::string>& personas);

  std::vector<Route> routes_;
  Target default_;
  bool uses_called_line_ = false;
};

struct Delivery {
  PersonaIndex persona = 0;
  std::string text;  // the line(s) to send, without the surrounding "\r\n"
  bool operator==(const Delivery&) const = default;
};

class UrcRouter {
 public:
  UrcRouter(IncomingRouter router, StateFilter& state, AuditReporter& audit, std::vector<std::string> personas)
      : router_(std::move(router)), state_(state), audit_(audit), personas_(std::move(personas)) {}

  std::vector<Delivery> route(const at::ResponseLine& urc, PersonaIndex foreground,
                              const IncomingContext& context = {});
  // true once after a code that showed the ringing call to be a new one (another caller's
  // number): the mediator re-polls +CLCC.
  bool take_new_call() { return std::exchange(new_call_, false); }

  // A new call's first codes, held until +CDIP names the called line (only when a route
  // matches on it): nobody hears the call before it is routed.
  static constexpr std::size_t kMaxHeld = 8;
  bool holding() const noexcept { return !held_.empty(); }
  // Routes the held call with what is known now and returns its codes for the owner.
  std::vector<Delivery> release_held(PersonaIndex foreground, const IncomingContext& context);

 private:
  std::vector<Delivery> to_all(const std::string& text) const;
  std::vector<Delivery> incoming_call(const at::ResponseLine& urc, PersonaIndex foreground,
                                      const IncomingContext& context);
  std::vector<Delivery> incoming_sms(const at::ResponseLine& urc, PersonaIndex foreground,
                                     const IncomingContext& context);
  std::vector<Delivery> call_progress(const at::ResponseLine& urc) const;

  IncomingRouter router_;
  StateFilter& state_;
  AuditReporter& audit_;
  std::vector<std::string> personas_;
  std::vector<Delivery> called_line(const at::ResponseLine& urc, PersonaIndex foreground,
                                    const IncomingContext& context);

  std::optional<std::string> incoming_number_;  // the caller of the call routed last
  bool new_call_ = false;
  bool releasing_ = false;  // release_held() is delivering: nothing is held again
  std::vector<at::ResponseLine> held_;
  bool incoming_audited_ = false;
};

}  // namespace twofold::modem::mediator
