// A hostile xen-kbdfront against one VkbdDevice and the router in front of it: the request-*
// node values, every byte of the shared page (indices and out-ring slots) rewritten between
// our pushes and wake-ups, and dom0 input arriving meanwhile. The backend must never crash,
// never write outside the page, and keep its held-input bookkeeping consistent.
//
// Input: [len_a][len_b][request-abs-pointer][request-multi-touch] then 7-byte operations
// [op][a][b][c][d][e][f].
#include <linux/input-event-codes.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include <spdlog/sinks/null_sink.h>

#include "twofold/input/translator.h"
#include "twofold/input/vkbd_device.h"
#include "twofold/loopback/hypervisor.h"
#include "twofold/xenbus/device_paths.h"

namespace {

using namespace twofold;

struct alignas(4096) Page {
    std::array<std::byte, 4096> bytes{};
};

std::string take(const std::uint8_t*& data, std::size_t& size, std::size_t length) {
    length = std::min(length, size);
    std::string text(reinterpret_cast<const char*>(data), length);
    data += length;
    size -= length;
    return text;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::size_t len_a = data[0] % 9;
    const std::size_t len_b = data[1] % 9;
    data += 2;
    size -= 2;
    const std::string request_abs = take(data, size, len_a);
    const std::string request_mt = take(data, size, len_b);

    loopback::Hypervisor hv;
    const xen::DomId guest = hv.create_domain("fuzz");
    auto dom0 = hv.platform(xen::kDom0);
    auto store = dom0->open_xenstore();
    const xenbus::DevicePaths paths(xen::kDom0, guest, xenbus::DeviceType::Vkbd, 0);
    store->write(paths.frontend_node("request-abs-pointer"), request_abs);
    store->write(paths.frontend_node("request-multi-touch"), request_mt);
    const xenbus::NodeReader frontend(*store, paths.frontend());

    auto log = std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
    input::InputRouter router(1, KEY_POWER, log);
    const input::GuestResolution resolution{800, 600, 5};
    input::VkbdDevice device(router, 0, resolution, log);
    auto page = std::make_unique<Page>();
    const xen::BoundPort port;
    if (!device.on_bind(xenbus::BindContext{paths, page->bytes, port, frontend})) return 0;
    router.switch_to(0);

    input::EventTranslator translator(input::DeviceInfo{"fuzz", input::AxisRange{0, 4095}, input::AxisRange{0, 4095},
                                                        input::AxisRange{-50, 50}, input::AxisRange{0, 0}, 4},
                                      resolution);
    std::vector<input::GuestEvent> events;
    while (size >= 7) {
        const std::uint8_t op = data[0];
        std::uint32_t word = 0;
        std::memcpy(&word, data + 3, 4);
        const std::uint16_t half = static_cast<std::uint16_t>(data[1] | (data[2] << 8));
        data += 7;
        size -= 7;
        switch (op % 6) {
        case 0: // the guest rewrites a word of the shared page
            std::memcpy(page->bytes.data() + (half % 1024) * 4, &word, 4);
            break;
        case 1:
            events = {input::KeyEvent{half, (word & 1) != 0}};
            router.route(events);
            break;
        case 2:
            events = {input::TouchEvent{static_cast<input::TouchPhase>(word % 4), static_cast<std::uint8_t>(half),
                                        static_cast<std::int32_t>(word), -1}};
            router.route(events);
            break;
        case 3:
            (void)device.on_event(half % 70);
            break;
        case 4:
            router.switch_to((half & 1) != 0 ? std::optional<input::PersonaId>{0} : std::nullopt);
            break;
        case 5:
            events.clear();
            translator.feed(input::RawEvent{static_cast<std::uint16_t>(half % 4), static_cast<std::uint16_t>(word >> 16),
                                            static_cast<std::int32_t>(word)},
                            events);
            router.route(events);
            break;
        }
    }
    device.on_closing();
    if (router.attached(0)) __builtin_trap(); // a closed device must never stay routed to
    return 0;
}
