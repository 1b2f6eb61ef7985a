// The ring over the loopback machine: a page granted by a simulated guest and mapped by dom0,
// notifications through event channels, and a guest that disappears mid-request.
#include <poll.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"
#include "twofold/loopback/hypervisor.h"
#include "twofold/rings/back_ring.h"
#include "twofold/rings/front_ring.h"

namespace twofold::rings {
namespace {

using test::Request;
using test::Response;
using Back = BackRing<Request, Response>;
using Front = FrontRing<Request, Response>;

// One guest with a granted ring page, mapped by dom0, and a connected event channel.
class GuestRing {
public:
    GuestRing(loopback::Hypervisor& hv, xen::Platform& dom0, const char* name)
        : hv_(hv),
          domid_(hv.create_domain(name)),
          gfn_(hv.allocate_pages(domid_, 1).at(0)),
          view_(hv.frontend_view(domid_, gfn_)),
          ref_(hv.grant_access(domid_, gfn_, xen::kDom0, xen::Access::ReadWrite)),
          guest_platform_(hv.platform(domid_)),
          mapper_(dom0.open_grant_mapper()),
          mapping_(mapper_->map(domid_, std::span{&ref_, 1}, xen::Access::ReadWrite)),
          guest_events_(guest_platform_->open_event_channel()),
          backend_events_(dom0.open_event_channel()),
          guest_port_(guest_events_->bind_unbound(xen::kDom0)),
          backend_port_(backend_events_->bind_interdomain(domid_, guest_port_)),
          front(view_.bytes()),
          back(mapping_.bytes()) {}

    void guest_sends(std::uint64_t id) {
        ASSERT_TRUE(front.put_request(test::make_request(id)));
        if (front.push_requests()) {
            guest_events_->notify(guest_port_);
        }
    }
    // The backend's event loop step: which port fired, if any (without blocking).
    std::optional<xen::Port> backend_fired() {
        pollfd p{backend_events_->fd(), POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0) {
            return std::nullopt;
        }
        auto port = backend_events_->pending();
        if (port) {
            backend_events_->unmask(*port);
        }
        return port;
    }
    [[nodiscard]] xen::Port backend_port() const noexcept { return backend_port_; }
    [[nodiscard]] xen::DomId domid() const noexcept { return domid_; }
    void release_mapping() noexcept { mapping_.reset(); }

private:
    loopback::Hypervisor& hv_;
    xen::DomId domid_;
    xen::Gfn gfn_;
    xen::MappedPages view_;
    xen::GrantRef ref_;
    std::unique_ptr<xen::Platform> guest_platform_;
    std::unique_ptr<xen::GrantMapper> mapper_;
    xen::MappedPages mapping_;
    std::unique_ptr<xen::EventChannel> guest_events_;
    std::unique_ptr<xen::EventChannel> backend_events_;
    xen::Port guest_port_;
    xen::Port backend_port_;

public:
    Front front;
    Back back;
};

auto echo(std::vector<std::uint64_t>& seen) {
    return [&seen](const Request& req, Response& rsp) noexcept {
        seen.push_back(req.id);
        rsp.id = req.id;
    };
}

TEST(LoopbackRing, RequestThroughGrantedPageWakesBackendAndIsAnswered) {
    loopback::Hypervisor hv;
    const auto dom0 = hv.platform(xen::kDom0);
    GuestRing guest(hv, *dom0, "personal");
    std::vector<std::uint64_t> seen;

    guest.guest_sends(41);
    const auto fired = guest.backend_fired();
    const auto result = guest.back.process(8, echo(seen));

    ASSERT_TRUE(fired.has_value());
    EXPECT_EQ(*fired, guest.backend_port());
    EXPECT_EQ(seen, (std::vector<std::uint64_t>{41}));
    EXPECT_TRUE(result.notify);
    std::optional<RingFault> fault;
    const auto rsp = guest.front.take_response(fault);
    ASSERT_TRUE(rsp.has_value());
    EXPECT_EQ(rsp->id, 41U);
}

TEST(LoopbackRing, GuestDestroyedMidRequestLeavesMappingSafeUntilReleased) {
    loopback::Hypervisor hv;
    const auto dom0 = hv.platform(xen::kDom0);
    GuestRing dying(hv, *dom0, "personal");
    GuestRing other(hv, *dom0, "secure");
    std::vector<std::uint64_t> seen;
    dying.guest_sends(1);
    other.guest_sends(2);

    hv.destroy_domain(dying.domid());
    const auto orphan = dying.back.process(8, echo(seen)); // pages live while mapped, as in Xen
    dying.release_mapping();
    const auto served = other.back.process(8, echo(seen));

    EXPECT_FALSE(orphan.fault.has_value());
    EXPECT_FALSE(served.fault.has_value());
    EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(hv.live_grant_mappings(), 1U); // only the other guest's mapping remains
}

} // namespace
} // namespace twofold::rings
