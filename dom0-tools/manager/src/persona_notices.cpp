#include "twofold/manager/persona_notices.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <system_error>

#include <spdlog/spdlog.h>

namespace twofold::manager {

std::optional<std::uint64_t> parse_notice_counter(std::string_view value) noexcept {
    if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
    if (value.empty() || value.size() > 20) return std::nullopt;
    if (!std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc{} || end != value.data() + value.size()) return std::nullopt; // out of range
    return n;
}

PersonaNotices::PersonaNotices(boost::asio::io_context& io, xen::XenStore& store, OnNotice on_notice)
    : store_(store), on_notice_(std::move(on_notice)), descriptor_(io, store.watch_fd()) {
    arm();
}

PersonaNotices::~PersonaNotices() {
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
    (void)descriptor_.release(); // the descriptor belongs to the XenStore
    for (const auto& [persona, w] : watched_) {
        try {
            store_.unwatch(node_of(w.domid), w.token);
        } catch (const std::exception&) {
            // The connection goes away with the manager.
        }
    }
}

std::string PersonaNotices::node_of(xen::DomId domid) {
    return "/local/domain/" + std::to_string(domid) + "/" + std::string(kNoticeNode);
}

std::optional<std::uint64_t> PersonaNotices::read_counter(const std::string& persona, const Watched& w) {
    std::optional<std::string> value;
    try {
        value = store_.read(node_of(w.domid));
    } catch (const std::exception& e) {
        spdlog::warn("persona {}: cannot read its notice node: {}", persona, e.what());
        return std::nullopt;
    }
    if (!value) return std::nullopt; // not written (yet), or removed
    auto n = parse_notice_counter(*value);
    if (!n) {
        ++refused_;
        // The value is the guest's: its size only, never its text.
        spdlog::warn("persona {}: notice node holds no counter ({} bytes); ignored", persona, value->size());
    }
    return n;
}

void PersonaNotices::watch(const std::string& persona, xen::DomId domid) {
    forget(persona);
    Watched w{domid, "twofold-notice-" + std::to_string(next_token_++), std::nullopt};
    store_.watch(node_of(domid), w.token);
    w.last = read_counter(persona, w);
    watched_.emplace(persona, std::move(w));
}

void PersonaNotices::forget(const std::string& persona) {
    const auto found = watched_.find(persona);
    if (found == watched_.end()) return;
    try {
        store_.unwatch(node_of(found->second.domid), found->second.token);
    } catch (const std::exception& e) {
        spdlog::warn("persona {}: notice unwatch failed: {}", persona, e.what());
    }
    watched_.erase(found);
}

void PersonaNotices::arm() {
    // A wait that completed just before this object went away is no longer cancellable: the
    // handler checks that the object is still there before touching it.
    descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
        if (alive.expired()) return;
        if (ec) {
            if (ec != boost::asio::error::operation_aborted) {
                spdlog::error("persona notices: waiting for watch events: {}", ec.message());
            }
            return;
        }
        on_readable();
    });
}

void PersonaNotices::on_readable() {
    std::set<std::string> changed; // one read per persona and batch, however many events
    try {
        for (const auto& event : store_.take_watch_events()) {
            for (const auto& [persona, w] : watched_) {
                if (w.token == event.token) changed.insert(persona);
            }
        }
    } catch (const std::exception& e) {
        spdlog::error("persona notices: reading watch events failed: {}", e.what());
    }
    for (const auto& persona : changed) {
        const auto found = watched_.find(persona);
        if (found == watched_.end()) continue;
        const auto n = read_counter(persona, found->second);
        if (!n) continue;
        if (found->second.last && *n <= *found->second.last) {
            if (*n < *found->second.last) ++refused_;
            continue; // the watch's first firing, a rewrite, or a counter going backwards
        }
        found->second.last = n;
        on_notice_(persona);
    }
    arm();
}

} // namespace twofold::manager
