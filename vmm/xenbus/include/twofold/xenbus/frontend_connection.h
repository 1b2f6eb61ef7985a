#pragma once
// Drives one frontend through the xenbus handshake: watches the frontend's state node, feeds
// the state machine, writes our backend state, and on bind reads the ring references and
// port through the validated parsers, maps and binds them, and hands them to the Device.
// It owns every Xen resource of this frontend and releases all of them on close, on
// destruction and on every error path. Any error closes this frontend only.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/logger.h>

#include "twofold/xen/event_channel.h"
#include "twofold/xen/mapped_pages.h"
#include "twofold/xen/memory.h"
#include "twofold/xen/xenstore.h"
#include "twofold/xenbus/asio_event_channel.h"
#include "twofold/xenbus/asio_xenstore_watch.h"
#include "twofold/xenbus/bind_backoff.h"
#include "twofold/xenbus/device.h"
#include "twofold/xenbus/device_paths.h"
#include "twofold/xenbus/state_machine.h"

namespace twofold::xenbus {

// The per-process Xen handles and event-loop glue every connection of a backend shares.
struct BackendServices {
    boost::asio::io_context& io;
    xen::XenStore& store;
    xen::EventChannel& events;
    xen::GrantMapper& grants;
    xen::ForeignMemory& foreign;
    AsioXenstoreWatch& watches;
    AsioEventChannel& ports;
    std::shared_ptr<spdlog::logger> log;
};

class FrontendConnection {
public:
    // Called (posted, never from inside the connection) when the handler should be destroyed:
    // refused at start, frontend gone, or Closed while the device is offline.
    using OnFinished = std::function<void(const DevicePaths&)>;

    // A frontend that keeps failing to bind is held (its state changes ignored) per `backoff`.
    FrontendConnection(BackendServices services, DevicePaths paths, std::unique_ptr<Device> device,
                       OnFinished on_finished = {}, BindBackoffLimits backoff = {});
    ~FrontendConnection();
    FrontendConnection(const FrontendConnection&) = delete;
    FrontendConnection& operator=(const FrontendConnection&) = delete;

    // Checks the toolstack's frontend links, publishes our nodes and InitWait, and starts
    // watching the frontend. A refusal is logged and reported through OnFinished.
    void start();

    [[nodiscard]] const DevicePaths& paths() const noexcept { return paths_; }
    [[nodiscard]] XenbusState backend_state() const noexcept { return machine_.backend_state(); }
    [[nodiscard]] bool bound() const noexcept { return binding_.has_value(); }
    [[nodiscard]] bool finished() const noexcept { return finished_; }
    [[nodiscard]] bool held() const noexcept { return backoff_.held(BindBackoff::Clock::now()); }

private:
    struct BoundSpec {
        xen::MappedPages ring;
        xen::BoundPort port;
        AsioEventChannel::Registration registration;
    };
    // One entry per ring_specs() entry, all bound or none.
    struct Binding {
        std::vector<BoundSpec> rings;
    };

    void on_frontend_changed();
    void execute(const Step& step);
    bool bind();
    void unbind() noexcept;
    void fail(const std::string& why);
    void hold_after_failure();
    bool write_backend_state(XenbusState state);
    [[nodiscard]] bool device_online() const;
    Work service(std::size_t index, std::size_t budget);
    bool map_and_bind(const NodeReader& frontend, const RingSpec& spec, BoundSpec& out);
    void finish();

    BackendServices services_;
    DevicePaths paths_;
    std::unique_ptr<Device> device_;
    OnFinished on_finished_;
    std::string name_; // "<type> <frontend domid>/<devid>" for log lines
    XenbusStateMachine machine_;
    // The last frontend state seen, so each change is logged once: a device that never
    // connects then shows how far its frontend got.
    std::optional<XenbusState> frontend_state_;
    std::optional<Binding> binding_;
    AsioXenstoreWatch::Subscription frontend_watch_;
    bool finished_ = false;
    BindBackoff backoff_;
    boost::asio::steady_timer hold_timer_; // serves the frontend again when a hold ends
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace twofold::xenbus
