#include "twofold/xen/error.h"

#include <cerrno>

namespace twofold::xen {

XenError::XenError(int errno_value, const std::string& operation)
    : std::system_error(errno_value, std::generic_category(), operation) {}

void throw_errno(const std::string& operation) { throw XenError(errno, operation); }

} // namespace twofold::xen
