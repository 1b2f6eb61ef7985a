#include "twofold/xenbus/xenstore_values.h"

#include <algorithm>
#include <array>

namespace twofold::xenbus {
namespace {

constexpr std::size_t kExcerptLength = 32;

constexpr std::array<std::string_view, kMaxXenbusState + 1> kStateNames{
    "Unknown", "Initialising", "InitWait", "Initialised", "Connected",
    "Closing", "Closed", "Reconfiguring", "Reconfigured"};

constexpr std::array<std::string_view, 3> kProtocolNames{"x86_32-abi", "x86_64-abi", "arm-abi"};

} // namespace

std::string excerpt(std::string_view untrusted) {
    std::string out;
    const auto shown = untrusted.substr(0, kExcerptLength);
    out.reserve(shown.size() + 3);
    for (char c : shown) {
        // Only printable ASCII reaches a log line; no quotes that could fake a field boundary.
        out.push_back(c >= 0x20 && c < 0x7F && c != '"' && c != '\\' ? c : '?');
    }
    if (untrusted.size() > kExcerptLength) out += "...";
    return out;
}

std::string_view to_string(XenbusState state) noexcept {
    const auto index = static_cast<std::size_t>(state);
    return index < kStateNames.size() ? kStateNames[index] : std::string_view{"Invalid"};
}

std::string to_xenstore(XenbusState state) { return std::to_string(static_cast<unsigned>(state)); }

std::string_view to_string(Protocol protocol) noexcept {
    return kProtocolNames[static_cast<std::size_t>(protocol)];
}

Result<xen::GrantRef> parse_grant_ref(std::string_view untrusted) {
    return parse_unsigned<xen::GrantRef>(untrusted, 0, kMaxGrantRef);
}

Result<xen::Port> parse_port(std::string_view untrusted) {
    return parse_unsigned<xen::Port>(untrusted, 1, kMaxPort);
}

Result<xen::Gfn> parse_gfn(std::string_view untrusted) {
    return parse_unsigned<xen::Gfn>(untrusted, 0, kMaxGfn);
}

Result<xen::DomId> parse_domid(std::string_view untrusted) {
    return parse_unsigned<xen::DomId>(untrusted, 0, xen::kFirstReservedDomId - 1);
}

Result<std::uint32_t> parse_devid(std::string_view untrusted) {
    return parse_unsigned<std::uint32_t>(untrusted, 0, kMaxDevId);
}

Result<XenbusState> parse_state(std::string_view untrusted) {
    auto number = parse_unsigned<unsigned>(untrusted, 0, kMaxXenbusState);
    if (!number) return Error{"bad xenbus state: " + number.error().message};
    return static_cast<XenbusState>(number.value());
}

Result<bool> parse_bool(std::string_view untrusted) {
    if (untrusted == "0") return false;
    if (untrusted == "1") return true;
    return Error{"expected \"0\" or \"1\", got \"" + excerpt(untrusted) + "\""};
}

Result<Protocol> parse_protocol(std::string_view untrusted) {
    auto chosen = parse_name_in_set(untrusted, kProtocolNames);
    if (!chosen) return Error{"unknown protocol: " + chosen.error().message};
    return static_cast<Protocol>(chosen.value().index);
}

Result<unsigned> parse_ring_page_order(std::string_view untrusted, unsigned max_order) {
    auto order = parse_unsigned<unsigned>(untrusted, 0, std::min(max_order, kMaxRingPageOrder));
    if (!order) return Error{"bad ring-page-order: " + order.error().message};
    return order;
}

Result<ChosenName> parse_name_in_set(std::string_view untrusted, std::span<const std::string_view> allowed) {
    if (untrusted.size() > kMaxNameLength) return Error{"name too long: \"" + excerpt(untrusted) + "\""};
    for (std::size_t i = 0; i < allowed.size(); ++i) {
        if (allowed[i] == untrusted) return ChosenName{i, allowed[i]};
    }
    return Error{"\"" + excerpt(untrusted) + "\" is not an accepted name"};
}

} // namespace twofold::xenbus
