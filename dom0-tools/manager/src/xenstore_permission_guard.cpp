#include "twofold/manager/xenstore_permission_guard.h"

#include <algorithm>
#include <exception>
#include <future>
#include <set>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "twofold/xen/error.h"

namespace twofold::manager {
namespace {

using Kind = xen::Permission::Kind;

std::string home_of(xen::DomId domid) { return "/local/domain/" + std::to_string(domid); }

// xenstored's longest absolute path (XENSTORE_ABS_PATH_MAX).
constexpr std::size_t kMaxPath = 3072;

char letter(Kind kind) noexcept {
    switch (kind) {
    case Kind::None: return 'n';
    case Kind::Read: return 'r';
    case Kind::Write: return 'w';
    case Kind::ReadWrite: return 'b';
    }
    return '?';
}

} // namespace

std::optional<std::vector<xen::Permission>> closed_permissions(xen::DomId persona,
                                                               std::span<const xen::Permission> current) {
    if (current.empty() || current.front().domid != persona) {
        return std::nullopt;
    }
    std::vector<xen::Permission> closed{{persona, Kind::None}};
    bool changed = current.front().kind != Kind::None;
    for (const auto& entry : current.subspan(1)) {
        if (entry.domid == xen::kDom0) {
            closed.push_back(entry);
        } else {
            changed = true;
        }
    }
    if (!changed) {
        return std::nullopt;
    }
    return closed;
}

std::string describe(std::span<const xen::Permission> perms) {
    std::string out;
    for (const auto& p : perms) {
        if (!out.empty()) {
            out += ',';
        }
        out += letter(p.kind);
        out += std::to_string(p.domid);
    }
    return out;
}

bool in_persona_subtree(xen::DomId persona, std::string_view path) noexcept {
    const std::string home = home_of(persona);
    if (path.size() > kMaxPath || !path.starts_with(home)) {
        return false;
    }
    const std::string_view rest = path.substr(home.size());
    if (rest.empty()) {
        return true;
    }
    if (rest.front() != '/' || rest.back() == '/' || rest.find("//") != std::string_view::npos) {
        return false;
    }
    return std::all_of(rest.begin(), rest.end(), xen::is_xenstore_path_char);
}

template <class Work>
auto XenstorePermissionGuard::on_guard_thread(Work work) -> decltype(work()) {
    std::packaged_task<decltype(work())()> task(std::move(work));
    auto done = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return done.get();
}

XenstorePermissionGuard::XenstorePermissionGuard(xen::XenStore& store, Report report)
    : store_(store), report_(std::move(report)), keep_running_(boost::asio::make_work_guard(io_)),
      descriptor_(io_, store.watch_fd()) {
    arm();
    thread_ = std::thread([this] {
        for (;;) {
            try {
                io_.run();
                return;
            } catch (const std::exception& e) {
                // Handlers catch their own errors; this keeps the guard alive if one did not.
                spdlog::error("xenstore permission guard: {}", e.what());
            }
        }
    });
}

XenstorePermissionGuard::~XenstorePermissionGuard() {
    try {
        on_guard_thread([this] {
            // The descriptor belongs to the XenStore: stop waiting on it without closing it.
            boost::system::error_code ignored;
            descriptor_.cancel(ignored);
            (void)descriptor_.release();
            while (!guarded_.empty()) {
                release_here(guarded_.begin()->first);
            }
        });
    } catch (const std::exception&) {
        // The connection is going away with the manager.
    }
    keep_running_.reset();
    io_.stop();
    thread_.join();
}

std::optional<xen::DomId> XenstorePermissionGuard::guarded_domid(const std::string& persona) {
    return on_guard_thread([&]() -> std::optional<xen::DomId> {
        const auto found = guarded_.find(persona);
        if (found == guarded_.end()) {
            return std::nullopt;
        }
        return found->second.domid;
    });
}

void XenstorePermissionGuard::guard(const std::string& persona, xen::DomId domid) {
    on_guard_thread([&] {
        if (const auto found = guarded_.find(persona); found != guarded_.end()) {
            if (found->second.domid == domid) {
                return;
            }
            release_here(persona);
        }
        // Tokens are ours (a counter): no guest string becomes one.
        Guarded g{domid, "twofold-perms-" + std::to_string(next_token_++)};
        store_.watch(home_of(domid), g.token);
        guarded_.emplace(persona, std::move(g));
        sweep(persona, domid);
    });
}

void XenstorePermissionGuard::release(const std::string& persona) {
    on_guard_thread([&] { release_here(persona); });
}

void XenstorePermissionGuard::release_here(const std::string& persona) {
    const auto found = guarded_.find(persona);
    if (found == guarded_.end()) {
        return;
    }
    try {
        store_.unwatch(home_of(found->second.domid), found->second.token);
    } catch (const std::exception& e) {
        spdlog::warn("persona {}: xenstore unwatch failed: {}", persona, e.what());
    }
    guarded_.erase(found);
}

void XenstorePermissionGuard::check(const std::string& persona, xen::DomId domid, const std::string& path) {
    std::optional<std::vector<xen::Permission>> current;
    try {
        current = store_.get_permissions(path);
    } catch (const xen::XenError& e) {
        spdlog::warn("persona {}: cannot read the permissions of {}: {}", persona, path, e.what());
        return;
    }
    if (!current) {
        return; // removed meanwhile
    }
    const auto closed = closed_permissions(domid, *current);
    if (!closed) {
        return;
    }
    try {
        store_.set_permissions(path, *closed);
    } catch (const xen::XenError& e) {
        // Gone between the two calls; a node that exists again fires another event.
        spdlog::warn("persona {}: cannot reset the permissions of {}: {}", persona, path, e.what());
        return;
    }
    ++resets_;
    report_(Reset{persona, path, describe(*current)});
}

void XenstorePermissionGuard::sweep(const std::string& persona, xen::DomId domid) {
    std::vector<std::string> pending{home_of(domid)};
    std::size_t visited = 0;
    while (!pending.empty() && visited < kMaxSweepNodes) {
        const std::string path = std::move(pending.back());
        pending.pop_back();
        ++visited;
        check(persona, domid, path);
        std::vector<std::string> children;
        try {
            children = store_.list(path);
        } catch (const xen::XenError&) {
            continue; // removed meanwhile
        }
        for (const auto& child : children) {
            pending.push_back(path + "/" + child);
        }
    }
    if (!pending.empty()) {
        spdlog::warn("persona {}: xenstore sweep stopped at {} nodes; the watch covers later changes", persona,
                     kMaxSweepNodes);
    }
}

void XenstorePermissionGuard::arm() {
    descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [this](const boost::system::error_code& ec) {
                               if (ec) {
                                   if (ec != boost::asio::error::operation_aborted) { // not the destructor
                                       spdlog::error("xenstore permission guard: waiting for watch events: {}",
                                                     ec.message());
                                   }
                                   return;
                               }
                               on_readable();
                           });
}

void XenstorePermissionGuard::on_readable() {
    try {
        std::set<std::pair<std::string, std::string>> seen; // one check per node and batch
        for (const auto& event : store_.take_watch_events()) {
            if (!seen.emplace(event.token, event.path).second) {
                continue;
            }
            const auto owner = std::find_if(guarded_.begin(), guarded_.end(),
                                            [&](const auto& entry) { return entry.second.token == event.token; });
            if (owner == guarded_.end()) {
                continue; // another watch on this connection, or one released meanwhile
            }
            if (!in_persona_subtree(owner->second.domid, event.path)) {
                spdlog::warn("persona {}: xenstore event outside its subtree ignored", owner->first);
                continue;
            }
            check(owner->first, owner->second.domid, event.path);
        }
    } catch (const std::exception& e) {
        spdlog::error("xenstore: reading watch events failed: {}", e.what());
    }
    arm();
}

} // namespace twofold::manager
