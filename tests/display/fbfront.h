#pragma once
// A simulated Linux xen-fbfront on the loopback: a shared page with the xenfb_page header, a
// framebuffer in its own pages, a one-page directory of their frame numbers, xenstore nodes
// page-ref/event-channel/protocol/feature-update, and update events on the out ring.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <xen/io/fbif.h>

#include "twofold/display/geometry.h"
#include "twofold/xenbus_test/loopback_backend.h"

namespace twofold::display::testing {

struct FbMode {
    std::int32_t width;
    std::int32_t height;
    std::uint32_t line_length;
    std::uint32_t mem_length;
    std::uint8_t depth = 32;
};

class FbFront {
public:
    FbFront(loopback::Hypervisor& hv, xenbus::testing::Toolstack& toolstack, const std::string& name)
        : hv_(hv), toolstack_(toolstack), domain_(hv, name), paths_(xen::kDom0, domain_.domid(), xenbus::DeviceType::Vfb, 0) {}

    // Lays out the framebuffer and page, publishes the nodes and goes Initialised.
    void start(const FbMode& mode, bool feature_update = true) {
        toolstack_.add_device(paths_);
        mode_ = mode;
        const std::size_t frames = (std::size_t{mode.mem_length} + 4095) / 4096;
        page_frame_ = hv_.allocate_pages(domain_.domid(), 1).front();
        page_ = hv_.frontend_view(domain_.domid(), page_frame_);
        if (frames > 0) {
            fb_frames_ = hv_.allocate_pages(domain_.domid(), frames);
            fb_ = hv_.frontend_view(domain_.domid(), fb_frames_);
        }
        directory_frame_ = hv_.allocate_pages(domain_.domid(), 1).front();
        write_directory(fb_frames_);
        put(offsetof(xenfb_page, width), mode.width);
        put(offsetof(xenfb_page, height), mode.height);
        put(offsetof(xenfb_page, line_length), mode.line_length);
        put(offsetof(xenfb_page, mem_length), mode.mem_length);
        put(offsetof(xenfb_page, depth), mode.depth);
        put(offsetof(xenfb_page, pd), std::uint64_t{directory_frame_});
        port_ = domain_.events().bind_unbound(xen::kDom0);
        domain_.write(paths_, "page-ref", std::to_string(page_frame_));
        domain_.write(paths_, "event-channel", std::to_string(port_));
        domain_.write(paths_, "protocol", "arm-abi");
        domain_.write(paths_, "feature-update", feature_update ? "1" : "0");
        domain_.set_state(paths_, xenbus::XenbusState::Initialised);
    }

    // The frontend's xenbus state, as a guest flipping it in a loop writes it.
    void set_state(xenbus::XenbusState state) { domain_.set_state(paths_, state); }

    bool connect(xenbus::testing::LoopbackBackend& backend, const FbMode& mode, bool feature_update = true) {
        start(mode, feature_update);
        const bool ok = backend.run_until([&] { return backend_state() == "4"; });
        if (ok) domain_.set_state(paths_, xenbus::XenbusState::Connected);
        return ok;
    }

    void write_directory(const std::vector<xen::Gfn>& entries) {
        auto view = hv_.frontend_view(domain_.domid(), directory_frame_);
        std::memcpy(view.bytes().data(), entries.data(), std::min<std::size_t>(entries.size() * 8, 4096));
    }

    void fill(std::uint32_t xrgb) {
        for (std::int32_t y = 0; y < mode_.height; ++y)
            for (std::int32_t x = 0; x < mode_.width; ++x) set(static_cast<std::uint32_t>(x), static_cast<std::uint32_t>(y), xrgb);
    }
    void set(std::uint32_t x, std::uint32_t y, std::uint32_t xrgb) {
        std::memcpy(fb_.bytes().data() + std::size_t{y} * mode_.line_length + std::size_t{x} * 4, &xrgb, 4);
    }

    // Writes one out-ring event without checking for room (a hostile guest may overrun).
    void push_raw(const xenfb_out_event& event) {
        const std::uint32_t prod = index(offsetof(xenfb_page, out_prod)).load(std::memory_order_relaxed);
        std::memcpy(page_.bytes().data() + XENFB_OUT_RING_OFFS + (prod % XENFB_OUT_RING_LEN) * XENFB_OUT_EVENT_SIZE,
                    &event, sizeof event);
        index(offsetof(xenfb_page, out_prod)).store(prod + 1, std::memory_order_release);
    }
    // What a well-behaved xen-fbfront does: wait for room, then push and notify.
    bool update(xenbus::testing::LoopbackBackend& backend, std::int32_t x, std::int32_t y, std::int32_t w, std::int32_t h) {
        const bool room = backend.run_until([&] {
            return index(offsetof(xenfb_page, out_prod)).load() - index(offsetof(xenfb_page, out_cons)).load() <
                   XENFB_OUT_RING_LEN;
        });
        if (!room) return false;
        xenfb_out_event event{};
        event.update.type = XENFB_TYPE_UPDATE;
        event.update.x = x;
        event.update.y = y;
        event.update.width = w;
        event.update.height = h;
        push_raw(event);
        notify();
        return true;
    }
    // The same without waiting: false when the ring is full.
    bool update_if_room(std::int32_t x, std::int32_t y, std::int32_t w, std::int32_t h) {
        if (index(offsetof(xenfb_page, out_prod)).load() - index(offsetof(xenfb_page, out_cons)).load() >=
            XENFB_OUT_RING_LEN) {
            return false;
        }
        xenfb_out_event event{};
        event.update.type = XENFB_TYPE_UPDATE;
        event.update.x = x;
        event.update.y = y;
        event.update.width = w;
        event.update.height = h;
        push_raw(event);
        notify();
        return true;
    }
    void set_out_prod(std::uint32_t value) { index(offsetof(xenfb_page, out_prod)).store(value); }
    [[nodiscard]] std::uint32_t out_cons() { return index(offsetof(xenfb_page, out_cons)).load(); }
    void notify() { domain_.events().notify(port_); }

    [[nodiscard]] std::string backend_state() { return toolstack_.read(paths_.backend_node("state")); }
    [[nodiscard]] std::string backend_node(const char* name) { return toolstack_.read(paths_.backend_node(name)); }
    [[nodiscard]] xen::DomId domid() const noexcept { return domain_.domid(); }
    [[nodiscard]] xen::Gfn page_frame() const noexcept { return page_frame_; }
    [[nodiscard]] const xenbus::DevicePaths& paths() const noexcept { return paths_; }
    [[nodiscard]] const std::vector<xen::Gfn>& fb_frames() const noexcept { return fb_frames_; }
    void release_views() {
        page_.reset();
        fb_.reset();
    }

private:
    template <typename T>
    void put(std::size_t offset, T value) { std::memcpy(page_.bytes().data() + offset, &value, sizeof value); }
    std::atomic_ref<std::uint32_t> index(std::size_t offset) {
        return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(page_.bytes().data() + offset));
    }

    loopback::Hypervisor& hv_;
    xenbus::testing::Toolstack& toolstack_;
    xenbus::testing::FrontendDomain domain_;
    xenbus::DevicePaths paths_;
    FbMode mode_{};
    xen::Gfn page_frame_{};
    xen::Gfn directory_frame_{};
    std::vector<xen::Gfn> fb_frames_;
    xen::MappedPages page_;
    xen::MappedPages fb_;
    xen::Port port_{};
};

} // namespace twofold::display::testing
