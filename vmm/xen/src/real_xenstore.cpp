#include <cerrno>
#include <cstdlib>
#include <memory>

extern "C" {
#include <xenstore.h>
}

#include "twofold/xen/error.h"
#include "twofold/xen/real_platform.h"

namespace twofold::xen {
namespace {

// libxenstore returns malloc'd results the caller frees.
struct FreeDeleter {
    void operator()(void* pointer) const noexcept { std::free(pointer); }
};
template <typename T>
using Malloced = std::unique_ptr<T, FreeDeleter>;

unsigned int to_xs_perm(Permission::Kind kind) {
    switch (kind) {
    case Permission::Kind::None:
        return XS_PERM_NONE;
    case Permission::Kind::Read:
        return XS_PERM_READ;
    case Permission::Kind::Write:
        return XS_PERM_WRITE;
    case Permission::Kind::ReadWrite:
        return XS_PERM_READ | XS_PERM_WRITE;
    }
    return XS_PERM_NONE;
}

Permission::Kind from_xs_perm(unsigned int perm) {
    const bool read = (perm & XS_PERM_READ) != 0;
    const bool write = (perm & XS_PERM_WRITE) != 0;
    if (read && write) {
        return Permission::Kind::ReadWrite;
    }
    if (read) {
        return Permission::Kind::Read;
    }
    return write ? Permission::Kind::Write : Permission::Kind::None;
}

} // namespace

RealXenStore::RealXenStore() : watch_fd_(::xs_fileno(handle_.get())) {
    // xs_fileno starts libxenstore's watch reader: the fd is readable while events wait.
    if (watch_fd_ < 0) {
        throw_errno("xs_fileno");
    }
}

std::optional<std::string> RealXenStore::read(const std::string& path) {
    unsigned int length = 0;
    Malloced<char> value(static_cast<char*>(::xs_read(handle_.get(), XBT_NULL, path.c_str(), &length)));
    if (!value) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        throw_errno("xs_read " + path);
    }
    return std::string(value.get(), length);
}

void RealXenStore::write(const std::string& path, std::string_view value) {
    if (value.size() > XENSTORE_PAYLOAD_MAX) {
        throw XenError(E2BIG, "xs_write " + path);
    }
    if (!::xs_write(handle_.get(), XBT_NULL, path.c_str(), value.data(), static_cast<unsigned int>(value.size()))) {
        throw_errno("xs_write " + path);
    }
}

void RealXenStore::mkdir(const std::string& path) {
    if (!::xs_mkdir(handle_.get(), XBT_NULL, path.c_str())) {
        throw_errno("xs_mkdir " + path);
    }
}

void RealXenStore::remove(const std::string& path) {
    if (!::xs_rm(handle_.get(), XBT_NULL, path.c_str()) && errno != ENOENT) {
        throw_errno("xs_rm " + path);
    }
}

std::vector<std::string> RealXenStore::list(const std::string& path) {
    unsigned int count = 0;
    Malloced<char*> names(::xs_directory(handle_.get(), XBT_NULL, path.c_str(), &count));
    if (!names) {
        if (errno == ENOENT) {
            return {};
        }
        throw_errno("xs_directory " + path);
    }
    std::vector<std::string> result;
    result.reserve(count);
    for (unsigned int i = 0; i < count; ++i) {
        result.emplace_back(names.get()[i]);
    }
    return result;
}

void RealXenStore::set_permissions(const std::string& path, std::span<const Permission> perms) {
    if (perms.empty()) {
        throw XenError(EINVAL, "xs_set_permissions " + path);
    }
    std::vector<xs_permissions> converted;
    converted.reserve(perms.size());
    for (const auto& perm : perms) {
        converted.push_back({perm.domid, to_xs_perm(perm.kind)});
    }
    if (!::xs_set_permissions(handle_.get(), XBT_NULL, path.c_str(), converted.data(),
                              static_cast<unsigned int>(converted.size()))) {
        throw_errno("xs_set_permissions " + path);
    }
}

std::optional<std::vector<Permission>> RealXenStore::get_permissions(const std::string& path) {
    unsigned int count = 0;
    Malloced<xs_permissions> perms(::xs_get_permissions(handle_.get(), XBT_NULL, path.c_str(), &count));
    if (!perms) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        throw_errno("xs_get_permissions " + path);
    }
    std::vector<Permission> result;
    result.reserve(count);
    for (unsigned int i = 0; i < count; ++i) {
        result.push_back({static_cast<DomId>(perms.get()[i].id), from_xs_perm(perms.get()[i].perms)});
    }
    return result;
}

void RealXenStore::watch(const std::string& path, const std::string& token) {
    if (!::xs_watch(handle_.get(), path.c_str(), token.c_str())) {
        throw_errno("xs_watch " + path);
    }
}

void RealXenStore::unwatch(const std::string& path, const std::string& token) {
    if (!::xs_unwatch(handle_.get(), path.c_str(), token.c_str())) {
        throw_errno("xs_unwatch " + path);
    }
}

int RealXenStore::watch_fd() const { return watch_fd_; }

std::vector<WatchEvent> RealXenStore::take_watch_events() {
    std::vector<WatchEvent> events;
    // As xenstore.h asks: after the fd became readable, call xs_check_watch until it returns
    // NULL with EAGAIN.
    for (;;) {
        Malloced<char*> event(::xs_check_watch(handle_.get()));
        if (!event) {
            if (errno == EAGAIN) {
                return events;
            }
            throw_errno("xs_check_watch");
        }
        events.push_back({event.get()[XS_WATCH_PATH], event.get()[XS_WATCH_TOKEN]});
    }
}

} // namespace twofold::xen
