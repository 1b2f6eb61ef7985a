#pragma once
// Keeps every persona's own xenstore nodes closed to every other domain but dom0.
//
// xenstored (started with --perm-nb 1, rc.toolstack) refuses a guest's permission list that
// names another domain. It cannot refuse the owner's one entry, which also gives the access of
// every domain not listed: `b<self>` on a node of its own opens that node to the other persona,
// a channel between two colluding personas that no FLASK rule sees (docs/security.md).
// xenstored fires watches on XS_SET_PERMS, so dom0 watches each persona's subtree and, on every
// event, puts a persona-owned node's default back to `n`, keeping only entries that name dom0
// (the read access dom0's device plumbing gives the backends). What is left is the window of
// one watch round trip in dom0 between the guest's change and the reset.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "twofold/xen/types.h"
#include "twofold/xen/xenstore.h"

namespace twofold::manager {

// The permissions a node must get instead of `current` so that no domain other than its owner
// and dom0 can read or write it; nullopt when it needs nothing. Only nodes the persona owns are
// its doing: a node owned by dom0 (or by anyone else) is left as it is.
[[nodiscard]] std::optional<std::vector<xen::Permission>> closed_permissions(xen::DomId persona,
                                                                             std::span<const xen::Permission> current);

// "b2,r0": the xenstore-ls spelling, for audit records and logs.
[[nodiscard]] std::string describe(std::span<const xen::Permission> perms);

// A watch event's path, if it is a well-formed node of that persona's subtree (xenstored reports
// the path the guest wrote: it is guest-chosen text).
[[nodiscard]] bool in_persona_subtree(xen::DomId persona, std::string_view path) noexcept;

// Runs on a thread of its own, with its own io_context, on its own xenstore connection: the
// manager's loop blocks for seconds in a persona's start (libvirt's domain creation), and a reset
// that waited for it came after the guest had used its open node and removed it (board run
// test-20261207-032434: personal's node stayed open 5 s while secure was being started). The
// window is one watch round trip whatever the manager is doing.
//
// Reads its watch events itself rather than through xenbus::AsioXenstoreWatch: that library
// compiles Asio separately (BOOST_ASIO_SEPARATE_COMPILATION, public), and the manager's other
// libraries use header-only Asio; mixing both in one binary breaks the one-definition rule.
class XenstorePermissionGuard {
public:
    struct Reset {
        std::string persona;
        std::string path;
        std::string was; // describe() of the permissions the guest had set
    };
    // Called on the guard's thread, after the node is closed again: hand the record over to
    // the caller's own loop rather than doing work there.
    using Report = std::function<void(const Reset&)>;

    // Nodes visited when a subtree is swept (at guard(), for what was set before dom0 watched):
    // xenstored's default quota is 1000 nodes per domain.
    static constexpr std::size_t kMaxSweepNodes = 4096;

    // `store`: dom0's privileged connection, used only by the guard's thread from now on; its
    // watch fd is read there, not closed.
    XenstorePermissionGuard(xen::XenStore& store, Report report);
    ~XenstorePermissionGuard();
    XenstorePermissionGuard(const XenstorePermissionGuard&) = delete;
    XenstorePermissionGuard& operator=(const XenstorePermissionGuard&) = delete;

    // Watches /local/domain/<domid> for that persona (replacing an earlier domid) and sweeps it;
    // returns once both are done (errors are rethrown here). Never call these from a Report.
    void guard(const std::string& persona, xen::DomId domid);
    void release(const std::string& persona);

    [[nodiscard]] std::uint64_t resets() const noexcept { return resets_.load(); }
    [[nodiscard]] std::optional<xen::DomId> guarded_domid(const std::string& persona);

private:
    struct Guarded {
        xen::DomId domid;
        std::string token;
    };

    // Runs `work` on the guard's thread and waits for it, so that guarded_ and the connection
    // are only ever touched there.
    template <class Work>
    auto on_guard_thread(Work work) -> decltype(work());

    void arm();
    void on_readable();
    void release_here(const std::string& persona);
    void check(const std::string& persona, xen::DomId domid, const std::string& path);
    void sweep(const std::string& persona, xen::DomId domid);

    xen::XenStore& store_;
    Report report_;
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> keep_running_;
    boost::asio::posix::stream_descriptor descriptor_;
    std::map<std::string, Guarded> guarded_; // by persona name; guard thread only
    std::uint64_t next_token_ = 0;            // guard thread only
    std::atomic<std::uint64_t> resets_ = 0;
    std::thread thread_; // last: started once everything above exists
};

} // namespace twofold::manager
