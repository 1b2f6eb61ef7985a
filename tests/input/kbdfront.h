#pragma once
// A simulated Linux xen-kbdfront on the loopback: one granted shared page (xenkbd_page),
// page-gref/page-ref/event-channel and the request-* nodes, Initialised then Connected like
// the real driver; reads what the backend put in the in ring (or leaves it, as a stuck guest).
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <xen/io/kbdif.h>

#include "twofold/xenbus_test/loopback_backend.h"

namespace twofold::input::testing {

struct KbdFrontOptions {
    bool abs_pointer = true;
    std::string abs_pointer_value = "1"; // what request-abs-pointer says (a hostile guest: anything)
    bool multi_touch = true;
    bool publish_gref = true;
    std::string bad_gref; // non-empty: published instead of the real grant reference
};

class KbdFront {
public:
    KbdFront(loopback::Hypervisor& hv, xenbus::testing::Toolstack& toolstack, const std::string& name)
        : hv_(hv), toolstack_(toolstack), domain_(hv, name), paths_(xen::kDom0, domain_.domid(), xenbus::DeviceType::Vkbd, 0) {}

    void start(const KbdFrontOptions& options = {}) {
        toolstack_.add_device(paths_);
        frame_ = hv_.allocate_pages(domain_.domid(), 1).front();
        page_ = hv_.frontend_view(domain_.domid(), frame_);
        const auto gref = hv_.grant_access(domain_.domid(), frame_, xen::kDom0, xen::Access::ReadWrite);
        port_ = domain_.events().bind_unbound(xen::kDom0);
        if (options.publish_gref) {
            domain_.write(paths_, "page-gref", options.bad_gref.empty() ? std::to_string(gref) : options.bad_gref);
        }
        domain_.write(paths_, "page-ref", std::to_string(frame_));
        domain_.write(paths_, "event-channel", std::to_string(port_));
        if (options.abs_pointer) domain_.write(paths_, "request-abs-pointer", options.abs_pointer_value);
        if (options.multi_touch) domain_.write(paths_, "request-multi-touch", "1");
        domain_.set_state(paths_, xenbus::XenbusState::Initialised);
    }
    void write_node(const std::string& node, const std::string& value) { domain_.write(paths_, node, value); }
    void set_connected() { domain_.set_state(paths_, xenbus::XenbusState::Connected); }

    // Everything the backend produced since the last call; consumes it like xen-kbdfront.
    std::vector<xenkbd_in_event> take_events() {
        std::vector<xenkbd_in_event> events;
        const std::uint32_t prod = index(offsetof(xenkbd_page, in_prod)).load(std::memory_order_acquire);
        std::uint32_t cons = index(offsetof(xenkbd_page, in_cons)).load();
        for (; cons != prod; ++cons) {
            xenkbd_in_event event{};
            std::memcpy(&event, page_.bytes().data() + XENKBD_IN_RING_OFFS + (cons % XENKBD_IN_RING_LEN) * XENKBD_IN_EVENT_SIZE,
                        sizeof event);
            events.push_back(event);
        }
        index(offsetof(xenkbd_page, in_cons)).store(cons, std::memory_order_release);
        return events;
    }
    [[nodiscard]] std::uint32_t unread() { return index(offsetof(xenkbd_page, in_prod)).load() - index(offsetof(xenkbd_page, in_cons)).load(); }

    // Writes one out-ring slot of arbitrary bytes (kbdif.h defines no out events).
    void push_out_raw(std::uint8_t type) {
        const std::uint32_t prod = index(offsetof(xenkbd_page, out_prod)).load();
        std::byte* slot = page_.bytes().data() + XENKBD_OUT_RING_OFFS + (prod % XENKBD_OUT_RING_LEN) * XENKBD_OUT_EVENT_SIZE;
        std::memset(slot, 0xA5, XENKBD_OUT_EVENT_SIZE);
        std::memcpy(slot, &type, 1);
        index(offsetof(xenkbd_page, out_prod)).store(prod + 1, std::memory_order_release);
    }
    void set_out_prod(std::uint32_t value) { index(offsetof(xenkbd_page, out_prod)).store(value); }
    void set_in_cons(std::uint32_t value) { index(offsetof(xenkbd_page, in_cons)).store(value); }
    [[nodiscard]] std::uint32_t out_cons() { return index(offsetof(xenkbd_page, out_cons)).load(); }
    void notify() { domain_.events().notify(port_); }

    [[nodiscard]] std::string backend_state() { return toolstack_.read(paths_.backend_node("state")); }
    [[nodiscard]] std::string backend_node(const char* name) { return toolstack_.read(paths_.backend_node(name)); }
    [[nodiscard]] xen::DomId domid() const noexcept { return domain_.domid(); }
    void release_view() { page_.reset(); }

private:
    std::atomic_ref<std::uint32_t> index(std::size_t offset) {
        return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(page_.bytes().data() + offset));
    }

    loopback::Hypervisor& hv_;
    xenbus::testing::Toolstack& toolstack_;
    xenbus::testing::FrontendDomain domain_;
    xenbus::DevicePaths paths_;
    xen::Gfn frame_{};
    xen::MappedPages page_;
    xen::Port port_{};
};

// Only the key events of a batch, as (code, pressed) pairs.
inline std::vector<std::pair<std::uint32_t, bool>> keys_of(const std::vector<xenkbd_in_event>& events) {
    std::vector<std::pair<std::uint32_t, bool>> keys;
    for (const auto& event : events) {
        if (event.type == XENKBD_TYPE_KEY) keys.emplace_back(event.key.keycode, event.key.pressed != 0);
    }
    return keys;
}

} // namespace twofold::input::testing
