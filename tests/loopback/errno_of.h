#pragma once
// The errno a Xen call failed with (0: it did not fail), for tests that assert refusals.
#include <functional>

#include "twofold/xen/error.h"

namespace twofold::loopback {

inline int errno_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const xen::XenError& error) {
        return error.errno_value();
    }
    return 0;
}

} // namespace twofold::loopback
