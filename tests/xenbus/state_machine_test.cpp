#include "twofold/xenbus/state_machine.h"

#include <array>
#include <optional>
#include <vector>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace twofold::xenbus {
namespace {

using S = XenbusState;

Step make_step(bool unbind, std::optional<S> write, bool bind = false, bool teardown = false) {
    Step step;
    step.unbind = unbind;
    step.write_backend = write;
    step.bind = bind;
    step.teardown = teardown;
    return step;
}

// Drives a fresh machine into the given backend state through its public inputs.
XenbusStateMachine machine_in(S backend) {
    XenbusStateMachine machine;
    if (backend == S::Initialising) return machine;
    (void)machine.on_device_event(DeviceEvent::Start);
    switch (backend) {
    case S::Connected:
        (void)machine.on_frontend_state(S::Initialised, true);
        (void)machine.on_device_event(DeviceEvent::BindSucceeded);
        break;
    case S::Closing: (void)machine.on_frontend_state(S::Closing, true); break;
    case S::Closed: (void)machine.on_frontend_state(S::Closed, true); break;
    default: break;
    }
    return machine;
}

TEST(XenbusStateMachineSetup, ReachesEveryBackendState) {
    for (S state : {S::Initialising, S::InitWait, S::Connected, S::Closing, S::Closed}) {
        EXPECT_EQ(machine_in(state).backend_state(), state) << to_string(state);
    }
}

// Expected reaction per (backend state, frontend state 0..8), written out by hand:
//   .  nothing          B  bind
//   W  write InitWait   K  write Closing
//   C  write Closed, teardown if offline      G  write Closed, teardown always
//   lower-case w/k/c/g: the same after unbinding; c/C on an already-Closed backend writes nothing.
struct Row {
    S backend;
    std::string_view reactions; // 9 letters, frontend Unknown..Reconfigured
};
constexpr std::array<Row, 5> kExpected{{
    {S::Initialising, "........."},
    {S::InitWait, "G..BBKC.."},
    {S::Connected, "gww..kc.."},
    {S::Closing, "GWW...C.."},
    {S::Closed, "GWW...C.."},
}};

Step expected_step(S backend, char reaction, bool online) {
    Step step;
    const auto write = [&](S next) {
        if (next != backend) step.write_backend = next;
    };
    switch (reaction) {
    case 'B': step.bind = true; break;
    case 'w': step.unbind = true; [[fallthrough]];
    case 'W': write(S::InitWait); break;
    case 'k': step.unbind = true; [[fallthrough]];
    case 'K': write(S::Closing); break;
    case 'c': step.unbind = true; [[fallthrough]];
    case 'C': write(S::Closed); step.teardown = !online; break;
    case 'g': step.unbind = true; [[fallthrough]];
    case 'G': write(S::Closed); step.teardown = true; break;
    default: break;
    }
    return step;
}

struct Case {
    S backend;
    unsigned frontend;
    bool online;
};

class EveryTransition : public testing::TestWithParam<Case> {};

TEST_P(EveryTransition, MatchesTheHandWrittenTable) {
    const auto [backend, frontend, online] = GetParam();
    char reaction = '?';
    for (const auto& row : kExpected) {
        if (row.backend == backend) reaction = row.reactions[frontend];
    }
    auto machine = machine_in(backend);
    const Step step = machine.on_frontend_state(static_cast<S>(frontend), online);
    const Step expected = expected_step(backend, reaction, online);
    EXPECT_EQ(step, expected);
    EXPECT_EQ(machine.backend_state(), expected.write_backend.value_or(backend));
}

std::vector<Case> all_cases() {
    std::vector<Case> cases;
    for (const auto& row : kExpected) {
        for (unsigned frontend = 0; frontend <= kMaxXenbusState; ++frontend) {
            cases.push_back({row.backend, frontend, true});
            cases.push_back({row.backend, frontend, false});
        }
    }
    return cases;
}

INSTANTIATE_TEST_SUITE_P(AllStates, EveryTransition, testing::ValuesIn(all_cases()), [](const testing::TestParamInfo<Case>& param_info) {
    const Case& c = param_info.param;
    return std::string(to_string(c.backend)) + "_frontend" + std::to_string(c.frontend) +
           (c.online ? "_online" : "_offline");
});

TEST(XenbusStateMachine, StartsInInitialising) { EXPECT_EQ(XenbusStateMachine{}.backend_state(), S::Initialising); }

TEST(XenbusStateMachine, StartAnnouncesInitWait) {
    XenbusStateMachine machine;
    EXPECT_EQ(machine.on_device_event(DeviceEvent::Start), make_step(false, S::InitWait));
}

TEST(XenbusStateMachine, SecondStartDoesNothing) {
    auto machine = machine_in(S::InitWait);
    EXPECT_EQ(machine.on_device_event(DeviceEvent::Start), Step{});
}

TEST(XenbusStateMachine, BindSuccessConnects) {
    auto machine = machine_in(S::InitWait);
    EXPECT_EQ(machine.on_device_event(DeviceEvent::BindSucceeded), make_step(false, S::Connected));
}

TEST(XenbusStateMachine, BindFailureCloses) {
    auto machine = machine_in(S::InitWait);
    EXPECT_EQ(machine.on_device_event(DeviceEvent::BindFailed), make_step(false, S::Closing));
}

TEST(XenbusStateMachine, BindResultOutsideInitWaitIsIgnored) {
    auto machine = machine_in(S::Closing);
    EXPECT_EQ(machine.on_device_event(DeviceEvent::BindSucceeded), Step{});
    EXPECT_EQ(machine.backend_state(), S::Closing);
}

TEST(XenbusStateMachine, FailureWhileConnectedUnbindsAndCloses) {
    auto machine = machine_in(S::Connected);
    EXPECT_EQ(machine.on_device_event(DeviceEvent::Failed), make_step(true, S::Closing));
}

TEST(XenbusStateMachine, FailureInInitWaitCloses) {
    auto machine = machine_in(S::InitWait);
    EXPECT_EQ(machine.on_device_event(DeviceEvent::Failed), make_step(false, S::Closing));
}

TEST(XenbusStateMachine, FailureWhenClosedDoesNothing) {
    auto machine = machine_in(S::Closed);
    EXPECT_EQ(machine.on_device_event(DeviceEvent::Failed), Step{});
}

TEST(XenbusStateMachine, FrontendRebootReconnectsThroughInitWait) {
    auto machine = machine_in(S::Connected);
    EXPECT_EQ(machine.on_frontend_state(S::Initialising, true), make_step(true, S::InitWait));
    EXPECT_EQ(machine.on_frontend_state(S::Initialised, true), make_step(false, std::nullopt, true));
    EXPECT_EQ(machine.on_device_event(DeviceEvent::BindSucceeded), make_step(false, S::Connected));
}

TEST(XenbusStateMachine, OrderlyCloseThenReopen) {
    auto machine = machine_in(S::Connected);
    EXPECT_EQ(machine.on_frontend_state(S::Closing, true), make_step(true, S::Closing));
    EXPECT_EQ(machine.on_frontend_state(S::Closed, true), make_step(false, S::Closed));
    EXPECT_EQ(machine.on_frontend_state(S::Initialising, true), make_step(false, S::InitWait));
    EXPECT_EQ(machine.backend_state(), S::InitWait);
}

TEST(XenbusStateMachine, ClosedFrontendMustReinitialiseBeforeBinding) {
    auto machine = machine_in(S::Closed);
    EXPECT_EQ(machine.on_frontend_state(S::Connected, true), Step{});
}

} // namespace
} // namespace twofold::xenbus
