#include "twofold/libvirt_broker/server.h"

namespace twofold::libvirt_broker {

namespace {

Result run(manager::DomainControl& libvirt, const Request& request, bool& missing) {
    switch (request.op) {
    case Op::List: return libvirt.list_domains();
    case Op::Lookup: {
        auto found = libvirt.find(request.arg);
        if (!found) {
            missing = true;
            return std::monostate{};
        }
        return *found;
    }
    case Op::Define: return libvirt.define_xml(request.arg);
    case Op::Start: libvirt.start(request.arg); return std::monostate{};
    case Op::StartPaused: libvirt.start_paused(request.arg); return std::monostate{};
    case Op::Resume: libvirt.resume(request.arg); return std::monostate{};
    case Op::Shutdown: libvirt.shutdown(request.arg); return std::monostate{};
    case Op::Destroy: libvirt.destroy(request.arg); return std::monostate{};
    case Op::Undefine: libvirt.undefine(request.arg); return std::monostate{};
    case Op::Xml: return libvirt.xml(request.arg);
    case Op::Uuid: return libvirt.uuid(request.arg);
    }
    return std::monostate{};
}

} // namespace

std::string serve(manager::DomainControl& libvirt, std::string_view untrusted_line) {
    auto parsed = parse_request(untrusted_line);
    if (const auto* bad = std::get_if<RequestProblem>(&parsed)) {
        return encode_error(bad->id, ReplyError{ErrorKind::Request, bad->message});
    }
    const auto& request = std::get<Request>(parsed);
    try {
        bool missing = false;
        auto result = run(libvirt, request, missing);
        if (missing) {
            return encode_error(request.id, ReplyError{ErrorKind::NoDomain, "no domain named '" + request.arg + "'"});
        }
        return encode_result(request.id, result);
    } catch (const manager::LibvirtError& e) {
        return encode_error(request.id, ReplyError{ErrorKind::Libvirt, e.what()});
    }
}

} // namespace twofold::libvirt_broker
