#pragma once
// The manager's side of a backend's xenstore (issue 14, item 2): one proxy per backend
// process, on the socketpair handed over at spawn (`--xenstore-fd`). The manager holds the
// privileged xenstored connection; the backend holds only its socket, and every request it
// sends is parsed strictly (vmm/xenbus xenstore_wire.h) and checked by the gate's rules
// (vmm/xenbus xenstore_gate.h) for the personas it serves before it reaches xenstored:
//   /local/domain/0/backend/<type>/<persona's domid>/...   read, write, mkdir, rm, list, watch
//   /local/domain/<persona's domid>/device/<type>/...      read, list, watch
//   /local/domain/<persona's domid> and its name           read
//   /local/domain/0/backend/<type>                          list and watch, filtered to them
//   @releaseDomain                                          watch
// "read" includes reading the node's permissions (get_permissions), as in xenstored; setting
// them is never admitted (the toolstack's job).
// Watch events of its own watches are relayed, filtered the same way. A refused request gets
// an EACCES reply and a rate-limited `xenstore.denied` audit record; a frame that does not
// parse, a backend that stops reading its events, or too many watches ends the link (the
// supervisor then kills and restarts the backend).
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <nlohmann/json.hpp>

#include "twofold/xen/unique_fd.h"
#include "twofold/xen/xenstore.h"
#include "twofold/xenbus/device_paths.h"
#include "twofold/xenbus/xenstore_gate.h"
#include "twofold/xenbus/xenstore_wire.h"

namespace twofold::manager {

// Watches one backend may hold (its type directory, @releaseDomain, a few per frontend).
inline constexpr std::size_t kMaxProxyWatches = 64;
// Bytes of replies and events queued for a backend that does not read; past it: link ended.
inline constexpr std::size_t kMaxProxyOutboxBytes = 1024 * 1024;
// Refusals recorded per window; the rest are counted in one `xenstore.denied-dropped`.
inline constexpr std::uint32_t kMaxDenialAuditsPerWindow = 5;
inline constexpr std::chrono::seconds kDenialAuditWindow{10};

struct XenStoreProxyStats {
    std::uint64_t requests = 0;
    std::uint64_t denied = 0;
    std::uint64_t events = 0;
};

class XenStoreProxy {
public:
    // An audit record to write (kind, fields); the supervisor adds the backend's name.
    using Audit = std::function<void(const std::string& kind, nlohmann::json fields)>;
    // The link ended (the reason), once; the proxy does nothing afterwards.
    using Broken = std::function<void(const std::string& why)>;

    XenStoreProxy(boost::asio::io_context& io, xen::UniqueFd socket, std::unique_ptr<xen::XenStore> store,
                  xenbus::DeviceType type, Audit audit, Broken broken);
    ~XenStoreProxy();
    XenStoreProxy(const XenStoreProxy&) = delete;
    XenStoreProxy& operator=(const XenStoreProxy&) = delete;

    void start();
    // The persona domains whose paths this backend process may use (its own; for a backend
    // serving every persona, each persona's current domain). A change fires the backend's
    // watches on its type directory, so it rescans and finds (or drops) the entries.
    void set_frontends(std::set<xen::DomId> frontends);
    // Records the refusals the last window did not (called on the manager's tick too).
    void report_denials();
    [[nodiscard]] const XenStoreProxyStats& stats() const noexcept { return stats_; }
    [[nodiscard]] bool admits(xenbus::XenStoreOp op, const std::string& path) const;

private:
    void read_more();
    void on_request(const xenbus::wire::Request& request);
    xenbus::wire::Reply perform(const xenbus::wire::Request& request);
    void deny(const xenbus::wire::Request& request);
    void arm_events();
    void relay_events();
    void send(const xenbus::wire::Reply& reply);
    void write_next();
    void end(const std::string& why);
    [[nodiscard]] bool event_admitted(const xen::WatchEvent& event) const;

    boost::asio::local::stream_protocol::socket socket_;
    std::unique_ptr<xen::XenStore> store_;
    boost::asio::posix::stream_descriptor store_events_;
    xenbus::DeviceType type_;
    std::string type_dir_;
    std::set<xen::DomId> frontends_;
    Audit audit_;
    Broken broken_;
    std::map<std::string, std::string> watches_; // token -> path
    xenbus::wire::FrameReader reader_;
    std::array<std::byte, 8192> buffer_{};
    std::deque<std::string> outbox_;
    std::size_t outbox_bytes_ = 0;
    bool writing_ = false;
    bool ended_ = false;
    XenStoreProxyStats stats_;
    std::chrono::steady_clock::time_point window_start_{};
    std::uint32_t window_audited_ = 0;
    std::uint32_t window_dropped_ = 0;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace twofold::manager
