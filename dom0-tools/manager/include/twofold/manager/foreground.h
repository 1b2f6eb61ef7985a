#pragma once
// The foreground state machine: exactly one persona is in the foreground, and a switch moves
// display, input and modem audio focus together or not at all. The machine is pure: it is
// fed requests, acknowledgements and timeouts, and answers with the commands to send. The
// manager's event loop does the I/O and the timing.
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace twofold::manager {

// The parts of the device whose focus follows the foreground persona. Each is served by a
// backend that must acknowledge a switch before it counts as done.
enum class FocusHolder : std::uint8_t { Display, Input, ModemAudio };

enum class SwitchSource : std::uint8_t { HardwareKey, Cli, Recovery };

struct SwitchRequest {
    std::optional<std::string> target; // nullopt: toggle to the other persona
    SwitchSource source{SwitchSource::Cli};
};

// Commands the machine asks the manager to carry out.
struct SendFocus {
    FocusHolder holder;
    std::string persona;
    std::uint64_t epoch; // acks carry it back, so a late ack of an old switch is ignored
};
struct ArmTimeout {
    std::uint64_t epoch;
};
struct SwitchCommitted {
    std::string from;
    std::string to;
    std::uint64_t epoch;
    SwitchSource source;
};
struct SwitchAborted {
    std::string kept; // the persona that stays in the foreground
    std::string wanted;
    std::uint64_t epoch;
    std::string reason;
};
using Command = std::variant<SendFocus, ArmTimeout, SwitchCommitted, SwitchAborted>;

enum class RequestOutcome : std::uint8_t {
    Started,        // a switch is now in flight
    Queued,         // a switch is in flight; this one runs when it ends (replaces older queued)
    AlreadyThere,   // the target already is (or is becoming) the foreground
    UnknownPersona, // the request names no persona of the policy
};

class ForegroundStateMachine {
public:
    // personas: exactly two distinct names; initial: one of them. With no holders (no
    // backend configured) a switch commits at once.
    ForegroundStateMachine(std::vector<std::string> personas, std::string initial,
                           std::set<FocusHolder> holders);

    [[nodiscard]] const std::string& foreground() const noexcept { return foreground_; }
    [[nodiscard]] bool switching() const noexcept { return in_flight_.has_value(); }
    [[nodiscard]] std::optional<std::string> switching_to() const;
    [[nodiscard]] std::optional<std::string> queued() const { return queued_; }
    [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_; }

    RequestOutcome request(const SwitchRequest& req, std::vector<Command>& out);
    // A backend confirms it presents / routes to `persona` for `epoch`.
    void acknowledge(FocusHolder holder, std::uint64_t epoch, std::vector<Command>& out);
    // A backend refused or failed: the whole switch is rolled back.
    void refuse(FocusHolder holder, std::uint64_t epoch, const std::string& reason, std::vector<Command>& out);
    void timeout(std::uint64_t epoch, std::vector<Command>& out);

    // A backend (re)started and announced `holder`. It is told where the device is (or is
    // going): the foreground, or the persona of the switch in flight, which then also waits for
    // it — a holder that joins mid-switch must not be left on the other persona.
    void register_holder(FocusHolder holder, std::vector<Command>& out);
    // The backend serving `holder` died. No switch may wait for it: a switch still awaiting it
    // is aborted and rolled back on the remaining holders (together or not at all; the restarted
    // backend is told the foreground when it registers again). A rollback in progress simply
    // stops waiting for it.
    void unregister_holder(FocusHolder holder, std::vector<Command>& out);
    [[nodiscard]] const std::set<FocusHolder>& holders() const noexcept { return holders_; }

private:
    struct InFlight {
        std::string from;
        std::string to;
        std::uint64_t epoch;
        SwitchSource source;
        std::set<FocusHolder> awaiting;
        bool rolling_back = false;
        std::string abort_reason;
    };

    [[nodiscard]] bool known(const std::string& persona) const;
    [[nodiscard]] const std::string& other_than(const std::string& persona) const;
    void start(const std::string& to, SwitchSource source, std::vector<Command>& out);
    void abort(const std::string& reason, std::vector<Command>& out);
    void finish(std::vector<Command>& out);
    void start_queued(std::vector<Command>& out);

    std::vector<std::string> personas_;
    std::set<FocusHolder> holders_;
    std::string foreground_;
    std::optional<InFlight> in_flight_;
    std::optional<std::string> queued_;
    SwitchSource queued_source_{SwitchSource::Cli};
    std::uint64_t epoch_ = 0;
};

[[nodiscard]] const char* to_string(FocusHolder holder) noexcept;
[[nodiscard]] const char* to_string(SwitchSource source) noexcept;

} // namespace twofold::manager
