#include "twofold/xenbus/frontend_connection.h"

#include <exception>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "twofold/xenbus/node_reader.h"
#include "twofold/xenbus/xenstore_values.h"

namespace twofold::xenbus {
namespace {

// Reads the ring references the frontend published: one "ring-ref", or, for devices that
// accept multi-page rings, ring-page-order and ring-ref0..N.
template <class Ref, class Parser>
Result<std::vector<Ref>> read_refs(const NodeReader& frontend, const RingSpec& spec, Parser parse) {
    std::vector<Ref> refs;
    if (spec.max_page_order == 0 || !frontend.exists("ring-page-order")) {
        auto ref = frontend.read(spec.ring_ref_node, parse);
        if (!ref) return ref.error();
        refs.push_back(ref.value());
        return refs;
    }
    auto order = frontend.read("ring-page-order",
                               [&](std::string_view s) { return parse_ring_page_order(s, spec.max_page_order); });
    if (!order) return order.error();
    const unsigned count = 1U << order.value();
    for (unsigned i = 0; i < count; ++i) {
        auto ref = frontend.read(spec.ring_ref_node + std::to_string(i), parse);
        if (!ref) return ref.error();
        refs.push_back(ref.value());
    }
    return refs;
}

} // namespace

FrontendConnection::FrontendConnection(BackendServices services, DevicePaths paths, std::unique_ptr<Device> device,
                                       OnFinished on_finished, BindBackoffLimits backoff)
    : services_(std::move(services)), paths_(std::move(paths)), device_(std::move(device)),
      on_finished_(std::move(on_finished)),
      name_(std::string(to_string(paths_.type())) + " " + std::to_string(paths_.frontend_domid()) + "/" +
            std::to_string(paths_.devid())),
      backoff_(backoff), hold_timer_(services_.io) {}

FrontendConnection::~FrontendConnection() {
    hold_timer_.cancel();
    frontend_watch_.reset();
    unbind();
}

void FrontendConnection::start() {
    if (auto links = check_toolstack_links(services_.store, paths_); !links) {
        services_.log->error("{}: refusing device: {}", name_, links.error().message);
        finish();
        return;
    }
    try {
        for (const auto& [node, value] : device_->backend_nodes()) {
            services_.store.write(paths_.backend_node(node), value);
        }
    } catch (const std::exception& e) {
        services_.log->error("{}: cannot publish backend nodes: {}", name_, e.what());
        finish();
        return;
    }
    execute(machine_.on_device_event(DeviceEvent::Start));
    if (finished_) return;
    frontend_watch_ = services_.watches.watch(paths_.frontend_node("state"), [this](const std::string&) {
        on_frontend_changed();
    });
}

void FrontendConnection::on_frontend_changed() {
    if (finished_) return;
    // Held after repeated bind failures: nothing the frontend writes is served until the hold
    // ends (the timer then reads its state once).
    if (backoff_.held(BindBackoff::Clock::now())) return;
    const NodeReader frontend(services_.store, paths_.frontend());
    // A missing state node means the frontend went away (xenbus reads it as Unknown).
    auto state = frontend.read_or("state", parse_state, XenbusState::Unknown);
    if (!state) {
        services_.log->warn("{}: refused frontend value: {}", name_, state.error().message);
        fail("invalid frontend state");
        return;
    }
    if (frontend_state_ != state.value()) {
        services_.log->info("{}: frontend {}, backend {}", name_, to_string(state.value()),
                            to_string(machine_.backend_state()));
        frontend_state_ = state.value();
    }
    execute(machine_.on_frontend_state(state.value(), device_online()));
}

void FrontendConnection::execute(const Step& step) {
    if (step.unbind) unbind();
    // Unbinding comes first: a frontend that sees Closing/Closed may reuse its pages at once.
    if (step.write_backend && !write_backend_state(*step.write_backend)) return;
    if (step.bind) {
        const bool ok = bind();
        if (ok) {
            backoff_.succeeded();
        } else {
            hold_after_failure();
        }
        execute(machine_.on_device_event(ok ? DeviceEvent::BindSucceeded : DeviceEvent::BindFailed));
        if (ok && binding_) services_.log->info("{}: connected", name_);
    }
    if (step.teardown) finish();
}

bool FrontendConnection::map_and_bind(const NodeReader& frontend, const RingSpec& spec, BoundSpec& out) {
    const xen::DomId domid = paths_.frontend_domid();
    if (spec.mapping == RingSpec::Mapping::Grant) {
        auto refs = read_refs<xen::GrantRef>(frontend, spec, parse_grant_ref);
        if (!refs) {
            services_.log->warn("{}: refused frontend value: {}", name_, refs.error().message);
            return false;
        }
        out.ring = services_.grants.map(domid, refs.value(), spec.access);
    } else {
        auto frames = read_refs<xen::Gfn>(frontend, spec, parse_gfn);
        if (!frames) {
            services_.log->warn("{}: refused frontend value: {}", name_, frames.error().message);
            return false;
        }
        out.ring = services_.foreign.map(domid, frames.value(), spec.access);
    }
    if (out.ring.empty()) {
        services_.log->warn("{}: ring mapping is empty", name_);
        return false;
    }
    auto remote_port = frontend.read(spec.port_node, parse_port);
    if (!remote_port) {
        services_.log->warn("{}: refused frontend value: {}", name_, remote_port.error().message);
        return false;
    }
    out.port = xen::BoundPort(services_.events, services_.events.bind_interdomain(domid, remote_port.value()));
    return true;
}

bool FrontendConnection::bind() {
    const NodeReader frontend(services_.store, paths_.frontend());
    const std::vector<RingSpec> specs = device_->ring_specs();
    if (specs.empty() || specs.size() > kMaxRingsPerDevice) {
        services_.log->error("{}: device asks for {} rings", name_, specs.size());
        return false;
    }
    try {
        Binding binding;
        binding.rings.resize(specs.size());
        for (std::size_t i = 0; i < specs.size(); ++i) {
            if (!map_and_bind(frontend, specs[i], binding.rings[i])) return false; // binding releases the rest
        }
        binding_.emplace(std::move(binding));
        std::vector<BoundRing> rings;
        rings.reserve(binding_->rings.size());
        for (const auto& bound : binding_->rings) rings.push_back(BoundRing{bound.ring.bytes(), &bound.port});
        const BindContext context{paths_, binding_->rings[0].ring.bytes(), binding_->rings[0].port, frontend, rings};
        if (auto accepted = device_->on_bind(context); !accepted) {
            services_.log->warn("{}: device refused the ring: {}", name_, accepted.error().message);
            unbind();
            return false;
        }
        for (std::size_t i = 0; i < binding_->rings.size(); ++i) {
            binding_->rings[i].registration = services_.ports.add(
                binding_->rings[i].port.port(), [this, i](std::size_t budget) { return service(i, budget); });
        }
        return true;
    } catch (const std::exception& e) {
        // Mapping or binding failed (bad grant, dead domain, no resources): nothing stays held.
        services_.log->warn("{}: bind failed: {}", name_, e.what());
        unbind();
        return false;
    }
}

void FrontendConnection::unbind() noexcept {
    if (!binding_) return;
    for (auto& bound : binding_->rings) bound.registration.reset(); // no handler runs from here on
    device_->on_closing();          // the device drops its views before they are unmapped
    binding_.reset();               // unbinds the ports, then unmaps the rings
}

Work FrontendConnection::service(std::size_t index, std::size_t budget) {
    if (!binding_ || finished_) return Work::Done;
    ServiceOutcome outcome;
    try {
        outcome = device_->on_ring_event(index, budget);
    } catch (const std::exception& e) {
        outcome.error = e.what();
    }
    if (!outcome.error.empty()) {
        fail(outcome.error);
        return Work::Done;
    }
    return outcome.more_pending ? Work::MorePending : Work::Done;
}

void FrontendConnection::hold_after_failure() {
    const auto hold = backoff_.failed(BindBackoff::Clock::now());
    if (hold.count() == 0) return;
    services_.log->warn("{}: frontend failed to bind {} times in a row: held in Closing for {} ms", name_,
                        backoff_.failures(), hold.count());
    hold_timer_.expires_at(backoff_.held_until());
    hold_timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& error) {
        if (alive.expired() || error || finished_) return;
        on_frontend_changed(); // where the frontend is now
    });
}

void FrontendConnection::fail(const std::string& why) {
    services_.log->error("{}: closing frontend: {}", name_, why);
    execute(machine_.on_device_event(DeviceEvent::Failed));
}

bool FrontendConnection::write_backend_state(XenbusState state) {
    try {
        services_.store.write(paths_.backend_node("state"), to_xenstore(state));
        return true;
    } catch (const std::exception& e) {
        // Our own directory is gone or unwritable: the toolstack removed the device.
        services_.log->error("{}: cannot write backend state {}: {}", name_, to_string(state), e.what());
        unbind();
        finish();
        return false;
    }
}

bool FrontendConnection::device_online() const {
    const NodeReader backend(services_.store, paths_.backend());
    auto online = backend.read_or("online", parse_bool, false);
    return online.ok() && online.value();
}

void FrontendConnection::finish() {
    if (finished_) return;
    finished_ = true;
    hold_timer_.cancel();
    frontend_watch_.reset();
    unbind();
    if (!on_finished_) return;
    // Posted: the owner destroys us, which must not happen while we are on the stack.
    std::weak_ptr<int> alive = alive_;
    boost::asio::post(services_.io, [alive, callback = on_finished_, paths = paths_] {
        if (!alive.expired()) callback(paths);
    });
}

} // namespace twofold::xenbus
