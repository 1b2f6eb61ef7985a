#include "targets.h"

#include <cstdlib>
#include <memory>
#include <type_traits>

extern "C" {
#include <xenstore.h>
}

#include "twofold/xenbus/xenstore_values.h"

namespace twofold::attack {
namespace {

struct FreeDeleter {
    void operator()(void* pointer) const noexcept { std::free(pointer); }
};

std::optional<std::string> read(xs_handle* store, const std::string& path) {
    unsigned int length = 0;
    const std::unique_ptr<char, FreeDeleter> value(static_cast<char*>(::xs_read(store, XBT_NULL, path.c_str(), &length)));
    if (!value) return std::nullopt;
    return std::string(value.get(), length);
}

template <typename Parse>
auto read_parsed(xs_handle* store, const std::string& path, Parse parse)
    -> std::optional<std::remove_cvref_t<decltype(parse("").value())>> {
    const auto untrusted = read(store, path);
    if (!untrusted) return std::nullopt;
    auto parsed = parse(*untrusted);
    if (!parsed) return std::nullopt;
    return parsed.value();
}

} // namespace

std::string Persona::frontend_dir() const { return "/local/domain/" + std::to_string(domid) + "/device/vkbd/0"; }

std::optional<Persona> find_persona(xs_handle* store, const std::string& name) {
    unsigned int count = 0;
    const std::unique_ptr<char*, FreeDeleter> domains(::xs_directory(store, XBT_NULL, "/local/domain", &count));
    if (!domains) return std::nullopt;
    for (unsigned int i = 0; i < count; ++i) {
        const auto domid = xenbus::parse_domid(domains.get()[i]);
        if (!domid || domid.value() == xen::kDom0) continue;
        if (read(store, "/local/domain/" + std::to_string(domid.value()) + "/name") != name) continue;
        Persona persona{name, domid.value(), {}, {}, {}};
        const auto dir = persona.frontend_dir();
        persona.vkbd_frame = read_parsed(store, dir + "/page-ref", xenbus::parse_gfn);
        persona.vkbd_grant = read_parsed(store, dir + "/page-gref", xenbus::parse_grant_ref);
        persona.vkbd_port = read_parsed(store, dir + "/event-channel", xenbus::parse_port);
        return persona;
    }
    return std::nullopt;
}

} // namespace twofold::attack
