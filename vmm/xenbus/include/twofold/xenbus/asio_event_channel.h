#pragma once
// Event-channel dispatch on a Boost.Asio io_context. Fired ports are handed to their handler
// with a per-wake budget; a handler that reports more work pending is re-posted behind every
// other ready handler instead of looping, so one guest's flood cannot starve another. A port
// is unmasked only after its handler finished, and never once its registration is gone.
#include <cstddef>
#include <functional>
#include <map>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <spdlog/logger.h>

#include "twofold/xen/event_channel.h"

namespace twofold::xenbus {

enum class Work : unsigned char { Done, MorePending };

// Requests (or events, or bytes) a handler may process per wake-up unless told otherwise.
inline constexpr std::size_t kDefaultBudgetPerWake = 64;

class AsioEventChannel {
public:
    using Handler = std::function<Work(std::size_t budget)>;

    // Removes its handler on destruction. Must not outlive the AsioEventChannel.
    class Registration {
    public:
        Registration() = default;
        Registration(AsioEventChannel& owner, xen::Port port) : owner_(&owner), port_(port) {}
        ~Registration() { reset(); }
        Registration(Registration&& other) noexcept;
        Registration& operator=(Registration&& other) noexcept;
        Registration(const Registration&) = delete;
        Registration& operator=(const Registration&) = delete;
        void reset() noexcept;
        [[nodiscard]] bool active() const noexcept { return owner_ != nullptr; }

    private:
        AsioEventChannel* owner_ = nullptr;
        xen::Port port_ = 0;
    };

    AsioEventChannel(boost::asio::io_context& io, xen::EventChannel& channel, std::shared_ptr<spdlog::logger> log,
                     std::size_t budget_per_wake = kDefaultBudgetPerWake);
    ~AsioEventChannel();
    AsioEventChannel(const AsioEventChannel&) = delete;
    AsioEventChannel& operator=(const AsioEventChannel&) = delete;

    // One handler per local port. The handler also runs once right away (posted), so work a
    // peer queued before we bound is not lost waiting for a notify that already happened.
    [[nodiscard]] Registration add(xen::Port port, Handler handler);
    [[nodiscard]] std::size_t budget_per_wake() const noexcept { return budget_; }
    [[nodiscard]] std::size_t handler_count() const noexcept { return entries_.size(); }

private:
    struct Entry {
        xen::Port port{};
        Handler handler;
        bool scheduled = false;
    };

    void arm();
    void on_readable();
    void schedule(const std::shared_ptr<Entry>& entry);
    void run(const std::weak_ptr<Entry>& weak);
    void remove(xen::Port port) noexcept;

    boost::asio::io_context& io_;
    xen::EventChannel& channel_;
    std::shared_ptr<spdlog::logger> log_;
    std::size_t budget_;
    boost::asio::posix::stream_descriptor descriptor_;
    std::map<xen::Port, std::shared_ptr<Entry>> entries_;
    // Posted work checks this before touching *this: it expires with the object.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace twofold::xenbus
