#include "twofold/manager/foreground.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>

namespace twofold::manager {
namespace {

const std::set<FocusHolder> kAllHolders{FocusHolder::Display, FocusHolder::Input, FocusHolder::ModemAudio};

ForegroundStateMachine make_machine() {
    return ForegroundStateMachine({"personal", "secure"}, "personal", kAllHolders);
}

template <typename T>
std::vector<T> only(const std::vector<Command>& commands) {
    std::vector<T> result;
    for (const auto& c : commands) {
        if (const auto* v = std::get_if<T>(&c)) {
            result.push_back(*v);
        }
    }
    return result;
}

bool ended(const std::vector<Command>& out, std::size_t from) {
    for (std::size_t i = from; i < out.size(); ++i) {
        if (std::holds_alternative<SwitchCommitted>(out[i]) || std::holds_alternative<SwitchAborted>(out[i])) return true;
    }
    return false;
}

// Acknowledges every phase of the switch (or rollback) in flight until it ends (a queued
// switch that starts then is left alone).
void ack_all(ForegroundStateMachine& m, std::vector<Command>& out) {
    const std::size_t from = out.size();
    for (int guard = 0; m.switching() && !ended(out, from) && guard < 16; ++guard) {
        const auto epoch = m.epoch();
        for (const auto h : kAllHolders) {
            if (m.epoch() == epoch) m.acknowledge(h, epoch, out);
        }
    }
}

// Acknowledges the current phase only.
void ack_phase(ForegroundStateMachine& m, std::vector<Command>& out) {
    const auto epoch = m.epoch();
    for (const auto h : kAllHolders) {
        if (m.epoch() == epoch) m.acknowledge(h, epoch, out);
    }
}

TEST(ForegroundStateMachine, ToggleFirstSendsInputToNobodyAndArmsTimeout) {
    auto m = make_machine();
    std::vector<Command> out;
    EXPECT_EQ(m.request({std::nullopt, SwitchSource::HardwareKey}, out), RequestOutcome::Started);
    const auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].holder, FocusHolder::Input);
    EXPECT_EQ(sends[0].persona, std::nullopt);
    EXPECT_EQ(sends[0].epoch, m.epoch());
    EXPECT_EQ(only<ArmTimeout>(out).size(), 1u);
    EXPECT_EQ(m.phase(), SwitchPhase::Detach);
    EXPECT_EQ(m.foreground(), "personal"); // not committed before the acks
}

TEST(ForegroundStateMachine, PhasesRunDetachThenPresentThenAttach) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    const auto detach_epoch = m.epoch();
    out.clear();
    // The display is not told anything before input has confirmed it routes to nobody.
    m.acknowledge(FocusHolder::Display, detach_epoch, out);
    m.acknowledge(FocusHolder::ModemAudio, detach_epoch, out);
    EXPECT_TRUE(out.empty());
    m.acknowledge(FocusHolder::Input, detach_epoch, out);
    auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].holder, FocusHolder::Display);
    EXPECT_EQ(sends[0].persona, std::optional<std::string>("secure"));
    EXPECT_GT(sends[0].epoch, detach_epoch);
    EXPECT_EQ(only<ArmTimeout>(out).size(), 1u);
    EXPECT_EQ(m.phase(), SwitchPhase::Present);
    out.clear();
    // Input is not given to secure before the display has confirmed presenting it.
    m.acknowledge(FocusHolder::Input, m.epoch(), out);
    EXPECT_TRUE(out.empty());
    m.acknowledge(FocusHolder::Display, m.epoch(), out);
    sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 2u);
    for (const auto& s : sends) {
        EXPECT_NE(s.holder, FocusHolder::Display);
        EXPECT_EQ(s.persona, std::optional<std::string>("secure"));
    }
    EXPECT_EQ(m.phase(), SwitchPhase::Attach);
    out.clear();
    m.acknowledge(FocusHolder::Input, m.epoch(), out);
    EXPECT_TRUE(only<SwitchCommitted>(out).empty());
    EXPECT_EQ(m.foreground(), "personal");
    m.acknowledge(FocusHolder::ModemAudio, m.epoch(), out);
    const auto commits = only<SwitchCommitted>(out);
    ASSERT_EQ(commits.size(), 1u);
    EXPECT_EQ(commits[0].from, "personal");
    EXPECT_EQ(commits[0].to, "secure");
    EXPECT_EQ(m.foreground(), "secure");
    EXPECT_FALSE(m.switching());
    EXPECT_FALSE(m.input_parked());
}

TEST(ForegroundStateMachine, InputRefusingNobodyRollsBackWithoutTouchingTheDisplay) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    out.clear();
    m.refuse(FocusHolder::Input, m.epoch(), "device busy", out);
    for (const auto& s : only<SendFocus>(out)) {
        EXPECT_NE(s.holder, FocusHolder::Display);
        EXPECT_EQ(s.persona, std::optional<std::string>("personal"));
    }
    ack_all(m, out);
    const auto aborts = only<SwitchAborted>(out);
    ASSERT_EQ(aborts.size(), 1u);
    EXPECT_EQ(aborts[0].kept, "personal");
    EXPECT_FALSE(aborts[0].input_parked);
    EXPECT_NE(aborts[0].reason.find("device busy"), std::string::npos);
    EXPECT_EQ(m.foreground(), "personal");
}

// A refusal means the order was not applied: the display still shows personal, so input goes
// back to personal at once, without another present.
TEST(ForegroundStateMachine, DisplayRefusalGivesInputBackWithoutAnotherPresent) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    ack_phase(m, out); // input -> nobody
    out.clear();
    m.refuse(FocusHolder::Display, m.epoch(), "no frame from secure", out);
    const auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 2u);
    for (const auto& s : sends) {
        EXPECT_NE(s.holder, FocusHolder::Display);
        EXPECT_EQ(s.persona, std::optional<std::string>("personal"));
    }
    ack_all(m, out);
    ASSERT_EQ(only<SwitchAborted>(out).size(), 1u);
    EXPECT_FALSE(m.input_parked());
    EXPECT_EQ(m.foreground(), "personal");
}

// A display that timed out may still apply secure later: the rollback has it confirm personal
// before input comes back.
TEST(ForegroundStateMachine, DisplayTimeoutPresentsTheOldPersonaBeforeInputReturns) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    ack_phase(m, out); // input -> nobody
    const auto present = m.epoch();
    out.clear();
    m.timeout(present, out);
    auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].holder, FocusHolder::Display);
    EXPECT_EQ(sends[0].persona, std::optional<std::string>("personal"));
    out.clear();
    m.acknowledge(FocusHolder::Display, present, out); // the late ack of secure: nothing moves
    EXPECT_TRUE(only<SendFocus>(out).empty());
    m.acknowledge(FocusHolder::Display, m.epoch(), out);
    sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 2u);
    for (const auto& s : sends) EXPECT_EQ(s.persona, std::optional<std::string>("personal"));
    ack_all(m, out);
    ASSERT_EQ(only<SwitchAborted>(out).size(), 1u);
    EXPECT_FALSE(m.input_parked());
    EXPECT_EQ(m.foreground(), "personal");
}

// A display ack that arrives after its timeout counts: the display is known to show secure, so
// input may not go back to personal before personal is presented again.
TEST(ForegroundStateMachine, LateDisplayAckKeepsInputFromTheOldPersona) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    ack_phase(m, out); // input -> nobody
    const auto present = m.epoch();
    m.timeout(present, out);
    m.timeout(m.epoch(), out); // the rollback's present times out too: parked
    ASSERT_TRUE(m.input_parked());
    out.clear();
    m.acknowledge(FocusHolder::Display, present, out); // it did present secure after all
    EXPECT_EQ(m.request({"personal", SwitchSource::Cli}, out), RequestOutcome::Started);
    const auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].holder, FocusHolder::Display);
    EXPECT_EQ(sends[0].persona, std::optional<std::string>("personal"));
}

TEST(ForegroundStateMachine, DisplayConfirmingNeitherPersonaLeavesInputParkedWithNobody) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    ack_phase(m, out); // input -> nobody, acknowledged
    m.timeout(m.epoch(), out); // the display never confirmed secure
    out.clear();
    m.timeout(m.epoch(), out); // nor personal
    EXPECT_TRUE(only<SendFocus>(out).empty()) << "input must not be given to anyone";
    const auto aborts = only<SwitchAborted>(out);
    ASSERT_EQ(aborts.size(), 1u);
    EXPECT_TRUE(aborts[0].input_parked);
    EXPECT_NE(aborts[0].reason.find("display (present)"), std::string::npos) << aborts[0].reason;
    EXPECT_TRUE(m.input_parked());
    EXPECT_FALSE(m.switching());
    EXPECT_EQ(m.foreground(), "personal");
    // A request for the recorded foreground is not "already there" while input is parked.
    out.clear();
    EXPECT_EQ(m.request({"personal", SwitchSource::Cli}, out), RequestOutcome::Started);
    ack_all(m, out);
    EXPECT_EQ(only<SwitchCommitted>(out).size(), 1u);
    EXPECT_FALSE(m.input_parked());
}

TEST(ForegroundStateMachine, ParkedInputIsRecoveredWhenTheDisplayBackendReturns) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    ack_phase(m, out);
    m.timeout(m.epoch(), out);
    m.timeout(m.epoch(), out);
    ASSERT_TRUE(m.input_parked());
    m.unregister_holder(FocusHolder::Display, out);
    out.clear();
    m.register_holder(FocusHolder::Display, out);
    ASSERT_TRUE(m.switching());
    // Input is known to be with nobody: the fresh display presents personal first.
    auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].holder, FocusHolder::Display);
    EXPECT_EQ(sends[0].persona, std::optional<std::string>("personal"));
    out.clear();
    m.acknowledge(FocusHolder::Display, m.epoch(), out);
    sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 2u);
    EXPECT_EQ(sends[0].holder, FocusHolder::Input);
    ack_all(m, out);
    const auto commits = only<SwitchCommitted>(out);
    ASSERT_EQ(commits.size(), 1u);
    EXPECT_EQ(commits[0].source, SwitchSource::Recovery);
    EXPECT_EQ(m.foreground(), "personal");
    EXPECT_FALSE(m.input_parked());
}

TEST(ForegroundStateMachine, AttachFailureDetachesInputBeforeTheDisplayGoesBack) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    ack_phase(m, out); // detach
    ack_phase(m, out); // present
    ASSERT_EQ(m.phase(), SwitchPhase::Attach);
    m.acknowledge(FocusHolder::Input, m.epoch(), out);
    out.clear();
    m.refuse(FocusHolder::ModemAudio, m.epoch(), "line busy", out);
    auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].holder, FocusHolder::Input);
    EXPECT_EQ(sends[0].persona, std::nullopt);
    out.clear();
    ack_phase(m, out);
    sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].holder, FocusHolder::Display);
    EXPECT_EQ(sends[0].persona, std::optional<std::string>("personal"));
    ack_all(m, out);
    EXPECT_EQ(m.foreground(), "personal");
    EXPECT_EQ(only<SwitchAborted>(out).size(), 1u);
}

TEST(ForegroundStateMachine, TimeoutRollsBackAndNamesTheSilentHolder) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    ack_phase(m, out);
    ack_phase(m, out);
    m.acknowledge(FocusHolder::ModemAudio, m.epoch(), out);
    m.timeout(m.epoch(), out);
    out.clear();
    ack_all(m, out);
    const auto aborts = only<SwitchAborted>(out);
    ASSERT_EQ(aborts.size(), 1u);
    EXPECT_NE(aborts[0].reason.find("input (attach)"), std::string::npos) << aborts[0].reason;
    EXPECT_EQ(m.foreground(), "personal");
}

TEST(ForegroundStateMachine, LateAckOfOldEpochIsIgnored) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    const auto old_epoch = m.epoch();
    m.timeout(old_epoch, out); // rollback starts with a new epoch
    out.clear();
    for (const auto h : kAllHolders) {
        m.acknowledge(h, old_epoch, out);
    }
    EXPECT_TRUE(out.empty());
    EXPECT_TRUE(m.switching());
}

TEST(ForegroundStateMachine, RequestDuringSwitchIsQueuedAndRunAfterCommit) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    EXPECT_EQ(m.request({"personal", SwitchSource::HardwareKey}, out), RequestOutcome::Queued);
    out.clear();
    ack_all(m, out);
    EXPECT_EQ(only<SwitchCommitted>(out).size(), 1u);
    EXPECT_EQ(m.foreground(), "secure");
    const auto sends = only<SendFocus>(out);
    ASSERT_FALSE(sends.empty());
    EXPECT_EQ(sends.back().holder, FocusHolder::Input); // the queued switch's detach phase
    EXPECT_EQ(sends.back().persona, std::nullopt);
    EXPECT_TRUE(m.switching());
    out.clear();
    ack_all(m, out);
    EXPECT_EQ(m.foreground(), "personal");
}

TEST(ForegroundStateMachine, TwoTogglesDuringSwitchCancelEachOther) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({std::nullopt, SwitchSource::HardwareKey}, out); // -> secure
    EXPECT_EQ(m.request({std::nullopt, SwitchSource::HardwareKey}, out), RequestOutcome::Queued); // -> personal
    EXPECT_EQ(m.queued(), std::optional<std::string>("personal"));
    m.request({std::nullopt, SwitchSource::HardwareKey}, out); // back to secure: nothing queued
    EXPECT_FALSE(m.queued().has_value());
    out.clear();
    ack_all(m, out);
    EXPECT_EQ(m.foreground(), "secure");
    EXPECT_FALSE(m.switching());
}

TEST(ForegroundStateMachine, SwitchToCurrentForegroundIsAlreadyThere) {
    auto m = make_machine();
    std::vector<Command> out;
    EXPECT_EQ(m.request({"personal", SwitchSource::Cli}, out), RequestOutcome::AlreadyThere);
    EXPECT_TRUE(out.empty());
}

TEST(ForegroundStateMachine, UnknownPersonaIsRejectedWithoutSideEffects) {
    auto m = make_machine();
    std::vector<Command> out;
    EXPECT_EQ(m.request({"work", SwitchSource::Cli}, out), RequestOutcome::UnknownPersona);
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(m.switching());
}

TEST(ForegroundStateMachine, ConstructorRejectsInitialPersonaOutsideTheTwo) {
    EXPECT_THROW(ForegroundStateMachine({"personal", "secure"}, "other", kAllHolders), std::invalid_argument);
    EXPECT_THROW(ForegroundStateMachine({"same", "same"}, "same", kAllHolders), std::invalid_argument);
}

} // namespace
} // namespace twofold::manager

namespace twofold::manager {
namespace {

TEST(ForegroundStateMachine, WithoutHoldersSwitchCommitsAtOnce) {
    ForegroundStateMachine m({"personal", "secure"}, "personal", {});
    std::vector<Command> out;
    EXPECT_EQ(m.request({std::nullopt, SwitchSource::Cli}, out), RequestOutcome::Started);
    EXPECT_EQ(m.foreground(), "secure");
    EXPECT_FALSE(m.switching());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<SwitchCommitted>(out[0]));
}


TEST(ForegroundStateMachine, RegisteredHolderIsToldTheForegroundWhenIdle) {
    ForegroundStateMachine m({"personal", "secure"}, "secure", {});
    std::vector<Command> out;
    m.register_holder(FocusHolder::Display, out);
    const auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].holder, FocusHolder::Display);
    EXPECT_EQ(sends[0].persona, "secure");
    EXPECT_FALSE(m.switching());
}

TEST(ForegroundStateMachine, SwitchWaitsForAHolderRegisteredBeforeIt) {
    ForegroundStateMachine m({"personal", "secure"}, "personal", {});
    std::vector<Command> out;
    m.register_holder(FocusHolder::Input, out);
    out.clear();
    m.request({"secure", SwitchSource::Cli}, out);
    EXPECT_TRUE(only<SwitchCommitted>(out).empty());
    m.acknowledge(FocusHolder::Input, m.epoch(), out); // detach; no display: attach follows
    EXPECT_TRUE(only<SwitchCommitted>(out).empty());
    m.acknowledge(FocusHolder::Input, m.epoch(), out);
    EXPECT_EQ(only<SwitchCommitted>(out).size(), 1u);
    EXPECT_EQ(m.foreground(), "secure");
}

TEST(ForegroundStateMachine, InputRegisteredMidSwitchGetsNobodyUntilTheAttachPhase) {
    ForegroundStateMachine m({"personal", "secure"}, "personal", {FocusHolder::Display});
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    ASSERT_EQ(m.phase(), SwitchPhase::Present);
    out.clear();
    m.register_holder(FocusHolder::Input, out);
    auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].persona, std::nullopt);
    EXPECT_EQ(sends[0].epoch, m.epoch());
    out.clear();
    m.acknowledge(FocusHolder::Display, m.epoch(), out);
    sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].holder, FocusHolder::Input);
    EXPECT_EQ(sends[0].persona, std::optional<std::string>("secure"));
    EXPECT_TRUE(only<SwitchCommitted>(out).empty()); // input has not acknowledged yet
    m.acknowledge(FocusHolder::Input, m.epoch(), out);
    EXPECT_EQ(only<SwitchCommitted>(out).size(), 1u);
}

// While input is being detached it may still reach either persona: a display that joins
// then is told nothing until the present phase.
TEST(ForegroundStateMachine, DisplayRegisteredDuringDetachIsToldNothingUntilThePresentPhase) {
    ForegroundStateMachine m({"personal", "secure"}, "personal", {FocusHolder::Input});
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    out.clear();
    m.register_holder(FocusHolder::Display, out);
    EXPECT_TRUE(only<SendFocus>(out).empty());
    m.acknowledge(FocusHolder::Input, m.epoch(), out);
    const auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].holder, FocusHolder::Display);
    EXPECT_EQ(sends[0].persona, std::optional<std::string>("secure"));
    ack_all(m, out);
    EXPECT_EQ(m.foreground(), "secure");
}

TEST(ForegroundStateMachine, HolderDyingMidSwitchRollsTheOthersBack) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    ack_phase(m, out);
    ack_phase(m, out);
    ASSERT_EQ(m.phase(), SwitchPhase::Attach);
    m.acknowledge(FocusHolder::ModemAudio, m.epoch(), out);
    out.clear();
    m.unregister_holder(FocusHolder::Input, out);
    ack_all(m, out);
    const auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 2u); // display and modem audio move back; the dead input is not asked
    for (const auto& s : sends) {
        EXPECT_EQ(s.persona, std::optional<std::string>("personal"));
        EXPECT_NE(s.holder, FocusHolder::Input);
    }
    EXPECT_EQ(sends[0].holder, FocusHolder::Display);
    const auto aborts = only<SwitchAborted>(out);
    ASSERT_EQ(aborts.size(), 1u);
    EXPECT_EQ(aborts[0].kept, "personal");
    EXPECT_NE(aborts[0].reason.find("input backend died"), std::string::npos);
    EXPECT_FALSE(m.switching());
}

TEST(ForegroundStateMachine, HolderDyingAfterItsAckDoesNotAbortTheSwitch) {
    ForegroundStateMachine m({"personal", "secure"}, "personal", {FocusHolder::Display, FocusHolder::Input});
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    m.acknowledge(FocusHolder::Input, m.epoch(), out);
    out.clear();
    m.unregister_holder(FocusHolder::Input, out);
    EXPECT_TRUE(out.empty());
    m.acknowledge(FocusHolder::Display, m.epoch(), out);
    EXPECT_EQ(only<SwitchCommitted>(out).size(), 1u);
}

TEST(ForegroundStateMachine, LastHolderDyingMidSwitchEndsItAtOnce) {
    ForegroundStateMachine m({"personal", "secure"}, "personal", {FocusHolder::Display});
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    out.clear();
    m.unregister_holder(FocusHolder::Display, out);
    ASSERT_EQ(only<SwitchAborted>(out).size(), 1u);
    EXPECT_TRUE(only<ArmTimeout>(out).empty());
    EXPECT_FALSE(m.switching());
    EXPECT_EQ(m.foreground(), "personal");
}

TEST(ForegroundStateMachine, HolderDyingDuringRollbackEndsTheRollbackWithoutIt) {
    ForegroundStateMachine m({"personal", "secure"}, "personal", {FocusHolder::Display, FocusHolder::Input});
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    m.refuse(FocusHolder::Display, m.epoch(), "no frame", out);
    m.acknowledge(FocusHolder::Display, m.epoch(), out);
    out.clear();
    m.unregister_holder(FocusHolder::Input, out);
    ASSERT_EQ(only<SwitchAborted>(out).size(), 1u);
    EXPECT_FALSE(m.switching());
}

} // namespace
} // namespace twofold::manager

// The switch at its every instant: three fake holders that apply their orders in the order they
// were sent (as the backends do over their focus links), answer with acks, refusals or not at
// all, die and come back, while switches are requested and timeouts fire, in random order. After
// every step: no persona receives input while the display may show the other persona.
namespace twofold::manager {
namespace {

class FakeDevice {
public:
    explicit FakeDevice(ForegroundStateMachine& m) : m_(m) {
        for (const auto h : kAllHolders) alive_.insert(h);
    }

    void run(std::vector<Command>& out) {
        for (const auto& c : out) {
            if (const auto* send = std::get_if<SendFocus>(&c); send != nullptr && alive_.count(send->holder) != 0) {
                note(std::string("order ") + to_string(send->holder) + " " + send->persona.value_or("nobody") + " @" +
                     std::to_string(send->epoch));
                queue_[send->holder].push_back(*send);
            }
            if (const auto* a = std::get_if<SwitchAborted>(&c)) note("aborted: " + a->reason);
            if (const auto* d = std::get_if<SwitchCommitted>(&c)) note("committed " + d->to + " @" + std::to_string(d->epoch));
        }
        out.clear();
    }

    // A backend applies its orders in order and answers each in that order (vmm/focus); an
    // answer can be late (after the manager's timeout), and a hung backend stops answering.
    enum class Answer {
        Ack,    // applies the oldest order and answers it (with any late answers before it)
        Refuse, // does not apply it and says so (likewise in order)
        Slow,   // applies it; the answer is held back (arrives with the next answer or Deliver)
        Hang,   // applies it and stops: no more orders applied or answered until it dies
    };
    void answer(FocusHolder h, Answer how) {
        auto& q = queue_[h];
        if (alive_.count(h) == 0 || hung_.count(h) != 0 || q.empty()) return;
        const SendFocus order = q.front();
        q.pop_front();
        static constexpr const char* kHow[] = {"acks", "refuses", "applies, answers late", "applies and hangs"};
        note(std::string(to_string(h)) + " " + kHow[static_cast<int>(how)] + " " + order.persona.value_or("nobody") + " @" +
             std::to_string(order.epoch));
        if (how != Answer::Refuse) apply(order);
        if (how == Answer::Hang) {
            hung_.insert(h);
            return;
        }
        outbox_[h].push_back({order.epoch, how != Answer::Refuse});
        if (how != Answer::Slow) {
            while (!outbox_[h].empty()) deliver(h);
        }
    }
    // The oldest held-back answer of `h` reaches the manager.
    void deliver(FocusHolder h) {
        auto& box = outbox_[h];
        if (alive_.count(h) == 0 || hung_.count(h) != 0 || box.empty()) return;
        const auto [epoch, ack] = box.front();
        box.pop_front();
        std::vector<Command> out;
        if (ack) {
            m_.acknowledge(h, epoch, out);
        } else {
            m_.refuse(h, epoch, "fake refusal", out);
        }
        run(out);
    }
    [[nodiscard]] bool hung(FocusHolder h) const { return hung_.count(h) != 0; }
    void kill(FocusHolder h) {
        if (alive_.erase(h) == 0) return;
        note(std::string(to_string(h)) + " dies");
        queue_[h].clear();
        outbox_[h].clear();
        hung_.erase(h);
        forget(h); // a dead display shows nothing; a dead input backend routes to nobody
        std::vector<Command> out;
        m_.unregister_holder(h, out);
        run(out);
    }
    void revive(FocusHolder h) {
        if (!alive_.insert(h).second) return;
        note(std::string(to_string(h)) + " restarts");
        forget(h); // a fresh backend shows / routes nothing until its first order
        std::vector<Command> out;
        m_.register_holder(h, out);
        run(out);
    }
    [[nodiscard]] bool has_orders() const {
        for (const auto& [h, q] : queue_) {
            if (!q.empty()) return true;
        }
        for (const auto& [h, box] : outbox_) {
            if (!box.empty()) return true;
        }
        return false;
    }
    [[nodiscard]] bool safe() const { return !routes_ || !shows_ || *routes_ == *shows_; }
    [[nodiscard]] std::string describe() const {
        return "display shows " + shows_.value_or("(nothing)") + ", input routes to " + routes_.value_or("nobody");
    }
    [[nodiscard]] const std::optional<std::string>& shows() const { return shows_; }
    // The last steps, for the failure message.
    void note(std::string what) {
        trace_.push_back(std::move(what));
        if (trace_.size() > 40) trace_.pop_front();
    }
    [[nodiscard]] std::string trace() const {
        std::string all;
        for (const auto& t : trace_) all += "\n  " + t;
        return all;
    }
    [[nodiscard]] const std::optional<std::string>& routes() const { return routes_; }

private:
    void apply(const SendFocus& order) {
        if (order.holder == FocusHolder::Display) shows_ = order.persona;
        if (order.holder == FocusHolder::Input) routes_ = order.persona;
    }
    void forget(FocusHolder h) {
        if (h == FocusHolder::Display) shows_.reset();
        if (h == FocusHolder::Input) routes_.reset();
    }

    ForegroundStateMachine& m_;
    std::set<FocusHolder> alive_;
    std::map<FocusHolder, std::deque<SendFocus>> queue_;
    std::optional<std::string> shows_ = std::string("personal");
    std::optional<std::string> routes_ = std::string("personal");
    std::deque<std::string> trace_;
    std::map<FocusHolder, std::deque<std::pair<std::uint64_t, bool>>> outbox_; // epoch, ack?
    std::set<FocusHolder> hung_;
};

TEST(ForegroundStateMachine, NoInputReachesAPersonaWhileTheOtherMayBeOnScreenAtAnyInstant) {
    const std::vector<FocusHolder> holders(kAllHolders.begin(), kAllHolders.end());
    std::size_t switches_committed = 0;
    std::size_t parked_seen = 0;
    for (unsigned seed = 1; seed <= 200; ++seed) {
        std::mt19937 rng(seed);
        ForegroundStateMachine m({"personal", "secure"}, "personal", kAllHolders);
        FakeDevice device(m);
        const auto pick = [&](unsigned n) { return std::uniform_int_distribution<unsigned>(0, n - 1)(rng); };
        for (int step = 0; step < 3000; ++step) {
            std::vector<Command> out;
            const unsigned action = pick(100);
            const FocusHolder h = holders[pick(3)];
            if (action < 10) {
                const unsigned t = pick(3);
                device.note(std::string("request ") + (t == 0 ? "toggle" : t == 1 ? "personal" : "secure"));
                m.request({t == 0 ? std::nullopt : std::optional<std::string>(t == 1 ? "personal" : "secure"),
                           SwitchSource::Cli},
                          out);
            } else if (action < 66) {
                device.answer(h, FakeDevice::Answer::Ack);
            } else if (action < 72) {
                device.answer(h, FakeDevice::Answer::Refuse);
            } else if (action < 78) {
                device.answer(h, FakeDevice::Answer::Slow);
            } else if (action < 80) {
                device.answer(h, FakeDevice::Answer::Hang);
            } else if (action < 85) {
                device.deliver(h);
            } else if (action < 92) {
                device.note("timeout @" + std::to_string(m.epoch()));
                m.timeout(m.epoch(), out);
            } else if (action < 96) {
                device.kill(h);
            } else {
                device.revive(h);
            }
            for (const auto& c : out) {
                switches_committed += std::holds_alternative<SwitchCommitted>(c) ? 1 : 0;
            }
            device.run(out);
            parked_seen += m.input_parked() ? 1 : 0;
            ASSERT_TRUE(device.safe()) << "seed " << seed << " step " << step << ": " << device.describe()
                                       << "; last steps:" << device.trace();
        }
        // Liveness: with every backend back and answering, a switch completes and input is no
        // longer parked.
        for (const auto x : holders) {
            if (device.hung(x)) device.kill(x); // the supervisor's restart of a hung backend
            device.revive(x);
        }
        for (int guard = 0; guard < 200 && (m.switching() || device.has_orders()); ++guard) {
            for (const auto x : holders) {
                device.answer(x, FakeDevice::Answer::Ack);
                device.deliver(x); // late answers held back in the walk
            }
            if (!device.has_orders() && m.switching()) {
                std::vector<Command> out;
                m.timeout(m.epoch(), out); // an order lost by a backend that died meanwhile
                device.run(out);
            }
            ASSERT_TRUE(device.safe()) << "seed " << seed << " drain: " << device.describe() << device.trace();
        }
        std::vector<Command> out;
        const std::string target = m.foreground() == "personal" ? "secure" : "personal";
        m.request({target, SwitchSource::Cli}, out);
        device.run(out);
        for (int guard = 0; guard < 20 && m.switching(); ++guard) {
            for (const auto x : holders) device.answer(x, FakeDevice::Answer::Ack);
            ASSERT_TRUE(device.safe());
        }
        EXPECT_EQ(m.foreground(), target) << "seed " << seed << device.trace();
        EXPECT_FALSE(m.input_parked()) << "seed " << seed;
        EXPECT_EQ(device.shows(), std::optional<std::string>(target));
        EXPECT_EQ(device.routes(), std::optional<std::string>(target));
    }
    // The walk did reach the interesting states (not a test that cannot fail).
    EXPECT_GT(switches_committed, 100u);
    EXPECT_GT(parked_seen, 0u);
}

} // namespace
} // namespace twofold::manager

// dom0's PIN prompt is a third place: reached and left by the same three phases.
namespace twofold::manager {
namespace {

const std::string kPrompt(kPinPromptPlace);

TEST(ForegroundPrompt, OpeningThePromptDetachesInputThenShowsItThenGivesItInput) {
    auto m = make_machine();
    std::vector<Command> out;
    EXPECT_EQ(m.request_prompt(SwitchSource::HardwareKey, out), RequestOutcome::Started);
    auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].holder, FocusHolder::Input);
    EXPECT_EQ(sends[0].persona, std::nullopt);
    ack_phase(m, out);
    sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 2u);
    EXPECT_EQ(sends[1].holder, FocusHolder::Display);
    EXPECT_EQ(sends[1].persona, kPrompt);
    EXPECT_FALSE(m.input_may_be_at_prompt()) << "input is told only after the display shows the prompt";
    ack_phase(m, out);
    sends = only<SendFocus>(out);
    ASSERT_GE(sends.size(), 3u); // input, and modem audio told it stays with personal
    const auto to_input = std::find_if(sends.begin() + 2, sends.end(), [](const SendFocus& s) { return s.holder == FocusHolder::Input; });
    ASSERT_NE(to_input, sends.end());
    EXPECT_EQ(to_input->persona, kPrompt);
    EXPECT_TRUE(m.input_may_be_at_prompt());
    ack_phase(m, out);
    EXPECT_TRUE(m.at_prompt());
    EXPECT_EQ(m.foreground(), "personal") << "the prompt is not a persona";
    const auto commits = only<SwitchCommitted>(out);
    ASSERT_EQ(commits.size(), 1u);
    EXPECT_EQ(commits[0].to, kPrompt);
    for (const auto& s : only<SendFocus>(out)) {
        EXPECT_FALSE(s.holder == FocusHolder::ModemAudio && s.persona == kPrompt) << "calls never follow the prompt";
    }
}

TEST(ForegroundPrompt, TheSwitchKeyAtThePromptGoesBackToWhereItWasOpened) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request_prompt(SwitchSource::HardwareKey, out);
    ack_all(m, out);
    ASSERT_TRUE(m.at_prompt());
    EXPECT_EQ(m.toggle_target(), "personal");
    EXPECT_EQ(m.request({std::nullopt, SwitchSource::HardwareKey}, out), RequestOutcome::Started);
    ack_all(m, out);
    EXPECT_FALSE(m.at_prompt());
    EXPECT_EQ(m.foreground(), "personal");
    EXPECT_EQ(only<SwitchCommitted>(out).back().from, kPrompt);
    EXPECT_FALSE(m.input_may_be_at_prompt());
}

TEST(ForegroundPrompt, FromThePromptToTheUnlockedPersonaTheDisplayPresentsBeforeInputMoves) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request_prompt(SwitchSource::Cli, out);
    ack_all(m, out);
    out.clear();
    EXPECT_EQ(m.request({"secure", SwitchSource::PinPrompt}, out), RequestOutcome::Started);
    ack_all(m, out);
    const auto sends = only<SendFocus>(out);
    ASSERT_GE(sends.size(), 3u);
    EXPECT_EQ(sends[0].holder, FocusHolder::Input);
    EXPECT_EQ(sends[0].persona, std::nullopt) << "out of the prompt first";
    EXPECT_EQ(sends[1].holder, FocusHolder::Display);
    EXPECT_EQ(sends[1].persona, "secure");
    EXPECT_EQ(m.foreground(), "secure");
    EXPECT_FALSE(m.at_prompt());
}

TEST(ForegroundPrompt, ARefusedPromptRollsBackToThePersona) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request_prompt(SwitchSource::Cli, out);
    ack_phase(m, out); // input with nobody
    m.refuse(FocusHolder::Display, m.epoch(), "no", out);
    ack_all(m, out);
    EXPECT_FALSE(m.at_prompt());
    EXPECT_EQ(m.foreground(), "personal");
    EXPECT_EQ(only<SwitchAborted>(out).size(), 1u);
    EXPECT_EQ(only<SendFocus>(out).back().persona, "personal");
}

TEST(ForegroundPrompt, OpeningItTwiceIsAlreadyThere) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request_prompt(SwitchSource::Cli, out);
    ack_all(m, out);
    EXPECT_EQ(m.request_prompt(SwitchSource::Cli, out), RequestOutcome::AlreadyThere);
}

TEST(ForegroundPrompt, ARestartedInputBackendAtThePromptIsToldThePromptAgain) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request_prompt(SwitchSource::Cli, out);
    ack_all(m, out);
    m.unregister_holder(FocusHolder::Input, out);
    out.clear();
    m.register_holder(FocusHolder::Input, out);
    const auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].persona, kPrompt);
}

} // namespace
} // namespace twofold::manager
