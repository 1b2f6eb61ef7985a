#pragma once
// A persona's content-free notice to dom0 ("I have something new"), for the strip mark of
// docs/messaging.md, "Notice without leaks".
//
// The guest writes a counter to its own node /local/domain/<domid>/data/twofold-notice (the
// secure persona's messenger does, through guests/src/notify.c, on every message it receives).
// dom0 watches the node on a xenstore connection of its own; a value that is a new, larger
// counter is a notice. Nothing else of the guest's crosses: the value is parsed into a number
// and compared, never shown, logged or forwarded. The other persona cannot read the node (the
// permission guard keeps every persona's subtree closed to the other) and sees nothing of
// the mark (it is drawn by dom0's display backend on dom0's strip).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "twofold/xen/types.h"
#include "twofold/xen/xenstore.h"

namespace twofold::manager {

// The node, relative to the persona's home.
inline constexpr std::string_view kNoticeNode = "data/twofold-notice";

// The guest's value as a counter: 1 to 20 decimal digits (no sign, no space; a trailing
// newline as `echo` writes it is allowed), at most UINT64_MAX. Anything else is nullopt.
[[nodiscard]] std::optional<std::uint64_t> parse_notice_counter(std::string_view value) noexcept;

class PersonaNotices {
public:
    // Called on the caller's io_context when a persona's counter moved forward.
    using OnNotice = std::function<void(const std::string& persona)>;

    // `store`: a connection used only by this object (its watch fd is read here, not closed).
    PersonaNotices(boost::asio::io_context& io, xen::XenStore& store, OnNotice on_notice);
    ~PersonaNotices();
    PersonaNotices(const PersonaNotices&) = delete;
    PersonaNotices& operator=(const PersonaNotices&) = delete;

    // Watches that persona's node (replacing an earlier domid); the value found now is the
    // baseline, not a notice.
    void watch(const std::string& persona, xen::DomId domid);
    void forget(const std::string& persona);

    // Values that were no counter, or went backwards (a guest's doing; counted, never acted on).
    [[nodiscard]] std::uint64_t refused() const noexcept { return refused_; }

private:
    struct Watched {
        xen::DomId domid{};
        std::string token;
        std::optional<std::uint64_t> last;
    };
    [[nodiscard]] static std::string node_of(xen::DomId domid);
    [[nodiscard]] std::optional<std::uint64_t> read_counter(const std::string& persona, const Watched& w);
    void arm();
    void on_readable();

    xen::XenStore& store_;
    OnNotice on_notice_;
    boost::asio::posix::stream_descriptor descriptor_;
    std::map<std::string, Watched> watched_;
    std::uint64_t next_token_ = 0;
    std::uint64_t refused_ = 0;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0); // see arm()
};

} // namespace twofold::manager
