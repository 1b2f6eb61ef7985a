// The four Xen library handles. A null logger makes each library log to stderr at its
// default level; failures are reported to callers as XenError naming the call.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

extern "C" {
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xenstore.h>
}

#include "twofold/xen/error.h"
#include "twofold/xen/real_platform.h"
#include "twofold/xen/unique_fd.h"

namespace twofold::xen {

XsHandle::XsHandle() : handle_(::xs_open(XS_UNWATCH_FILTER)) {
    if (handle_ == nullptr) {
        throw_errno("xs_open");
    }
}

XsHandle::~XsHandle() { ::xs_close(handle_); }

EvtchnHandle::EvtchnHandle() : handle_(::xenevtchn_open(nullptr, 0)) {
    if (handle_ == nullptr) {
        throw_errno("xenevtchn_open");
    }
    // pending() must never block the event loop: it reads this fd.
    const int fd = ::xenevtchn_fd(handle_);
    const int flags = fd < 0 ? -1 : ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        const int error = errno;
        ::xenevtchn_close(handle_);
        throw XenError(error, "xenevtchn_fd");
    }
}

EvtchnHandle::~EvtchnHandle() { ::xenevtchn_close(handle_); }

GnttabHandle::GnttabHandle() : handle_(::xengnttab_open(nullptr, 0)) {
    if (handle_ == nullptr) {
        throw_errno("xengnttab_open");
    }
}

GnttabHandle::~GnttabHandle() { ::xengnttab_close(handle_); }

void GnttabHandle::cut() {
    const int fd = ::xengnttab_fd(handle_);
    if (fd < 0) return;
    const UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!null_fd.valid() || ::dup3(null_fd.get(), fd, O_CLOEXEC) < 0) {
        throw_errno("cutting the grant device");
    }
}

ForeignMemoryHandle::ForeignMemoryHandle() : handle_(::xenforeignmemory_open(nullptr, 0)) {
    if (handle_ == nullptr) {
        throw_errno("xenforeignmemory_open");
    }
}

ForeignMemoryHandle::~ForeignMemoryHandle() { ::xenforeignmemory_close(handle_); }

} // namespace twofold::xen
