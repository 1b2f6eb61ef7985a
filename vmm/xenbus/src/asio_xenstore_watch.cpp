#include "twofold/xenbus/asio_xenstore_watch.h"

#include <exception>
#include <set>
#include <utility>

#include <spdlog/spdlog.h>

namespace twofold::xenbus {

AsioXenstoreWatch::Subscription::Subscription(Subscription&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), token_(std::move(other.token_)) {}

AsioXenstoreWatch::Subscription& AsioXenstoreWatch::Subscription::operator=(Subscription&& other) noexcept {
    if (this != &other) {
        reset();
        owner_ = std::exchange(other.owner_, nullptr);
        token_ = std::move(other.token_);
    }
    return *this;
}

void AsioXenstoreWatch::Subscription::reset() noexcept {
    if (owner_ != nullptr) std::exchange(owner_, nullptr)->remove(token_);
}

AsioXenstoreWatch::AsioXenstoreWatch(boost::asio::io_context& io, xen::XenStore& store,
                                     std::shared_ptr<spdlog::logger> log)
    : store_(store), log_(std::move(log)), descriptor_(io, store.watch_fd()) {
    arm();
}

AsioXenstoreWatch::~AsioXenstoreWatch() {
    // The descriptor belongs to the XenStore: stop watching it without closing it.
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
    (void)descriptor_.release();
    for (const auto& [token, entry] : entries_) {
        try {
            store_.unwatch(entry->path, token);
        } catch (const std::exception&) {
            // The connection is going away with us; nothing left to release.
        }
    }
}

AsioXenstoreWatch::Subscription AsioXenstoreWatch::watch(const std::string& path, Handler handler) {
    // Tokens are ours alone (a per-instance counter): no guest string ever becomes one.
    auto token = "twofold-" + std::to_string(next_token_++);
    auto entry = std::make_shared<Entry>(Entry{path, std::move(handler)});
    entries_[token] = entry;
    try {
        store_.watch(path, token);
    } catch (...) {
        entries_.erase(token);
        throw;
    }
    return Subscription(*this, token);
}

void AsioXenstoreWatch::remove(const std::string& token) noexcept {
    const auto found = entries_.find(token);
    if (found == entries_.end()) return;
    const auto path = found->second->path;
    entries_.erase(found);
    try {
        store_.unwatch(path, token);
    } catch (const std::exception& e) {
        log_->warn("unwatch {} failed: {}", path, e.what());
    }
}

void AsioXenstoreWatch::arm() {
    std::weak_ptr<int> alive = alive_;
    descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [this, alive](const boost::system::error_code& ec) {
                               if (ec || alive.expired()) return;
                               on_readable();
                           });
}

void AsioXenstoreWatch::on_readable() {
    std::weak_ptr<int> alive = alive_;
    try {
        const auto events = store_.take_watch_events();
        std::set<std::pair<std::string, std::string>> delivered;
        for (const auto& event : events) {
            if (!delivered.emplace(event.token, event.path).second) continue;
            // Looked up per event: an earlier handler may have removed this subscription.
            const auto found = entries_.find(event.token);
            if (found == entries_.end()) continue;
            auto entry = found->second; // keeps the handler alive while it runs
            try {
                entry->handler(event.path);
            } catch (const std::exception& e) {
                log_->error("watch {}: handler failed: {}", entry->path, e.what());
            }
            if (alive.expired()) return; // a handler destroyed us
        }
    } catch (const std::exception& e) {
        log_->error("xenstore: reading watch events failed: {}", e.what());
    }
    arm();
}

} // namespace twofold::xenbus
