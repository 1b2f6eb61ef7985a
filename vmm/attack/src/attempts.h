#pragma once
// The attempts of a taken-over backend. Each runs in its own child process, after the child
// took the backend's handles, restriction, user and seccomp filter: an attempt either
// succeeds (returns what it reached), fails with a Xen library error (XenError, errno), or
// is killed by the seccomp filter (the parent sees SIGSYS).
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "targets.h"
#include "twofold/xen/platform.h"
#include "twofold/xenbus/device_paths.h"

namespace twofold::attack {

// The Xen handles a backend opens at start, as root, before it confines itself.
struct Handles {
    std::unique_ptr<xen::Platform> platform;
    std::unique_ptr<xen::EventChannel> events;
    std::unique_ptr<xen::ForeignMemory> memory;
    std::unique_ptr<xen::GrantMapper> grants;
    xs_handle* store = nullptr; // never closed: the child leaves with _exit
    // The backend's xenstore as it runs today: through the manager's proxy (fd 4), which the
    // parent plays (attack main.cpp), admitting this profile's device type of `self` alone
    // (or of both personas, in the control run: what a backend serving both is admitted).
    std::unique_ptr<xen::XenStore> proxied;
    xenbus::DeviceType type = xenbus::DeviceType::Vkbd;
    std::uint32_t devid = 0;
};
Handles open_backend_handles();

// The target number an attempt needs was not published (the frontend is not connected).
class MissingTarget : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Attempt {
    std::string name;
    // A cross attempt must fail; an own-persona attempt (the backend still serves its own
    // persona through the restricted handles) must succeed.
    bool cross = true;
    std::function<std::string(Handles&, const Persona& self, const Persona& other)> run;
};

// `own_foreign_map`: the backend maps its persona's frames by number (display), so the
// restricted privcmd handle must still serve its own persona.
std::vector<Attempt> attempts(bool own_foreign_map);

} // namespace twofold::attack
