#pragma once
// What a paravirtual device (display, input, console, ...) implements to be served by the
// xenbus machinery. The FrontendConnection owns every Xen resource (mapped ring pages, the
// bound port) and hands the device views of them between on_bind() and on_closing(); the
// device never has to release anything itself, so no error path can leak a mapping.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "twofold/xen/event_channel.h"
#include "twofold/xen/types.h"
#include "twofold/xenbus/device_paths.h"
#include "twofold/xenbus/node_reader.h"
#include "twofold/xenbus/result.h"

namespace twofold::xenbus {

// How the frontend publishes its shared ring.
struct RingSpec {
    enum class Mapping : unsigned char { Grant, Foreign };
    std::string ring_ref_node = "ring-ref";    // grant ref, or frame number when Foreign
    std::string port_node = "event-channel";   // the frontend's unbound port
    Mapping mapping = Mapping::Grant;
    xen::Access access = xen::Access::ReadWrite;
    // > 0: the frontend may publish ring-page-order and ring-ref0..N (bounded by kMaxRingPageOrder).
    unsigned max_page_order = 0;
};

// One mapped ring and its bound port, for devices with several rings (ring_specs()).
struct BoundRing {
    std::span<std::byte> bytes;   // valid until on_closing() returns
    const xen::BoundPort* port;   // never null; notify() the frontend through it
};

struct BindContext {
    const DevicePaths& paths;
    std::span<std::byte> ring;    // ring 0; valid until on_closing() returns
    const xen::BoundPort& port;   // ring 0's port: notify() the frontend through this
    const NodeReader& frontend;   // further frontend nodes (validated parsers); only during on_bind()
    // Every ring in ring_specs() order (ring and port above are rings[0]).
    std::span<const BoundRing> rings = {};
};

// A device may ask for at most this many rings (sndif: two per stream).
inline constexpr std::size_t kMaxRingsPerDevice = 32;

// What one service run did; mirrors the ring consumers' process() result.
struct ServiceOutcome {
    std::size_t processed = 0;
    bool more_pending = false;
    std::string error; // non-empty: the frontend broke the protocol; close it
};

class Device {
public:
    virtual ~Device() = default;

    [[nodiscard]] virtual RingSpec ring_spec() const { return {}; }
    // Devices with several rings (sndif: a request ring and an event page per stream, each
    // with its own port, in per-stream subdirectories) list them here; node names may then be
    // relative paths built from our own numbers ("0/1/ring-ref"). All are bound or none.
    [[nodiscard]] virtual std::vector<RingSpec> ring_specs() const { return {ring_spec()}; }
    // Nodes written to our backend directory before InitWait (feature flags and the like).
    [[nodiscard]] virtual std::vector<std::pair<std::string, std::string>> backend_nodes() const { return {}; }
    // The ring is mapped and the port bound. An error refuses the frontend.
    virtual Result<void> on_bind(const BindContext& context) = 0;
    // The port fired (or work remained): process at most `budget` items.
    virtual ServiceOutcome on_event(std::size_t budget) = 0;
    // The port of ring `index` (ring_specs() order) fired. Single-ring devices need not care.
    virtual ServiceOutcome on_ring_event(std::size_t index, std::size_t budget) {
        (void)index;
        return on_event(budget);
    }
    // The views from on_bind() are about to be released: drop every reference to them.
    virtual void on_closing() noexcept = 0;
};

} // namespace twofold::xenbus
