#include "xenstore_path.h"

#include <cerrno>

#include "twofold/xen/error.h"
#include "twofold/xen/xenstore.h"

namespace twofold::loopback::detail {
namespace {

bool valid_chars(std::string_view path) noexcept {
    for (const char c : path) {
        if (!xen::is_xenstore_path_char(c)) {
            return false;
        }
    }
    return true;
}

} // namespace

void validate_path(std::string_view path, const char* operation) {
    const bool valid = !path.empty() && path.front() == '/' && path.size() <= kMaxPathLength &&
                       (path.size() == 1 || path.back() != '/') && path.find("//") == std::string_view::npos &&
                       valid_chars(path);
    if (!valid) {
        throw xen::XenError(EINVAL, operation);
    }
}

void validate_watch_path(std::string_view path, const char* operation) {
    if (is_special_path(path)) {
        if (path.size() < 2 || path.size() > kMaxPathLength || path.find('/') != std::string_view::npos ||
            !valid_chars(path)) {
            throw xen::XenError(EINVAL, operation);
        }
        return;
    }
    validate_path(path, operation);
}

bool is_special_path(std::string_view path) noexcept { return !path.empty() && path.front() == '@'; }

bool is_at_or_below(std::string_view path, std::string_view watched) noexcept {
    if (watched == "/") {
        return !path.empty() && path.front() == '/';
    }
    if (!path.starts_with(watched)) {
        return false;
    }
    return path.size() == watched.size() || path[watched.size()] == '/';
}

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> parts;
    std::size_t start = 1;
    while (start < path.size()) {
        const std::size_t end = path.find('/', start);
        const std::size_t stop = end == std::string_view::npos ? path.size() : end;
        parts.emplace_back(path.substr(start, stop - start));
        start = stop + 1;
    }
    return parts;
}

} // namespace twofold::loopback::detail
