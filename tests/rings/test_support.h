#pragma once
// Shared helpers for the ring tests: page-aligned "shared" memory and a test protocol
// defined with the real DEFINE_RING_TYPES macro.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

extern "C" {
#include <xen/io/ring.h>
}

#include "twofold/rings/shared_memory.h"

// A request carrying a checksum over its payload, so a handler can tell whether the copy it
// got is internally consistent. The padding after `op` is deliberate.
struct twofold_test_request {
    std::uint64_t id;
    std::uint8_t op;
    std::uint32_t payload[6];
    std::uint32_t checksum;
};
// status is followed by 7 padding bytes: the XSA-216 test checks they reach the guest as 0.
struct twofold_test_response {
    std::uint64_t id;
    std::uint8_t status;
    std::int64_t value;
};
DEFINE_RING_TYPES(twofold_test, struct twofold_test_request, struct twofold_test_response);

namespace twofold::rings::test {

using Request = twofold_test_request;
using Response = twofold_test_response;

inline constexpr std::size_t kPage = 4096;

inline std::uint32_t checksum_of(const Request& r) noexcept {
    std::uint32_t sum = 0x9e3779b9U ^ static_cast<std::uint32_t>(r.id);
    for (std::uint32_t word : r.payload) {
        sum = (sum ^ word) * 0x01000193U;
    }
    return sum;
}

inline Request make_request(std::uint64_t id) noexcept {
    Request r{};
    r.id = id;
    r.op = 1;
    for (std::uint32_t i = 0; i < 6; ++i) {
        r.payload[i] = static_cast<std::uint32_t>(id * 7 + i);
    }
    r.checksum = checksum_of(r);
    return r;
}

// Page-aligned memory standing in for a mapped grant; freed with the object.
class SharedPages {
public:
    explicit SharedPages(std::size_t pages, std::byte fill = std::byte{0})
        : size_(pages * kPage), storage_(std::make_unique<Storage[]>(pages)) {
        std::memset(storage_.get(), static_cast<int>(fill), size_);
    }
    [[nodiscard]] std::span<std::byte> bytes() const noexcept {
        return {reinterpret_cast<std::byte*>(storage_.get()), size_};
    }
    // Guest-side writes of a 32-bit word, through the same atomic primitives as the backend.
    void write_word(std::size_t offset, std::uint32_t value) const noexcept {
        SharedIndex(bytes().data() + offset).store_release(value);
    }
    [[nodiscard]] std::uint32_t read_word(std::size_t offset) const noexcept {
        return SharedIndex(bytes().data() + offset).load_acquire();
    }

private:
    struct alignas(kPage) Storage {
        std::byte page[kPage];
    };
    std::size_t size_;
    std::unique_ptr<Storage[]> storage_;
};

} // namespace twofold::rings::test
