// The manager's parser of the broker's replies (the broker is less trusted than the manager).
// The first byte picks the op the reply answers; the rest is the line. Every line is either
// refused with ProtocolError or yields values inside the protocol's limits that re-encode and
// parse back to the same values; nothing else escapes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "twofold/libvirt_broker/protocol.h"

using namespace twofold::libvirt_broker;
using twofold::manager::DomainInfo;

namespace {

constexpr Op kOps[] = {Op::List, Op::Lookup, Op::Define, Op::Start, Op::StartPaused, Op::Resume, Op::Shutdown, Op::Destroy, Op::Undefine, Op::Xml, Op::Uuid};

void check_info(const DomainInfo& d) {
    if (d.name.empty() || d.name.size() > kMaxNameBytes || d.id < -1 || d.id > kMaxDomid) std::abort();
    for (const char c : d.name) {
        if (static_cast<unsigned char>(c) < 0x20) std::abort();
    }
}

void check(const Request& sent, const Result& result) {
    if (const auto* d = std::get_if<DomainInfo>(&result)) {
        check_info(*d);
        if (sent.op == Op::Lookup && d->name != sent.arg) std::abort();
    } else if (const auto* list = std::get_if<std::vector<DomainInfo>>(&result)) {
        if (list->size() > kMaxDomains) std::abort();
        for (const auto& each : *list) check_info(each);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const Request sent{7, kOps[data[0] % std::size(kOps)], "secure"};
    const std::string_view line(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        const auto reply = parse_reply(sent, line);
        if (const auto* result = std::get_if<Result>(&reply)) {
            check(sent, *result);
            // What the broker's encoder makes of these values must be accepted again.
            const auto again = parse_reply(sent, encode_result(sent.id, *result));
            if (!std::holds_alternative<Result>(again) || std::get<Result>(again).index() != result->index()) std::abort();
        } else {
            const auto& error = std::get<ReplyError>(reply);
            if (error.message.size() > kMaxMessageBytes) std::abort();
            for (const char c : error.message) {
                if (static_cast<unsigned char>(c) < 0x20) std::abort();
            }
        }
    } catch (const ProtocolError&) {
    }
    return 0;
}
