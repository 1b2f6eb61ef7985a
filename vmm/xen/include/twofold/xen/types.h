#pragma once
// Basic Xen vocabulary shared by the access layer, the loopback and every backend.
#include <cstddef>
#include <cstdint>

namespace twofold::xen {

using DomId = std::uint16_t;    // domid_t
using Port = std::uint32_t;     // evtchn_port_t
using GrantRef = std::uint32_t; // grant_ref_t
using Gfn = std::uint64_t;      // xen_pfn_t: a guest frame number

inline constexpr std::size_t kPageSize = 4096;
inline constexpr DomId kDom0 = 0;
// DOMID_FIRST_RESERVED in xen.h: ids at or above it are never real guests.
inline constexpr DomId kFirstReservedDomId = 0x7FF0;

enum class Access { ReadOnly, ReadWrite };

} // namespace twofold::xen
