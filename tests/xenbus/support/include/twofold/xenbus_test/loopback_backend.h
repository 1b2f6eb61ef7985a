#pragma once
// Test support: a backend process's xenbus machinery on the loopback machine (dom0 handles,
// one io_context, the Asio glue, a capturing logger), a toolstack that creates device entries
// the way libxl does, and a frontend domain's xenstore/event-channel handles.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include "twofold/loopback/hypervisor.h"
#include "twofold/xenbus/asio_event_channel.h"
#include "twofold/xenbus/backend_runtime.h"
#include "twofold/xenbus/asio_xenstore_watch.h"
#include "twofold/xenbus/device_paths.h"
#include "twofold/xenbus/frontend_connection.h"

namespace twofold::xenbus::testing {

// Keeps every formatted log line so tests can assert that a refusal was logged.
class CapturingSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    [[nodiscard]] bool contains(std::string_view needle);
    [[nodiscard]] std::vector<std::string> lines();

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}

private:
    std::vector<std::string> lines_;
};

// Creates and removes device entries as the toolstack (dom0) does.
class Toolstack {
public:
    explicit Toolstack(loopback::Hypervisor& hypervisor);
    // Frontend directory (owned by the frontend, state Initialising) first, then the backend
    // directory (frontend, frontend-id, online=1, state Initialising) that the backend watches.
    void add_device(const DevicePaths& paths);
    void remove_backend_entry(const DevicePaths& paths);
    [[nodiscard]] xen::XenStore& store() { return *store_; }
    [[nodiscard]] std::string read(const std::string& path);

private:
    std::unique_ptr<xen::Platform> platform_;
    std::unique_ptr<xen::XenStore> store_;
};

// A backend process's runtime on the loopback, with a capturing logger and helpers that run
// its io_context from the test thread.
class LoopbackBackend {
public:
    explicit LoopbackBackend(loopback::Hypervisor& hypervisor, std::size_t budget_per_wake = kDefaultBudgetPerWake);
    // On a platform of the test's making (e.g. dom0's with a proxied xenstore).
    explicit LoopbackBackend(std::unique_ptr<xen::Platform> platform, std::size_t budget_per_wake = kDefaultBudgetPerWake);

    [[nodiscard]] BackendServices services() { return runtime_.services(); }
    [[nodiscard]] boost::asio::io_context& io() { return runtime_.io(); }
    [[nodiscard]] xen::XenStore& store() { return runtime_.store(); }
    [[nodiscard]] xen::EventChannel& events() { return runtime_.events(); }
    [[nodiscard]] AsioXenstoreWatch& watches() { return runtime_.watches(); }
    [[nodiscard]] AsioEventChannel& ports() { return runtime_.ports(); }
    [[nodiscard]] CapturingSink& logs() { return *sink_; }

    // Runs the io_context in this thread until predicate() holds or the timeout passes.
    bool run_until(const std::function<bool()>& predicate,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    // Runs ready handlers for a short while (lets queued events settle).
    void settle(std::chrono::milliseconds duration = std::chrono::milliseconds(50));

private:
    std::unique_ptr<xen::Platform> platform_;
    std::shared_ptr<CapturingSink> sink_;
    std::shared_ptr<spdlog::logger> log_;
    BackendRuntime runtime_;
};

// A ring a frontend shared: its pages (and the guest's own view of them), grants and port.
struct SharedRing {
    std::vector<xen::Gfn> frames;
    std::vector<xen::GrantRef> refs;
    xen::Port port{};
    xen::MappedPages view;
};

// A guest's own handles: its xenstore connection and event channel.
class FrontendDomain {
public:
    FrontendDomain(loopback::Hypervisor& hypervisor, const std::string& name);

    [[nodiscard]] xen::DomId domid() const noexcept { return domid_; }
    [[nodiscard]] xen::XenStore& store() { return *store_; }
    [[nodiscard]] xen::EventChannel& events() { return *events_; }
    void write(const DevicePaths& paths, const std::string& node, std::string_view value);
    void set_state(const DevicePaths& paths, XenbusState state);
    // Allocates, grants to the backend and views `pages` pages, allocates an unbound port, and
    // publishes ring-ref (or ring-page-order and ring-ref0..N) and event-channel.
    SharedRing share_ring(loopback::Hypervisor& hypervisor, const DevicePaths& paths, std::size_t pages = 1);

private:
    xen::DomId domid_;
    std::unique_ptr<xen::Platform> platform_;
    std::unique_ptr<xen::XenStore> store_;
    std::unique_ptr<xen::EventChannel> events_;
};

} // namespace twofold::xenbus::testing
