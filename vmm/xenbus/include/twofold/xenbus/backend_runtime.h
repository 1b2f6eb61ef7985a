#pragma once
// Everything one backend process needs to run its devices: the Xen handles opened from a
// Platform (real Xen in dom0, the loopback on the host), one io_context, and the watch and
// event-channel dispatchers on it. A backend builds one of these, adds a BackendService per
// device type, and calls run().
#include <cstddef>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>

#include "twofold/xen/platform.h"
#include "twofold/xenbus/asio_event_channel.h"
#include "twofold/xenbus/asio_xenstore_watch.h"
#include "twofold/xenbus/frontend_connection.h"

namespace twofold::xenbus {

class BackendRuntime {
public:
    BackendRuntime(xen::Platform& platform, std::shared_ptr<spdlog::logger> log,
                   std::size_t budget_per_wake = kDefaultBudgetPerWake);
    ~BackendRuntime();
    BackendRuntime(const BackendRuntime&) = delete;
    BackendRuntime& operator=(const BackendRuntime&) = delete;

    [[nodiscard]] BackendServices services();
    [[nodiscard]] boost::asio::io_context& io() noexcept { return io_; }
    [[nodiscard]] xen::DomId own_domid() const noexcept { return own_domid_; }
    [[nodiscard]] xen::XenStore& store() noexcept { return *store_; }
    [[nodiscard]] xen::EventChannel& events() noexcept { return *events_; }
    [[nodiscard]] AsioXenstoreWatch& watches() noexcept { return *watches_; }
    [[nodiscard]] AsioEventChannel& ports() noexcept { return *ports_; }

    // Runs the event loop until stop() (or until nothing is left to wait for).
    void run() { io_.run(); }
    void stop() { io_.stop(); }

private:
    xen::DomId own_domid_;
    std::shared_ptr<spdlog::logger> log_;
    std::unique_ptr<xen::XenStore> store_;
    std::unique_ptr<xen::EventChannel> events_;
    std::unique_ptr<xen::GrantMapper> grants_;
    std::unique_ptr<xen::ForeignMemory> foreign_;
    boost::asio::io_context io_;
    std::unique_ptr<AsioXenstoreWatch> watches_;
    std::unique_ptr<AsioEventChannel> ports_;
};

} // namespace twofold::xenbus
