// Fuzzes the event rings: the vfb out ring (consumer) and in ring (producer) on one page,
// the vkbd in ring (producer) on another, and the displif event page (producer) on a third;
// pages and guest index updates from the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>

#include <fuzzer/FuzzedDataProvider.h>

extern "C" {
#include <xen/io/displif.h>
#include <xen/io/fbif.h>
#include <xen/io/kbdif.h>
}

#include "fuzz_check.h"
#include "twofold/rings/event_ring.h"

namespace {

constexpr std::size_t kPage = 4096;
struct alignas(kPage) Page {
    std::byte bytes[kPage];
};

void write_word(std::span<std::byte> shared, std::size_t offset, std::uint32_t value) {
    twofold::rings::SharedIndex(shared.data() + offset).store_release(value);
}
std::uint32_t read_word(std::span<std::byte> shared, std::size_t offset) {
    return twofold::rings::SharedIndex(shared.data() + offset).load_acquire();
}

void fill_page(FuzzedDataProvider& input, std::span<std::byte> page) {
    const auto initial = input.ConsumeBytes<std::uint8_t>(input.ConsumeIntegralInRange<std::size_t>(0, page.size()));
    std::memcpy(page.data(), initial.data(), initial.size());
}

// Pushes one event and checks the producer never queues more than the ring holds.
template <typename Event>
void push_one(twofold::rings::EventProducer<Event>& ring, std::span<std::byte> page,
              const twofold::rings::EventRingGeometry& geometry, std::optional<twofold::rings::RingFault>& fault,
              std::uint8_t type) {
    using twofold::rings::PushStatus;
    const auto status = ring.push([type](Event& event) noexcept { event.type = type; });
    if (fault) {
        TWOFOLD_FUZZ_CHECK(status == PushStatus::fault);
    }
    if (status == PushStatus::fault) {
        fault = ring.fault();
        TWOFOLD_FUZZ_CHECK(fault.has_value());
    } else {
        // The harness never writes our producer index, so it is what the ring published.
        const std::uint32_t queued = read_word(page, geometry.prod_offset) - read_word(page, geometry.cons_offset);
        TWOFOLD_FUZZ_CHECK(status == PushStatus::pushed ? queued <= geometry.slot_count : queued == geometry.slot_count);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace twofold::rings;
    FuzzedDataProvider input(data, size);
    auto fb_page = std::make_unique<Page>();
    auto kbd_page = std::make_unique<Page>();
    auto displ_page = std::make_unique<Page>();
    const std::span<std::byte> displ{displ_page->bytes, kPage};
    const std::span<std::byte> fb{fb_page->bytes, kPage};
    const std::span<std::byte> kbd{kbd_page->bytes, kPage};
    fill_page(input, fb);
    fill_page(input, kbd);
    fill_page(input, displ);
    EventConsumer<xenfb_out_event> fb_out(fb, kFbOutRing);
    EventProducer<xenfb_in_event> fb_in(fb, kFbInRing);
    EventProducer<xenkbd_in_event> kbd_in(kbd, kKbdInRing);
    EventProducer<xendispl_evt> displ_in(displ, kDisplEventRing);
    std::optional<RingFault> displ_fault;
    std::optional<RingFault> out_fault;
    std::optional<RingFault> fb_in_fault;
    std::optional<RingFault> kbd_in_fault;

    while (input.remaining_bytes() > 0) {
        switch (input.ConsumeIntegralInRange(0, 8)) {
        case 0:
            write_word(fb, kFbOutRing.prod_offset,
                       read_word(fb, kFbOutRing.cons_offset) + input.ConsumeIntegralInRange<std::uint32_t>(0, 2 * kFbOutRing.slot_count));
            break;
        case 1: {
            const std::size_t offsets[] = {kFbOutRing.prod_offset, kFbOutRing.cons_offset, kFbInRing.cons_offset};
            write_word(fb, offsets[input.ConsumeIntegralInRange<std::size_t>(0, 2)], input.ConsumeIntegral<std::uint32_t>());
            break;
        }
        case 2:
            write_word(kbd, kKbdInRing.cons_offset, input.ConsumeBool()
                                                         ? input.ConsumeIntegral<std::uint32_t>()
                                                         : read_word(kbd, kKbdInRing.prod_offset) - input.ConsumeIntegralInRange<std::uint32_t>(0, 60));
            break;
        case 3: { // rewrite event slots and the rest of the page, not the indices
            const auto offset = input.ConsumeIntegralInRange<std::size_t>(16, kPage - 1);
            const auto bytes = input.ConsumeBytes<std::uint8_t>(input.ConsumeIntegralInRange<std::size_t>(0, kPage - offset));
            copy_to_shared(fb.subspan(offset, bytes.size()), std::as_bytes(std::span{bytes}));
            break;
        }
        case 4: {
            const auto budget = input.ConsumeIntegralInRange<std::size_t>(0, 64);
            std::size_t calls = 0;
            const auto result = fb_out.process(budget, [&](const xenfb_out_event& event) noexcept {
                ++calls;
                // What the display backend will do with its copy: classify by type.
                (void)(event.type == XENFB_TYPE_UPDATE || event.type == XENFB_TYPE_RESIZE);
            });
            TWOFOLD_FUZZ_CHECK(result.processed == calls && result.processed <= budget);
            TWOFOLD_FUZZ_CHECK(result.processed <= kFbOutRing.slot_count);
            if (out_fault) {
                TWOFOLD_FUZZ_CHECK(result.fault == out_fault && result.processed == 0);
            }
            if (result.fault) {
                out_fault = result.fault;
            }
            break;
        }
        case 5:
            push_one(fb_in, fb, kFbInRing, fb_in_fault, XENFB_TYPE_REFRESH_PERIOD);
            break;
        case 6:
            push_one(kbd_in, kbd, kKbdInRing, kbd_in_fault, input.ConsumeIntegral<std::uint8_t>());
            break;
        case 7:
            write_word(displ, kDisplEventRing.cons_offset, input.ConsumeIntegral<std::uint32_t>());
            break;
        default:
            push_one(displ_in, displ, kDisplEventRing, displ_fault, XENDISPL_EVT_PG_FLIP);
            break;
        }
    }
    return 0;
}
