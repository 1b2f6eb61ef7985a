#pragma once
// Xenstore watch dispatch on a Boost.Asio io_context: one XenStore connection, many watches,
// each identified by a token we generate and mapped to its handler. Handlers re-read what
// they need (watch events say only "something at or below here changed"), so identical
// events queued together are delivered once.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <spdlog/logger.h>

#include "twofold/xen/xenstore.h"

namespace twofold::xenbus {

class AsioXenstoreWatch {
public:
    using Handler = std::function<void(const std::string& changed_path)>;

    // Unwatches on destruction. Must not outlive the AsioXenstoreWatch.
    class Subscription {
    public:
        Subscription() = default;
        Subscription(AsioXenstoreWatch& owner, std::string token) : owner_(&owner), token_(std::move(token)) {}
        ~Subscription() { reset(); }
        Subscription(Subscription&& other) noexcept;
        Subscription& operator=(Subscription&& other) noexcept;
        Subscription(const Subscription&) = delete;
        Subscription& operator=(const Subscription&) = delete;
        void reset() noexcept;
        [[nodiscard]] bool active() const noexcept { return owner_ != nullptr; }

    private:
        AsioXenstoreWatch* owner_ = nullptr;
        std::string token_;
    };

    AsioXenstoreWatch(boost::asio::io_context& io, xen::XenStore& store, std::shared_ptr<spdlog::logger> log);
    ~AsioXenstoreWatch();
    AsioXenstoreWatch(const AsioXenstoreWatch&) = delete;
    AsioXenstoreWatch& operator=(const AsioXenstoreWatch&) = delete;

    // The handler runs from the io_context, once soon after registration and on every change.
    [[nodiscard]] Subscription watch(const std::string& path, Handler handler);
    [[nodiscard]] std::size_t watch_count() const noexcept { return entries_.size(); }

private:
    struct Entry {
        std::string path;
        Handler handler;
    };

    void arm();
    void on_readable();
    void remove(const std::string& token) noexcept;

    xen::XenStore& store_;
    std::shared_ptr<spdlog::logger> log_;
    boost::asio::posix::stream_descriptor descriptor_;
    std::map<std::string, std::shared_ptr<Entry>> entries_;
    std::uint64_t next_token_ = 0;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace twofold::xenbus
