#include "twofold/rings/shared_memory.h"

#include <cstring>

namespace twofold::rings {
namespace {

// Word size for the bulk of a copy: one relaxed 8-byte atomic is a plain load/store on
// x86_64 and aarch64, so copying through atomics costs nothing over memcpy per word.
using Word = std::uint64_t;
constexpr std::size_t kWord = sizeof(Word);

bool word_aligned(const std::byte* p) noexcept {
    return reinterpret_cast<std::uintptr_t>(p) % alignof(Word) == 0;
}

// atomic_ref needs a non-const object even for loads; the shared page is writable memory
// whichever side of the copy it is on, so dropping const here writes nothing.
std::byte* mutable_ptr(const std::byte* p) noexcept { return const_cast<std::byte*>(p); }

std::byte load_byte(const std::byte* p) noexcept {
    return std::atomic_ref<std::byte>(*mutable_ptr(p)).load(std::memory_order_relaxed);
}
void store_byte(std::byte* p, std::byte value) noexcept {
    std::atomic_ref<std::byte>(*p).store(value, std::memory_order_relaxed);
}
Word load_word(const std::byte* p) noexcept {
    return std::atomic_ref<Word>(*reinterpret_cast<Word*>(mutable_ptr(p))).load(std::memory_order_relaxed);
}
void store_word(std::byte* p, Word value) noexcept {
    std::atomic_ref<Word>(*reinterpret_cast<Word*>(p)).store(value, std::memory_order_relaxed);
}

} // namespace

void copy_from_shared(std::span<std::byte> dst, std::span<const std::byte> src) noexcept {
    const std::size_t n = dst.size() < src.size() ? dst.size() : src.size();
    std::size_t i = 0;
    for (; i < n && !word_aligned(src.data() + i); ++i) {
        dst[i] = load_byte(src.data() + i);
    }
    for (; i + kWord <= n; i += kWord) {
        const Word w = load_word(src.data() + i);
        std::memcpy(dst.data() + i, &w, kWord); // dst is private and may be unaligned
    }
    for (; i < n; ++i) {
        dst[i] = load_byte(src.data() + i);
    }
}

void copy_to_shared(std::span<std::byte> dst, std::span<const std::byte> src) noexcept {
    const std::size_t n = dst.size() < src.size() ? dst.size() : src.size();
    std::size_t i = 0;
    for (; i < n && !word_aligned(dst.data() + i); ++i) {
        store_byte(dst.data() + i, src[i]);
    }
    for (; i + kWord <= n; i += kWord) {
        Word w{};
        std::memcpy(&w, src.data() + i, kWord);
        store_word(dst.data() + i, w);
    }
    for (; i < n; ++i) {
        store_byte(dst.data() + i, src[i]);
    }
}

void zero_shared(std::span<std::byte> dst) noexcept {
    std::size_t i = 0;
    for (; i < dst.size() && !word_aligned(dst.data() + i); ++i) {
        store_byte(dst.data() + i, std::byte{0});
    }
    for (; i + kWord <= dst.size(); i += kWord) {
        store_word(dst.data() + i, 0);
    }
    for (; i < dst.size(); ++i) {
        store_byte(dst.data() + i, std::byte{0});
    }
}

SharedIndex::SharedIndex(std::byte* word) noexcept : word_(reinterpret_cast<std::uint32_t*>(word)) {}

std::uint32_t SharedIndex::load_acquire() const noexcept {
    return std::atomic_ref<std::uint32_t>(*word_).load(std::memory_order_acquire);
}
void SharedIndex::store_release(std::uint32_t value) const noexcept {
    std::atomic_ref<std::uint32_t>(*word_).store(value, std::memory_order_release);
}
std::uint32_t SharedIndex::load_seq_cst() const noexcept {
    return std::atomic_ref<std::uint32_t>(*word_).load(std::memory_order_seq_cst);
}
void SharedIndex::store_seq_cst(std::uint32_t value) const noexcept {
    std::atomic_ref<std::uint32_t>(*word_).store(value, std::memory_order_seq_cst);
}
std::uint32_t SharedIndex::load_relaxed() const noexcept {
    return std::atomic_ref<std::uint32_t>(*word_).load(std::memory_order_relaxed);
}

} // namespace twofold::rings
