// Fuzzes ConsoleRing: the page and the guest's index updates and data come from the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_check.h"
#include "twofold/rings/byte_ring.h"

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

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using twofold::rings::ConsoleRing;
    FuzzedDataProvider input(data, size);
    auto page = std::make_unique<Page>();
    const std::span<std::byte> shared{page->bytes, kPage};
    const auto initial = input.ConsumeBytes<std::uint8_t>(input.ConsumeIntegralInRange<std::size_t>(0, kPage));
    std::memcpy(shared.data(), initial.data(), initial.size());
    ConsoleRing console(shared);
    std::optional<twofold::rings::RingFault> read_fault;
    std::optional<twofold::rings::RingFault> write_fault;
    std::vector<std::byte> buffer;

    while (input.remaining_bytes() > 0) {
        switch (input.ConsumeIntegralInRange(0, 5)) {
        case 0: // plausible out_prod: up to a bit more than the ring ahead of out_cons
            write_word(shared, ConsoleRing::kOut.prod_offset,
                       read_word(shared, ConsoleRing::kOut.cons_offset) + input.ConsumeIntegralInRange<std::uint32_t>(0, 2100));
            break;
        case 1:
            write_word(shared, ConsoleRing::kOut.prod_offset, input.ConsumeIntegral<std::uint32_t>());
            break;
        case 2: // the guest reads some of `in`, or lies about it
            write_word(shared, ConsoleRing::kIn.cons_offset,
                       read_word(shared, ConsoleRing::kIn.cons_offset) + input.ConsumeIntegralInRange<std::uint32_t>(0, 1100));
            break;
        case 3:
            write_word(shared, input.ConsumeBool() ? ConsoleRing::kIn.cons_offset : ConsoleRing::kOut.cons_offset,
                       input.ConsumeIntegral<std::uint32_t>());
            break;
        case 4: {
            buffer.assign(input.ConsumeIntegralInRange<std::size_t>(0, 4096), std::byte{0});
            const auto result = console.read_output(buffer);
            TWOFOLD_FUZZ_CHECK(result.bytes <= buffer.size() && result.bytes <= ConsoleRing::kOut.data_size);
            if (read_fault) {
                TWOFOLD_FUZZ_CHECK(result.fault == read_fault && result.bytes == 0);
            }
            if (result.fault) {
                TWOFOLD_FUZZ_CHECK(result.bytes == 0);
                read_fault = result.fault;
            }
            break;
        }
        default: {
            const auto text = input.ConsumeBytes<std::uint8_t>(input.ConsumeIntegralInRange<std::size_t>(0, 2048));
            const auto result = console.write_input(std::as_bytes(std::span{text}));
            TWOFOLD_FUZZ_CHECK(result.written <= text.size() && result.written <= ConsoleRing::kIn.data_size);
            if (write_fault) {
                TWOFOLD_FUZZ_CHECK(result.fault == write_fault && result.written == 0);
            }
            if (result.fault) {
                TWOFOLD_FUZZ_CHECK(result.written == 0);
                write_fault = result.fault;
            } else {
                // Never more unread bytes in `in` than it holds.
                TWOFOLD_FUZZ_CHECK(read_word(shared, ConsoleRing::kIn.prod_offset) - read_word(shared, ConsoleRing::kIn.cons_offset) <=
                                   ConsoleRing::kIn.data_size);
            }
            break;
        }
        }
    }
    return 0;
}
