#pragma once
// Parsers for guest-written xenstore values. Every value a frontend (or anything a guest can
// write to) puts in xenstore passes through one of these before use: it becomes a typed,
// range-checked value or an Error that says why. The parsers never throw on guest input and
// never echo more than a short, printable excerpt of it (log lines are read by people).
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "twofold/xen/types.h"
#include "twofold/xenbus/result.h"

namespace twofold::xenbus {

// Longest decimal we accept; 20 digits hold any uint64_t. Longer input is refused unread.
inline constexpr std::size_t kMaxDecimalDigits = 20;
// Event-channel ports: 0 is never valid; the FIFO ABI has 2^17 ports (EVTCHN_FIFO_NR_CHANNELS).
inline constexpr xen::Port kMaxPort = (1U << 17) - 1;
// Grant references: 4096 grant frames of 512 v1 entries is far above any toolstack setting.
inline constexpr xen::GrantRef kMaxGrantRef = (1U << 21) - 1;
// Guest frame numbers (foreign-mapped rings such as vfb's page-ref): 52-bit physical space.
inline constexpr xen::Gfn kMaxGfn = (xen::Gfn{1} << 40) - 1;
// Our backends map at most 2^kMaxRingPageOrder pages per ring (ring-page-order).
inline constexpr unsigned kMaxRingPageOrder = 4;
// Device ids in directory listings (vbd ids are the largest in Xen; ours are small).
inline constexpr std::uint32_t kMaxDevId = 0xFFFF;
// Names from a fixed set are never longer than this.
inline constexpr std::size_t kMaxNameLength = 64;

// A short, printable excerpt of untrusted text for error messages.
std::string excerpt(std::string_view untrusted);

// Decimal only: no sign, no whitespace, no leading zeros except "0", overflow-safe.
template <std::unsigned_integral T>
Result<T> parse_unsigned(std::string_view untrusted, T min, T max) {
    if (untrusted.empty()) return Error{"empty value, expected a decimal number"};
    if (untrusted.size() > kMaxDecimalDigits) return Error{"value too long for a number"};
    for (char c : untrusted) {
        if (c < '0' || c > '9') return Error{"not a decimal number: \"" + excerpt(untrusted) + "\""};
    }
    if (untrusted.size() > 1 && untrusted.front() == '0') {
        return Error{"leading zero in number: \"" + excerpt(untrusted) + "\""};
    }
    T value{};
    const auto [end, ec] = std::from_chars(untrusted.data(), untrusted.data() + untrusted.size(), value);
    if (ec == std::errc::result_out_of_range) {
        return Error{"number out of range: \"" + excerpt(untrusted) + "\""};
    }
    if (ec != std::errc{} || end != untrusted.data() + untrusted.size()) {
        return Error{"not a decimal number: \"" + excerpt(untrusted) + "\""};
    }
    if (value < min || value > max) {
        return Error{"number " + std::to_string(value) + " outside [" + std::to_string(min) + ", " +
                     std::to_string(max) + "]"};
    }
    return value;
}

// enum xenbus_state in xen/io/xenbus.h.
enum class XenbusState : std::uint8_t {
    Unknown = 0,
    Initialising = 1,
    InitWait = 2,
    Initialised = 3,
    Connected = 4,
    Closing = 5,
    Closed = 6,
    Reconfiguring = 7,
    Reconfigured = 8,
};
inline constexpr unsigned kMaxXenbusState = 8;
std::string_view to_string(XenbusState state) noexcept;
// The decimal form written to xenstore.
std::string to_xenstore(XenbusState state);

// XEN_IO_PROTO_ABI_* in xen/io/protocols.h.
enum class Protocol : std::uint8_t { X86_32, X86_64, Arm };
std::string_view to_string(Protocol protocol) noexcept;

// A name that must be one of a fixed set; `name` views the caller's (constant) set entry.
struct ChosenName {
    std::size_t index{};
    std::string_view name;
};

Result<xen::GrantRef> parse_grant_ref(std::string_view untrusted);
Result<xen::Port> parse_port(std::string_view untrusted);
Result<xen::Gfn> parse_gfn(std::string_view untrusted);
Result<xen::DomId> parse_domid(std::string_view untrusted);
Result<std::uint32_t> parse_devid(std::string_view untrusted);
Result<XenbusState> parse_state(std::string_view untrusted);
Result<bool> parse_bool(std::string_view untrusted);
Result<Protocol> parse_protocol(std::string_view untrusted);
Result<unsigned> parse_ring_page_order(std::string_view untrusted, unsigned max_order = kMaxRingPageOrder);
Result<ChosenName> parse_name_in_set(std::string_view untrusted, std::span<const std::string_view> allowed);

} // namespace twofold::xenbus
