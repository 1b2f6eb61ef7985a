#pragma once
// Two guests, one backend: a hostile frontend and a well-behaved one, both served by the real
// BackendService/FrontendConnection machinery on the loopback with the echo device.
#include <map>
#include <memory>

#include <gtest/gtest.h>

#include "echo_device.h"
#include "echo_frontend.h"
#include "twofold/xenbus/backend_service.h"
#include "twofold/xenbus_test/loopback_backend.h"

namespace twofold::hostile {

class TwoFrontends : public ::testing::Test {
protected:
    static constexpr std::size_t kBudget = 4;

    loopback::Hypervisor hypervisor;
    xenbus::testing::LoopbackBackend backend{hypervisor, kBudget};
    xenbus::testing::Toolstack toolstack{hypervisor};
    std::map<xen::DomId, std::shared_ptr<EchoStats>> stats;
    xenbus::BackendService service{backend.services(), xen::kDom0, xenbus::DeviceType::Echo,
                                   [this](const xenbus::DevicePaths& paths) {
                                       auto& entry = stats[paths.frontend_domid()];
                                       if (!entry) entry = std::make_shared<EchoStats>();
                                       return std::make_unique<EchoDevice>(entry);
                                   }};
    EchoFrontend hostile{hypervisor, toolstack, "hostile"};
    EchoFrontend good{hypervisor, toolstack, "good"};

    void SetUp() override {
        service.start();
        good.connect(backend);
    }

    EchoStats& stats_of(const EchoFrontend& frontend) { return *stats.at(frontend.domid()); }

    bool wait_backend_state(EchoFrontend& frontend, xenbus::XenbusState state) {
        return backend.run_until([&] { return frontend.backend_state() == xenbus::to_xenstore(state); });
    }

    // The second, well-behaved frontend still gets correct answers.
    void expect_good_still_served() {
        for (const char* text : {"ping", "still here"}) {
            const auto response = good.round_trip(backend, text);
            ASSERT_TRUE(response.has_value()) << "well-behaved frontend not served";
            EXPECT_EQ(response->status, kEchoOk);
            EXPECT_EQ(payload(*response), text);
        }
        EXPECT_EQ(good.backend_state(), xenbus::to_xenstore(xenbus::XenbusState::Connected));
    }
};

} // namespace twofold::hostile
