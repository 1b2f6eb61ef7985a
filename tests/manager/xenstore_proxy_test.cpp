// The manager's xenstore proxy with a real backend behind it, on the loopback: the backend's
// xenbus machinery (BackendService, the echo device of tests/hostile) gets its xenstore only
// through ProxiedXenStore and the proxy, which admits one persona's paths. The proxy runs on
// its own thread and io_context, as it does in the manager; the backend's calls block on it.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "../hostile/echo_frontend.h"
#include "../loopback/errno_of.h"
#include "twofold/manager/xenstore_proxy.h"
#include "twofold/xen/error.h"
#include "twofold/xenbus/backend_service.h"
#include "twofold/xenbus/proxied_xenstore.h"

namespace twofold::manager {
namespace {

namespace asio = boost::asio;
using hostile::EchoDevice;
using hostile::EchoFrontend;
using hostile::EchoStats;
using xenbus::DeviceType;
using xenbus::XenbusState;

using loopback::errno_of;

struct SocketPair {
    xen::UniqueFd manager;
    xen::UniqueFd backend;
};

SocketPair socket_pair() {
    int fds[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::system_error(errno, std::generic_category());
    return {xen::UniqueFd(fds[0]), xen::UniqueFd(fds[1])};
}

struct AuditRecord {
    std::string kind;
    nlohmann::json fields;
};

// The manager's side: a proxy on its own thread, with what it audits and whether it ended.
class ProxyThread {
public:
    ProxyThread(loopback::Hypervisor& hypervisor, xen::UniqueFd socket, DeviceType type) {
        proxy_ = std::make_unique<XenStoreProxy>(
            io_, std::move(socket), hypervisor.platform(xen::kDom0)->open_xenstore(), type,
            [this](const std::string& kind, nlohmann::json fields) {
                const std::scoped_lock lock(mutex_);
                audits_.push_back({kind, std::move(fields)});
            },
            [this](const std::string& why) {
                const std::scoped_lock lock(mutex_);
                ended_ = why;
            });
        proxy_->start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~ProxyThread() {
        on_proxy([this] { proxy_.reset(); });
        work_.reset();
        io_.stop();
        thread_.join();
    }
    ProxyThread(const ProxyThread&) = delete;
    ProxyThread& operator=(const ProxyThread&) = delete;

    void set_frontends(std::set<xen::DomId> frontends) {
        on_proxy([&] { proxy_->set_frontends(frontends); });
    }
    XenStoreProxyStats stats() {
        XenStoreProxyStats copy;
        on_proxy([&] { copy = proxy_->stats(); });
        return copy;
    }
    std::vector<AuditRecord> audits() {
        const std::scoped_lock lock(mutex_);
        return audits_;
    }
    std::optional<std::string> ended() {
        const std::scoped_lock lock(mutex_);
        return ended_;
    }

private:
    // Runs `action` on the proxy's thread and waits for it.
    void on_proxy(const std::function<void()>& action) {
        std::promise<void> done;
        asio::post(io_, [&] {
            action();
            done.set_value();
        });
        done.get_future().wait();
    }

    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    std::unique_ptr<XenStoreProxy> proxy_;
    std::mutex mutex_;
    std::vector<AuditRecord> audits_;
    std::optional<std::string> ended_;
    std::thread thread_;
};

class XenStoreProxyTest : public ::testing::Test {
protected:
    loopback::Hypervisor hypervisor;
    xenbus::testing::Toolstack toolstack{hypervisor};
    EchoFrontend personal{hypervisor, toolstack, "personal"};
    EchoFrontend secure{hypervisor, toolstack, "secure"};
    SocketPair link = socket_pair();
    ProxyThread proxy{hypervisor, std::move(link.manager), DeviceType::Echo};
    // A backend serving personal alone: dom0's event channel and grant handles, its xenstore
    // only through the proxy.
    xenbus::testing::LoopbackBackend backend{
        xenbus::with_xenstore_proxy(hypervisor.platform(xen::kDom0), std::move(link.backend))};
    std::map<xen::DomId, std::shared_ptr<EchoStats>> stats;
    xenbus::BackendService service{backend.services(), xen::kDom0, DeviceType::Echo,
                                   [this](const xenbus::DevicePaths& paths) {
                                       auto& entry = stats[paths.frontend_domid()];
                                       if (!entry) entry = std::make_shared<EchoStats>();
                                       return std::make_unique<EchoDevice>(entry);
                                   }};

    void SetUp() override {
        proxy.set_frontends({personal.domid()});
        service.start();
    }

    std::size_t audits_of(const std::string& kind) {
        std::size_t count = 0;
        for (const auto& record : proxy.audits()) count += record.kind == kind ? 1 : 0;
        return count;
    }
};

TEST_F(XenStoreProxyTest, OwnPersonaIsServedThroughTheProxy) {
    personal.connect(backend);

    const auto response = personal.round_trip(backend, "hello");

    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(hostile::payload(*response), "hello");
    EXPECT_GT(proxy.stats().requests, 0U);
    EXPECT_EQ(proxy.stats().denied, 0U);
}

TEST_F(XenStoreProxyTest, TheOtherPersonasDeviceIsNeverDiscovered) {
    personal.connect(backend);
    secure.prepare();

    backend.settle(std::chrono::milliseconds(200));

    EXPECT_EQ(service.connection_count(), 1U);
    EXPECT_EQ(service.find(secure.domid(), 0), nullptr);
    EXPECT_EQ(secure.backend_state(), "1"); // untouched: still Initialising
}

TEST_F(XenStoreProxyTest, ReadingSecuresNodesIsRefusedWithEacces) {
    secure.prepare();

    EXPECT_EQ(errno_of([&] { (void)backend.store().read(secure.paths().frontend_node("ring-ref")); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)backend.store().list(secure.paths().frontend()); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)backend.store().read(xenbus::domain_path(secure.domid()) + "/name"); }), EACCES);
}

TEST_F(XenStoreProxyTest, WritingSecuresBackendNodesIsRefusedAndLeavesThemAlone) {
    secure.prepare();

    EXPECT_EQ(errno_of([&] { backend.store().write(secure.paths().backend_node("state"), "6"); }), EACCES);
    EXPECT_EQ(errno_of([&] { backend.store().remove(secure.paths().backend()); }), EACCES);
    EXPECT_EQ(secure.backend_state(), "1");
}

TEST_F(XenStoreProxyTest, WatchingSecuresNodesIsRefused) {
    secure.prepare();

    EXPECT_EQ(errno_of([&] { backend.store().watch(secure.paths().frontend(), "spy"); }), EACCES);
    EXPECT_EQ(errno_of([&] { backend.store().watch(xenbus::domain_path(secure.domid()), "spy"); }), EACCES);
}

TEST_F(XenStoreProxyTest, PlacesOutsideAnyPersonaAreRefused) {
    EXPECT_EQ(errno_of([&] { (void)backend.store().list("/local/domain"); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)backend.store().read("/local/domain/0/name"); }), EACCES);
    EXPECT_EQ(errno_of([&] { backend.store().write("/tool/twofold/foreground", "personal"); }), EACCES);
}

TEST_F(XenStoreProxyTest, PermissionsAreNeverSetThroughTheProxy) {
    const xen::Permission open_to_secure[] = {{personal.domid(), xen::Permission::Kind::None},
                                              {secure.domid(), xen::Permission::Kind::Read}};
    personal.prepare();

    EXPECT_EQ(errno_of([&] { backend.store().set_permissions(personal.paths().backend(), open_to_secure); }), EACCES);
}

bool same(const std::vector<xen::Permission>& a, const std::vector<xen::Permission>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const xen::Permission& x, const xen::Permission& y) { return x.domid == y.domid && x.kind == y.kind; });
}

TEST_F(XenStoreProxyTest, OwnNodesPermissionsAreReadThroughTheProxy) {
    personal.prepare();
    const auto dom0 = hypervisor.platform(xen::kDom0)->open_xenstore();
    const std::string frontend_node = personal.paths().frontend_node("state");
    const xen::Permission shared[] = {{personal.domid(), xen::Permission::Kind::ReadWrite},
                                      {xen::kDom0, xen::Permission::Kind::Read}};
    dom0->set_permissions(frontend_node, shared);

    const auto got = backend.store().get_permissions(frontend_node);

    ASSERT_TRUE(got.has_value());
    EXPECT_TRUE(same(*got, {std::begin(shared), std::end(shared)}));
    const auto own = backend.store().get_permissions(personal.paths().backend());
    ASSERT_TRUE(own.has_value());
    EXPECT_TRUE(same(*own, dom0->get_permissions(personal.paths().backend()).value()));
    EXPECT_EQ(proxy.stats().denied, 0U);
}

TEST_F(XenStoreProxyTest, PermissionsOfAMissingOwnNodeAreNone) {
    personal.prepare();

    EXPECT_FALSE(backend.store().get_permissions(personal.paths().backend_node("no-such-node")).has_value());
}

TEST_F(XenStoreProxyTest, ReadingSecuresPermissionsIsRefusedAndAudited) {
    secure.prepare();

    EXPECT_EQ(errno_of([&] { (void)backend.store().get_permissions(secure.paths().frontend_node("state")); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)backend.store().get_permissions(secure.paths().backend()); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)backend.store().get_permissions(xenbus::domain_path(secure.domid())); }), EACCES);
    const auto audits = proxy.audits();
    ASSERT_FALSE(audits.empty());
    EXPECT_EQ(audits.front().kind, "xenstore.denied");
    EXPECT_EQ(audits.front().fields.at("op"), "get_perms");
    EXPECT_EQ(audits.front().fields.at("path"), secure.paths().frontend_node("state"));
}

// The type directory is only listed and watched (its listing filtered): its permissions, like
// its value, are not the backend's to read.
TEST_F(XenStoreProxyTest, PermissionsOfTheTypeDirectoryAndOfDom0AreRefused) {
    personal.prepare();

    EXPECT_EQ(errno_of([&] {
                  (void)backend.store().get_permissions(xenbus::backend_type_dir(xen::kDom0, DeviceType::Echo));
              }),
              EACCES);
    EXPECT_EQ(errno_of([&] { (void)backend.store().get_permissions("/local/domain/0"); }), EACCES);
    EXPECT_EQ(errno_of([&] { (void)backend.store().get_permissions("/tool"); }), EACCES);
}

TEST_F(XenStoreProxyTest, ARefusalIsAuditedWithItsPath) {
    (void)errno_of([&] { (void)backend.store().read(secure.paths().frontend_node("ring-ref")); });

    const auto audits = proxy.audits();
    ASSERT_EQ(audits.size(), 1U);
    EXPECT_EQ(audits.front().kind, "xenstore.denied");
    EXPECT_EQ(audits.front().fields.at("op"), "read");
    EXPECT_EQ(audits.front().fields.at("path"), secure.paths().frontend_node("ring-ref"));
}

TEST_F(XenStoreProxyTest, RefusalAuditsAreBoundedPerWindow) {
    for (int i = 0; i < 40; ++i) {
        (void)errno_of([&] { (void)backend.store().read(secure.paths().frontend_node("ring-ref")); });
    }

    EXPECT_EQ(audits_of("xenstore.denied"), kMaxDenialAuditsPerWindow);
    EXPECT_EQ(proxy.stats().denied, 40U);
}

TEST_F(XenStoreProxyTest, FrontendReconnectStillWorks) {
    personal.connect(backend);
    personal.domain().set_state(personal.paths(), XenbusState::Closed);
    ASSERT_TRUE(backend.run_until([&] { return personal.backend_state() == "6"; }));

    personal.domain().set_state(personal.paths(), XenbusState::Initialising);
    ASSERT_TRUE(backend.run_until([&] { return personal.backend_state() == "2"; })); // InitWait
    const auto second = personal.domain().share_ring(hypervisor, personal.paths());
    personal.domain().set_state(personal.paths(), XenbusState::Initialised);

    EXPECT_TRUE(backend.run_until([&] { return personal.backend_state() == "4"; })); // Connected
    EXPECT_EQ(hypervisor.live_grant_mappings(), 1U);
}

TEST_F(XenStoreProxyTest, APersonaAdmittedLaterIsDiscovered) {
    secure.prepare();
    backend.settle();
    ASSERT_EQ(service.find(secure.domid(), 0), nullptr);

    proxy.set_frontends({personal.domid(), secure.domid()});

    EXPECT_TRUE(backend.run_until([&] { return service.find(secure.domid(), 0) != nullptr; }));
}

TEST_F(XenStoreProxyTest, APersonaNoLongerAdmittedLosesItsDevice) {
    personal.connect(backend);

    proxy.set_frontends({secure.domid()});

    EXPECT_TRUE(backend.run_until([&] { return service.connection_count() == 0; }));
}

// A taken-over backend writing bytes that are not a request: the link ends (the supervisor
// kills the backend), nothing reaches xenstored.
TEST(XenStoreProxyLink, AMalformedFrameEndsTheLink) {
    loopback::Hypervisor hypervisor;
    auto link = socket_pair();
    ProxyThread proxy(hypervisor, std::move(link.manager), DeviceType::Vkbd);
    const unsigned char garbage[] = {5, 0, 0, 0, 0x42, 1, 2, 3, 4};

    ASSERT_EQ(::send(link.backend.get(), garbage, sizeof garbage, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof garbage));

    for (int i = 0; i < 500 && !proxy.ended(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(proxy.ended().has_value());
    EXPECT_NE(proxy.ended()->find("malformed"), std::string::npos);
}

TEST(XenStoreProxyLink, AnOversizedFrameLengthEndsTheLink) {
    loopback::Hypervisor hypervisor;
    auto link = socket_pair();
    ProxyThread proxy(hypervisor, std::move(link.manager), DeviceType::Vkbd);
    const unsigned char header[] = {0xFF, 0xFF, 0xFF, 0x7F};

    ASSERT_EQ(::send(link.backend.get(), header, sizeof header, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof header));

    for (int i = 0; i < 500 && !proxy.ended(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(proxy.ended().has_value());
}

} // namespace
} // namespace twofold::manager
