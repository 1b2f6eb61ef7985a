#pragma once
// Every failure of a Xen library call surfaces as XenError, carrying errno and the operation,
// so callers can tell "the guest went away" (ENOENT/ESRCH) from "we are out of resources".
#include <string>
#include <system_error>

namespace twofold::xen {

class XenError : public std::system_error {
public:
    XenError(int errno_value, const std::string& operation);
    [[nodiscard]] int errno_value() const noexcept { return code().value(); }
};

// Throws XenError with the current errno.
[[noreturn]] void throw_errno(const std::string& operation);

} // namespace twofold::xen
