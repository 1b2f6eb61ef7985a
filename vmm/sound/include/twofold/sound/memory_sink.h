#pragma once
// A Sink in memory for tests: keeps every byte each opened playback stream was given, in
// order, per stream key, and feeds capture streams from a fixed pattern. Like a sound card it
// takes one stream per direction at a time, so a test sees a second open refused (counted)
// instead of two personas silently mixed.
#include <cstddef>
#include <map>
#include <memory>
#include <vector>

#include "twofold/sound/sink.h"

namespace twofold::sound {

class MemorySink final : public Sink {
public:
    struct Played {
        PcmParams params;
        std::vector<std::byte> bytes;
    };

    std::unique_ptr<SinkStream> open(const StreamKey& key, Direction direction, const PcmParams& params) override;

    // Capture streams repeat this pattern (empty: nothing is captured, the guest gets silence).
    void set_capture_pattern(std::vector<std::byte> pattern) { capture_pattern_ = std::move(pattern); }

    // What reached the "speaker" from one stream (empty if it never played).
    [[nodiscard]] std::vector<std::byte> played(const StreamKey& key) const;
    [[nodiscard]] std::size_t total_played() const noexcept;
    [[nodiscard]] std::size_t opens() const noexcept { return opens_; }
    [[nodiscard]] std::size_t refused_opens() const noexcept { return refused_opens_; }
    [[nodiscard]] bool playing() const noexcept { return playback_open_; }
    [[nodiscard]] bool capturing() const noexcept { return capture_open_; }
    [[nodiscard]] std::size_t captured_bytes() const noexcept { return captured_bytes_; }

private:
    class Stream;
    friend class Stream;

    struct KeyLess {
        bool operator()(const StreamKey& a, const StreamKey& b) const noexcept;
    };
    std::map<StreamKey, Played, KeyLess> played_;
    std::vector<std::byte> capture_pattern_;
    std::size_t capture_position_ = 0;
    std::size_t captured_bytes_ = 0;
    std::size_t opens_ = 0;
    std::size_t refused_opens_ = 0;
    bool playback_open_ = false;
    bool capture_open_ = false;
};

} // namespace twofold::sound
