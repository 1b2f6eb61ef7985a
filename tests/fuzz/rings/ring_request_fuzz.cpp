// Fuzzes BackRing with a real protocol (blkif): the whole ring page(s) AND the sequence of
// frontend actions (index updates, slot rewrites, event indices) come from the fuzz input,
// as crosvm's queue fuzzers do. Checks the backend's own invariants after every step.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

extern "C" {
#include <xen/io/blkif.h>
}

#include "fuzz_check.h"
#include "twofold/rings/back_ring.h"

namespace {

using Ring = twofold::rings::BackRing<blkif_request, blkif_response>;
namespace sring = twofold::rings::sring;
constexpr std::size_t kPage = 4096;

struct alignas(kPage) Page {
    std::byte bytes[kPage];
};

void write_word(std::span<std::byte> shared, std::size_t offset, std::uint32_t value) {
    twofold::rings::SharedIndex(shared.data() + offset).store_release(value);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider input(data, size);
    const std::size_t pages = std::size_t{1} << input.ConsumeIntegralInRange(0, 2);
    auto storage = std::make_unique<Page[]>(pages);
    const std::span<std::byte> shared{storage[0].bytes, pages * kPage};
    const auto initial = input.ConsumeBytes<std::uint8_t>(input.ConsumeIntegralInRange<std::size_t>(0, shared.size()));
    std::memcpy(shared.data(), initial.data(), initial.size());

    const auto start = input.ConsumeIntegral<std::uint32_t>();
    Ring ring(shared, start);
    std::uint64_t total = 0;
    std::optional<twofold::rings::RingFault> first_fault;

    while (input.remaining_bytes() > 0) {
        switch (input.ConsumeIntegralInRange(0, 4)) {
        case 0: // a plausible producer: a few requests ahead of what we consumed
            write_word(shared, sring::kReqProd, ring.request_consumer() + input.ConsumeIntegralInRange<std::uint32_t>(0, 2 * ring.size()));
            break;
        case 1: // any producer at all
            write_word(shared, sring::kReqProd, input.ConsumeIntegral<std::uint32_t>());
            break;
        case 2: { // rewrite part of the ring, header included
            const auto offset = input.ConsumeIntegralInRange<std::size_t>(0, shared.size() - 1);
            const auto bytes = input.ConsumeBytes<std::uint8_t>(input.ConsumeIntegralInRange<std::size_t>(0, shared.size() - offset));
            twofold::rings::copy_to_shared(shared.subspan(offset, bytes.size()), std::as_bytes(std::span{bytes}));
            break;
        }
        case 3:
            write_word(shared, sring::kRspEvent, input.ConsumeIntegral<std::uint32_t>());
            break;
        default: {
            const auto budget = input.ConsumeIntegralInRange<std::size_t>(0, 64);
            const auto before = ring.request_consumer();
            std::size_t calls = 0;
            const auto result = ring.process(budget, [&](const blkif_request& req, blkif_response& rsp) noexcept {
                ++calls;
                rsp.id = req.id;
                rsp.operation = req.operation;
                // A handler parses its copy; nr_segments is the classic guest-controlled bound.
                rsp.status = req.nr_segments <= BLKIF_MAX_SEGMENTS_PER_REQUEST ? BLKIF_RSP_OKAY : BLKIF_RSP_ERROR;
            });
            TWOFOLD_FUZZ_CHECK(result.processed == calls);
            TWOFOLD_FUZZ_CHECK(result.processed <= budget);
            TWOFOLD_FUZZ_CHECK(result.processed <= ring.size());
            TWOFOLD_FUZZ_CHECK(ring.request_consumer() - before == result.processed);
            TWOFOLD_FUZZ_CHECK(ring.response_producer() == ring.request_consumer()); // one response each
            if (first_fault) { // a fault is final
                TWOFOLD_FUZZ_CHECK(result.fault == first_fault && result.processed == 0);
            }
            if (result.fault) {
                TWOFOLD_FUZZ_CHECK(result.processed == 0 && !result.notify && !result.more_pending);
                first_fault = result.fault;
            } else if (result.processed > 0) {
                // What the guest sees as rsp_prod is what we produced (unless it scribbled it).
                TWOFOLD_FUZZ_CHECK(twofold::rings::SharedIndex(shared.data() + sring::kRspProd).load_acquire() == ring.response_producer());
            }
            total += result.processed;
            break;
        }
        }
    }
    TWOFOLD_FUZZ_CHECK(ring.request_consumer() - start == static_cast<std::uint32_t>(total));
    return 0;
}
