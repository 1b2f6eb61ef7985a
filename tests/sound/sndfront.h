#pragma once
// A simulated Linux xen-snd-front on the loopback: the toolstack's card configuration in the
// frontend directory, per stream a granted request ring and event page with their ports,
// Initialised then Connected like the real driver; a shared sample buffer with its grant
// directory per OPEN; requests sent and answered one at a time, or raw bytes for hostile tests.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <xen/io/sndif.h>

#include "requests.h"
#include "twofold/rings/front_ring.h"
#include "twofold/sound/offer.h"
#include "twofold/xenbus_test/loopback_backend.h"

namespace twofold::sound::testing {

using Ring = rings::FrontRing<xensnd_req, xensnd_resp>;

class SndFront {
public:
    struct StreamRings {
        xenbus::testing::SharedRing requests;
        xenbus::testing::SharedRing events;
        std::optional<Ring> ring;
    };
    struct Buffer {
        std::vector<xen::Gfn> frames;
        xen::MappedPages view;
        xen::GrantRef directory = 0;
        xen::MappedPages directory_view;
    };

    SndFront(loopback::Hypervisor& hv, xenbus::testing::Toolstack& toolstack, const std::string& name)
        : hv_(hv), toolstack_(toolstack), domain_(hv, name),
          paths_(xen::kDom0, domain_.domid(), xenbus::DeviceType::Vsnd, 0) {}

    // The toolstack's part: the device entries and the card configuration of `offer`.
    void configure(const CardOffer& offer) {
        toolstack_.add_device(paths_);
        for (const auto& [node, value] : frontend_nodes(offer)) {
            toolstack_.store().write(paths_.frontend_node(node), value);
        }
        for (std::size_t p = 0; p < offer.devices.size(); ++p) {
            for (std::size_t s = 0; s < offer.devices[p].streams.size(); ++s) dirs_.push_back(dir(p, s));
        }
    }

    // The frontend's part: share each stream's rings and go to Initialised.
    void initialise() {
        streams_.clear();
        streams_.resize(dirs_.size());
        for (std::size_t i = 0; i < dirs_.size(); ++i) {
            streams_[i].requests = share(dirs_[i] + XENSND_FIELD_RING_REF, dirs_[i] + XENSND_FIELD_EVT_CHNL);
            streams_[i].events = share(dirs_[i] + XENSND_FIELD_EVT_RING_REF, dirs_[i] + XENSND_FIELD_EVT_EVT_CHNL);
            streams_[i].ring.emplace(streams_[i].requests.view.bytes());
        }
        domain_.set_state(paths_, xenbus::XenbusState::Initialised);
    }
    void set_connected() { domain_.set_state(paths_, xenbus::XenbusState::Connected); }
    void set_state(xenbus::XenbusState state) { domain_.set_state(paths_, state); }
    void write_node(const std::string& node, const std::string& value) { domain_.write(paths_, node, value); }

    // A buffer of `bytes` granted pages described by a one-page grant directory.
    Buffer make_buffer(std::size_t bytes) {
        Buffer buffer;
        const std::size_t pages = (bytes + xen::kPageSize - 1) / xen::kPageSize;
        buffer.frames = hv_.allocate_pages(domid(), pages);
        std::vector<grant_ref_t> refs;
        for (const auto frame : buffer.frames) refs.push_back(hv_.grant_access(domid(), frame, xen::kDom0, xen::Access::ReadWrite));
        buffer.view = hv_.frontend_view(domid(), buffer.frames);
        const auto directory_frame = hv_.allocate_pages(domid(), 1).front();
        buffer.directory = hv_.grant_access(domid(), directory_frame, xen::kDom0, xen::Access::ReadOnly);
        buffer.directory_view = hv_.frontend_view(domid(), directory_frame);
        const grant_ref_t next = 0;
        std::memcpy(buffer.directory_view.bytes().data(), &next, sizeof next);
        std::memcpy(buffer.directory_view.bytes().data() + sizeof next, refs.data(), refs.size() * sizeof(grant_ref_t));
        return buffer;
    }

    // Sends one request on stream `i` and runs `pump` until its response arrives.
    std::optional<xensnd_resp> call(std::size_t i, const xensnd_req& request, const std::function<bool(const std::function<bool()>&)>& run_until) {
        StreamRings& stream = streams_.at(i);
        if (!stream.ring->put_request(request)) return std::nullopt;
        (void)stream.ring->push_requests();
        domain_.events().notify(stream.requests.port);
        std::optional<xensnd_resp> response;
        std::optional<rings::RingFault> fault;
        (void)run_until([&] {
            response = stream.ring->take_response(fault);
            return response.has_value() || fault.has_value();
        });
        return response;
    }
    // Queues requests without waiting (floods); returns how many fit.
    std::size_t queue(std::size_t i, const xensnd_req& request, std::size_t count) {
        std::size_t queued = 0;
        while (queued < count && streams_.at(i).ring->put_request(request)) ++queued;
        (void)streams_.at(i).ring->push_requests();
        domain_.events().notify(streams_.at(i).requests.port);
        return queued;
    }
    std::size_t drain_responses(std::size_t i) {
        std::size_t taken = 0;
        std::optional<rings::RingFault> fault;
        while (streams_.at(i).ring->take_response(fault)) ++taken;
        return taken;
    }

    // Position events the backend produced on stream `i` since the last call (consumed).
    std::vector<xensnd_evt> take_events(std::size_t i) {
        std::vector<xensnd_evt> events;
        std::byte* page = streams_.at(i).events.view.bytes().data();
        const std::uint32_t prod = index(page, offsetof(xensnd_event_page, in_prod)).load(std::memory_order_acquire);
        std::uint32_t cons = index(page, offsetof(xensnd_event_page, in_cons)).load();
        for (; cons != prod; ++cons) {
            xensnd_evt event{};
            std::memcpy(&event, page + XENSND_IN_RING_OFFS + (cons % XENSND_IN_RING_LEN) * sizeof(xensnd_evt), sizeof event);
            events.push_back(event);
        }
        index(page, offsetof(xensnd_event_page, in_cons)).store(cons, std::memory_order_release);
        return events;
    }
    void set_event_cons(std::size_t i, std::uint32_t value) {
        index(streams_.at(i).events.view.bytes().data(), offsetof(xensnd_event_page, in_cons)).store(value);
    }
    // Raw access to the request ring page (hostile tests).
    std::span<std::byte> request_page(std::size_t i) { return streams_.at(i).requests.view.bytes(); }
    void notify_requests(std::size_t i) { domain_.events().notify(streams_.at(i).requests.port); }
    void notify_events(std::size_t i) { domain_.events().notify(streams_.at(i).events.port); }

    [[nodiscard]] std::string backend_state() { return toolstack_.read(paths_.backend_node("state")); }
    [[nodiscard]] std::string backend_node(const char* name) { return toolstack_.read(paths_.backend_node(name)); }
    [[nodiscard]] xen::DomId domid() const noexcept { return domain_.domid(); }
    [[nodiscard]] const xenbus::DevicePaths& paths() const noexcept { return paths_; }

private:
    static std::string dir(std::size_t pcm, std::size_t stream) { return std::to_string(pcm) + "/" + std::to_string(stream) + "/"; }
    static std::atomic_ref<std::uint32_t> index(std::byte* page, std::size_t offset) {
        return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(page + offset));
    }
    xenbus::testing::SharedRing share(const std::string& ref_node, const std::string& port_node) {
        xenbus::testing::SharedRing ring;
        ring.frames = hv_.allocate_pages(domid(), 1);
        ring.refs.push_back(hv_.grant_access(domid(), ring.frames.front(), xen::kDom0, xen::Access::ReadWrite));
        ring.view = hv_.frontend_view(domid(), ring.frames);
        ring.port = domain_.events().bind_unbound(xen::kDom0);
        domain_.write(paths_, ref_node, std::to_string(ring.refs.front()));
        domain_.write(paths_, port_node, std::to_string(ring.port));
        return ring;
    }

    loopback::Hypervisor& hv_;
    xenbus::testing::Toolstack& toolstack_;
    xenbus::testing::FrontendDomain domain_;
    xenbus::DevicePaths paths_;
    std::vector<std::string> dirs_;
    std::vector<StreamRings> streams_;
};

} // namespace twofold::sound::testing
