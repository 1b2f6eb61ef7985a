#include "attempts.h"

#include <fcntl.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <span>

extern "C" {
#include <xenstore.h>
}

#include "twofold/xen/error.h"

namespace twofold::attack {
namespace {

// Ports probed for a notify into someone else's channel: dom0's ports for both personas'
// devices are small numbers.
constexpr xen::Port kNotifyProbePorts = 64;

template <typename T>
T need(const std::optional<T>& value, const char* what) {
    if (!value) throw MissingTarget(std::string("not published: ") + what);
    return *value;
}

std::string map_frame(Handles& handles, const Persona& whose) {
    const xen::Gfn frame = need(whose.vkbd_frame, "vkbd page-ref");
    const auto mapped = handles.memory->map(whose.domid, std::span(&frame, 1), xen::Access::ReadOnly);
    return "mapped frame " + std::to_string(frame) + " of domain " + std::to_string(whose.domid);
}

std::string map_grant(Handles& handles, const Persona&, const Persona& other) {
    const xen::GrantRef ref = need(other.vkbd_grant, "vkbd page-gref");
    const auto mapped = handles.grants->map(other.domid, std::span(&ref, 1), xen::Access::ReadOnly);
    return "mapped grant " + std::to_string(ref) + " of domain " + std::to_string(other.domid);
}

std::string bind_port(Handles& handles, const Persona&, const Persona& other) {
    const xen::Port port = need(other.vkbd_port, "vkbd event-channel");
    const xen::Port local = handles.events->bind_interdomain(other.domid, port);
    return "bound remote port " + std::to_string(port) + " as " + std::to_string(local);
}

std::string offer_port(Handles& handles, const Persona&, const Persona& other) {
    const xen::Port local = handles.events->bind_unbound(other.domid);
    return "offered port " + std::to_string(local) + " to domain " + std::to_string(other.domid);
}

std::string notify_ports(Handles& handles, const Persona&, const Persona&) {
    // The other persona's channels are bound by another process's handle; this handle names
    // their local port numbers. Linux's evtchn device signals only ports of the same handle.
    int last_errno = 0;
    unsigned notified = 0;
    for (xen::Port port = 1; port <= kNotifyProbePorts; ++port) {
        try {
            handles.events->notify(port);
            ++notified;
        } catch (const xen::XenError& error) {
            last_errno = error.errno_value();
        }
    }
    if (notified == 0) throw xen::XenError(last_errno, "xenevtchn_notify ports 1-" + std::to_string(kNotifyProbePorts));
    return "notified " + std::to_string(notified) + " of dom0's ports 1-" + std::to_string(kNotifyProbePorts);
}

std::string read_node(Handles& handles, const Persona&, const Persona& other) {
    const std::string path = other.frontend_dir() + "/page-ref";
    unsigned int length = 0;
    void* value = ::xs_read(handles.store, XBT_NULL, path.c_str(), &length);
    if (value == nullptr) xen::throw_errno("xs_read " + path);
    std::free(value);
    return "read " + path;
}

std::string write_node(Handles& handles, const Persona&, const Persona& other) {
    // The other persona's own data directory: harmless to write, and removed again when the
    // write went through (only ever in the unrestricted control run).
    const std::string path = "/local/domain/" + std::to_string(other.domid) + "/data/twofold-backend-attack";
    if (!::xs_write(handles.store, XBT_NULL, path.c_str(), "x", 1)) xen::throw_errno("xs_write " + path);
    ::xs_rm(handles.store, XBT_NULL, path.c_str());
    return "wrote " + path;
}

std::string list_nodes(Handles& handles, const Persona&, const Persona& other) {
    const std::string path = other.frontend_dir();
    unsigned int count = 0;
    void* names = ::xs_directory(handles.store, XBT_NULL, path.c_str(), &count);
    if (names == nullptr) xen::throw_errno("xs_directory " + path);
    std::free(names);
    return "listed " + std::to_string(count) + " nodes of " + path;
}

std::string set_node_permissions(Handles& handles, const Persona&, const Persona& other) {
    // Setting a node's permissions is how a channel between the personas would be opened
    // (a permission naming the other one). The attempt writes back the permissions the node
    // already has, so that the unrestricted control run changes nothing of the other persona.
    const std::string path = "/local/domain/" + std::to_string(other.domid) + "/data";
    unsigned int count = 0;
    xs_permissions* current = ::xs_get_permissions(handles.store, XBT_NULL, path.c_str(), &count);
    if (current == nullptr) xen::throw_errno("xs_get_permissions " + path);
    const bool set = ::xs_set_permissions(handles.store, XBT_NULL, path.c_str(), current, count);
    const int error = errno;
    std::free(current);
    if (!set) throw xen::XenError(error, "xs_set_permissions " + path);
    return "set the permissions of " + path + " (" + std::to_string(count) + " entries, unchanged)";
}

std::string open_xenstore(Handles&, const Persona&, const Persona&) {
    // A fresh privileged connection (xenstored's socket, else /dev/xen/xenbus).
    if (::xs_open(0) == nullptr) xen::throw_errno("xs_open");
    return "opened a new xenstore connection";
}

// The proxied rows: the profile's own device type, the other persona's nodes of it (what a
// backend of that class would go for), through the proxy's gate.
xenbus::DevicePaths device_of(const Handles& handles, const Persona& whose) {
    return xenbus::DevicePaths(xen::kDom0, whose.domid, handles.type, handles.devid);
}

xen::XenStore& proxied(Handles& handles) {
    if (!handles.proxied) throw MissingTarget("no xenstore proxy link");
    return *handles.proxied;
}

std::string proxy_read(Handles& handles, const Persona&, const Persona& other) {
    const auto path = device_of(handles, other).frontend_node("state");
    const auto value = proxied(handles).read(path);
    return "read " + path + (value ? "" : " (absent)");
}

std::string proxy_list(Handles& handles, const Persona&, const Persona& other) {
    const auto path = device_of(handles, other).frontend();
    const auto names = proxied(handles).list(path);
    return "listed " + std::to_string(names.size()) + " nodes of " + path;
}

std::string proxy_write(Handles& handles, const Persona&, const Persona& other) {
    // A node of the other persona's backend directory that nobody reads, removed again when
    // the write went through (only in the control run, whose proxy admits both personas).
    const auto path = device_of(handles, other).backend_node("twofold-backend-attack");
    proxied(handles).write(path, "x");
    proxied(handles).remove(path);
    return "wrote " + path;
}

std::string proxy_watch(Handles& handles, const Persona&, const Persona& other) {
    const auto path = device_of(handles, other).frontend();
    proxied(handles).watch(path, "twofold-attack");
    return "watching " + path;
}

std::string proxy_permissions(Handles& handles, const Persona&, const Persona& other) {
    // Reading permissions is reading (the proxy gates it so): who may read the other
    // persona's device, and whom it shares it with, is not this backend's to learn.
    const auto path = device_of(handles, other).frontend_node("state");
    const auto permissions = proxied(handles).get_permissions(path);
    return "read the permissions of " + path + (permissions ? "" : " (absent)");
}

std::string proxy_own_read(Handles& handles, const Persona& self, const Persona&) {
    const auto path = device_of(handles, self).backend_node("state");
    const auto value = proxied(handles).read(path);
    if (!value) throw MissingTarget("not published: " + path);
    return "read " + path + " = " + value->substr(0, 8);
}

std::string open_device(const char* path) {
    const int fd = ::open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) xen::throw_errno(std::string("open ") + path);
    return std::string("opened ") + path;
}

} // namespace

Handles open_backend_handles() {
    Handles handles;
    handles.platform = xen::make_real_platform();
    handles.events = handles.platform->open_event_channel();
    handles.memory = handles.platform->open_foreign_memory();
    handles.grants = handles.platform->open_grant_mapper();
    handles.store = ::xs_open(0);
    if (handles.store == nullptr) xen::throw_errno("xs_open");
    return handles;
}

std::vector<Attempt> attempts(bool own_foreign_map) {
    std::vector<Attempt> list{
        {"foreign-map", true, [](Handles& h, const Persona&, const Persona& other) { return map_frame(h, other); }},
        {"grant-map", true, map_grant},
        {"evtchn-bind-interdomain", true, bind_port},
        {"evtchn-alloc-unbound", true, offer_port},
        {"evtchn-notify", true, notify_ports},
        {"xenstore-read", true, read_node},
        {"xenstore-list", true, list_nodes},
        {"xenstore-write", true, write_node},
        {"xenstore-perms", true, set_node_permissions},
        {"xenstore-reconnect", true, open_xenstore},
        {"proxy-read", true, proxy_read},
        {"proxy-list", true, proxy_list},
        {"proxy-write", true, proxy_write},
        {"proxy-watch", true, proxy_watch},
        {"proxy-perms", true, proxy_permissions},
        {"own-proxy-read", false, proxy_own_read},
        {"privcmd-reopen", true, [](Handles&, const Persona&, const Persona&) { return open_device("/dev/xen/privcmd"); }},
        {"gntdev-reopen", true, [](Handles&, const Persona&, const Persona&) { return open_device("/dev/xen/gntdev"); }},
    };
    if (own_foreign_map) {
        list.push_back({"own-foreign-map", false, [](Handles& h, const Persona& self, const Persona&) { return map_frame(h, self); }});
    }
    return list;
}

} // namespace twofold::attack
