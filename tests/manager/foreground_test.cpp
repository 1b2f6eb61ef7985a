#include "twofold/manager/foreground.h"

#include <gtest/gtest.h>

#include <algorithm>

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

void ack_all(ForegroundStateMachine& m, std::vector<Command>& out) {
    const auto epoch = m.epoch();
    for (const auto h : kAllHolders) {
        m.acknowledge(h, epoch, out);
    }
}

TEST(ForegroundStateMachine, ToggleSendsFocusToEveryHolderAndArmsTimeout) {
    auto m = make_machine();
    std::vector<Command> out;
    EXPECT_EQ(m.request({std::nullopt, SwitchSource::HardwareKey}, out), RequestOutcome::Started);
    const auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 3u);
    for (const auto& s : sends) {
        EXPECT_EQ(s.persona, "secure");
        EXPECT_EQ(s.epoch, m.epoch());
    }
    EXPECT_EQ(only<ArmTimeout>(out).size(), 1u);
    EXPECT_EQ(m.foreground(), "personal"); // not committed before the acks
}

TEST(ForegroundStateMachine, CommitsOnlyWhenAllHoldersAcknowledged) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    out.clear();
    m.acknowledge(FocusHolder::Display, m.epoch(), out);
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
}

TEST(ForegroundStateMachine, RefusalRollsEveryHolderBackToOldPersona) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    const auto first_epoch = m.epoch();
    m.acknowledge(FocusHolder::Display, first_epoch, out);
    out.clear();
    m.refuse(FocusHolder::Input, first_epoch, "device busy", out);
    const auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 3u);
    EXPECT_TRUE(std::all_of(sends.begin(), sends.end(), [](const SendFocus& s) { return s.persona == "personal"; }));
    out.clear();
    ack_all(m, out);
    const auto aborts = only<SwitchAborted>(out);
    ASSERT_EQ(aborts.size(), 1u);
    EXPECT_EQ(aborts[0].kept, "personal");
    EXPECT_NE(aborts[0].reason.find("device busy"), std::string::npos);
    EXPECT_EQ(m.foreground(), "personal");
}

TEST(ForegroundStateMachine, TimeoutRollsBackAndNamesTheSilentHolder) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    m.acknowledge(FocusHolder::Display, m.epoch(), out);
    m.acknowledge(FocusHolder::ModemAudio, m.epoch(), out);
    m.timeout(m.epoch(), out);
    out.clear();
    ack_all(m, out);
    const auto aborts = only<SwitchAborted>(out);
    ASSERT_EQ(aborts.size(), 1u);
    EXPECT_NE(aborts[0].reason.find("input"), std::string::npos);
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
    ASSERT_EQ(sends.size(), 3u);
    EXPECT_EQ(sends[0].persona, "personal");
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
    m.acknowledge(FocusHolder::Input, m.epoch(), out);
    EXPECT_EQ(only<SwitchCommitted>(out).size(), 1u);
    EXPECT_EQ(m.foreground(), "secure");
}

TEST(ForegroundStateMachine, HolderRegisteredMidSwitchIsSentTheTargetAndAwaited) {
    ForegroundStateMachine m({"personal", "secure"}, "personal", {FocusHolder::Display});
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    out.clear();
    m.register_holder(FocusHolder::Input, out);
    const auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].persona, "secure");
    EXPECT_EQ(sends[0].epoch, m.epoch());
    m.acknowledge(FocusHolder::Display, m.epoch(), out);
    EXPECT_TRUE(only<SwitchCommitted>(out).empty()); // input has not acknowledged yet
    m.acknowledge(FocusHolder::Input, m.epoch(), out);
    EXPECT_EQ(only<SwitchCommitted>(out).size(), 1u);
}

TEST(ForegroundStateMachine, HolderDyingMidSwitchRollsTheOthersBack) {
    auto m = make_machine();
    std::vector<Command> out;
    m.request({"secure", SwitchSource::Cli}, out);
    m.acknowledge(FocusHolder::Display, m.epoch(), out);
    out.clear();
    m.unregister_holder(FocusHolder::Input, out);
    const auto sends = only<SendFocus>(out);
    ASSERT_EQ(sends.size(), 2u); // display and modem audio move back; the dead input is not asked
    for (const auto& s : sends) {
        EXPECT_EQ(s.persona, "personal");
        EXPECT_NE(s.holder, FocusHolder::Input);
    }
    m.acknowledge(FocusHolder::Display, m.epoch(), out);
    m.acknowledge(FocusHolder::ModemAudio, m.epoch(), out);
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
