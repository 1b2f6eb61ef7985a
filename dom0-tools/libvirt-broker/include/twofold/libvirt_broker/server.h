#pragma once
// The broker's side of the protocol: one request line in, one reply line out, through a
// DomainControl (LibvirtConnection in twofold-libvirt-broker; a fake in tests). Never throws
// for anything the line contains: a bad request gets an error reply of kind "request".
#include <string>
#include <string_view>

#include "twofold/libvirt_broker/protocol.h"
#include "twofold/manager/domain_control.h"

namespace twofold::libvirt_broker {

// The reply line (no newline) to `untrusted_line`.
[[nodiscard]] std::string serve(manager::DomainControl& libvirt, std::string_view untrusted_line);

} // namespace twofold::libvirt_broker
