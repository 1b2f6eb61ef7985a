#include "twofold/xenbus_test/loopback_backend.h"

#include <thread>

#include <spdlog/spdlog.h>

namespace twofold::xenbus::testing {

bool CapturingSink::contains(std::string_view needle) {
    const std::scoped_lock lock(mutex_);
    for (const auto& line : lines_) {
        if (line.find(needle) != std::string::npos) return true;
    }
    return false;
}

std::vector<std::string> CapturingSink::lines() {
    const std::scoped_lock lock(mutex_);
    return lines_;
}

void CapturingSink::sink_it_(const spdlog::details::log_msg& msg) {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    lines_.emplace_back(formatted.data(), formatted.size());
}

Toolstack::Toolstack(loopback::Hypervisor& hypervisor)
    : platform_(hypervisor.platform(xen::kDom0)), store_(platform_->open_xenstore()) {}

void Toolstack::add_device(const DevicePaths& paths) {
    using Kind = xen::Permission::Kind;
    const auto fe = paths.frontend_domid();
    const auto be = paths.backend_domid();
    store_->mkdir(paths.frontend());
    store_->write(paths.frontend_node("backend"), paths.backend());
    store_->write(paths.frontend_node("backend-id"), std::to_string(be));
    store_->write(paths.frontend_node("state"), to_xenstore(XenbusState::Initialising));
    const std::vector<xen::Permission> frontend_owned{{fe, Kind::None}, {be, Kind::Read}};
    for (const char* node : {"", "/backend", "/backend-id", "/state"}) {
        store_->set_permissions(paths.frontend() + node, frontend_owned);
    }
    store_->mkdir(paths.backend());
    store_->write(paths.backend_node("frontend"), paths.frontend());
    store_->write(paths.backend_node("frontend-id"), std::to_string(fe));
    store_->write(paths.backend_node("online"), "1");
    store_->write(paths.backend_node("state"), to_xenstore(XenbusState::Initialising));
    const std::vector<xen::Permission> backend_owned{{be, Kind::None}, {fe, Kind::Read}};
    for (const char* node : {"", "/frontend", "/frontend-id", "/online", "/state"}) {
        store_->set_permissions(paths.backend() + node, backend_owned);
    }
}

void Toolstack::remove_backend_entry(const DevicePaths& paths) { store_->remove(paths.backend()); }

std::string Toolstack::read(const std::string& path) { return store_->read(path).value_or("<missing>"); }

namespace {
std::shared_ptr<spdlog::logger> make_logger(const std::shared_ptr<CapturingSink>& sink) {
    auto log = std::make_shared<spdlog::logger>("xenbus-test", sink);
    log->set_level(spdlog::level::debug);
    return log;
}
} // namespace

LoopbackBackend::LoopbackBackend(loopback::Hypervisor& hypervisor, std::size_t budget_per_wake)
    : platform_(hypervisor.platform(xen::kDom0)), sink_(std::make_shared<CapturingSink>()),
      log_(make_logger(sink_)), runtime_(*platform_, log_, budget_per_wake) {}

LoopbackBackend::LoopbackBackend(std::unique_ptr<xen::Platform> platform, std::size_t budget_per_wake)
    : platform_(std::move(platform)), sink_(std::make_shared<CapturingSink>()), log_(make_logger(sink_)),
      runtime_(*platform_, log_, budget_per_wake) {}

bool LoopbackBackend::run_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!predicate()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        if (runtime_.io().stopped()) runtime_.io().restart();
        runtime_.io().run_for(std::chrono::milliseconds(2));
    }
    return true;
}

void LoopbackBackend::settle(std::chrono::milliseconds duration) {
    const auto deadline = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < deadline) {
        if (runtime_.io().stopped()) runtime_.io().restart();
        runtime_.io().run_for(std::chrono::milliseconds(2));
    }
}

FrontendDomain::FrontendDomain(loopback::Hypervisor& hypervisor, const std::string& name)
    : domid_(hypervisor.create_domain(name)), platform_(hypervisor.platform(domid_)),
      store_(platform_->open_xenstore()), events_(platform_->open_event_channel()) {}

void FrontendDomain::write(const DevicePaths& paths, const std::string& node, std::string_view value) {
    store_->write(paths.frontend_node(node), value);
}

void FrontendDomain::set_state(const DevicePaths& paths, XenbusState state) {
    write(paths, "state", to_xenstore(state));
}

SharedRing FrontendDomain::share_ring(loopback::Hypervisor& hypervisor, const DevicePaths& paths, std::size_t pages) {
    SharedRing ring;
    ring.frames = hypervisor.allocate_pages(domid_, pages);
    for (const auto frame : ring.frames) {
        ring.refs.push_back(hypervisor.grant_access(domid_, frame, paths.backend_domid(), xen::Access::ReadWrite));
    }
    ring.view = hypervisor.frontend_view(domid_, ring.frames);
    ring.port = events_->bind_unbound(paths.backend_domid());
    if (pages == 1) {
        write(paths, "ring-ref", std::to_string(ring.refs.front()));
    } else {
        unsigned order = 0;
        while ((std::size_t{1} << order) < pages) ++order;
        write(paths, "ring-page-order", std::to_string(order));
        for (std::size_t i = 0; i < pages; ++i) write(paths, "ring-ref" + std::to_string(i), std::to_string(ring.refs[i]));
    }
    write(paths, "event-channel", std::to_string(ring.port));
    return ring;
}

} // namespace twofold::xenbus::testing
