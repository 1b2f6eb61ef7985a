#include "twofold/sound/memory_sink.h"

#include <tuple>

namespace twofold::sound {

class MemorySink::Stream final : public SinkStream {
public:
    Stream(MemorySink& sink, StreamKey key, Direction direction) : sink_(sink), key_(std::move(key)), direction_(direction) {}
    ~Stream() override {
        (direction_ == Direction::Playback ? sink_.playback_open_ : sink_.capture_open_) = false;
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    std::size_t write(std::span<const std::byte> frames) override {
        if (direction_ != Direction::Playback) return 0;
        auto& bytes = sink_.played_[key_].bytes;
        bytes.insert(bytes.end(), frames.begin(), frames.end());
        return frames.size();
    }
    std::size_t read(std::span<std::byte> out) override {
        if (direction_ != Direction::Capture || sink_.capture_pattern_.empty()) return 0;
        for (auto& byte : out) {
            byte = sink_.capture_pattern_[sink_.capture_position_];
            sink_.capture_position_ = (sink_.capture_position_ + 1) % sink_.capture_pattern_.size();
        }
        sink_.captured_bytes_ += out.size();
        return out.size();
    }

private:
    MemorySink& sink_;
    StreamKey key_;
    Direction direction_;
};

bool MemorySink::KeyLess::operator()(const StreamKey& a, const StreamKey& b) const noexcept {
    return std::tie(a.persona, a.index.pcm, a.index.stream) < std::tie(b.persona, b.index.pcm, b.index.stream);
}

std::unique_ptr<SinkStream> MemorySink::open(const StreamKey& key, Direction direction, const PcmParams& params) {
    bool& busy = direction == Direction::Playback ? playback_open_ : capture_open_;
    if (busy) {
        ++refused_opens_;
        return nullptr;
    }
    busy = true;
    ++opens_;
    if (direction == Direction::Playback) played_[key].params = params;
    return std::make_unique<Stream>(*this, key, direction);
}

std::vector<std::byte> MemorySink::played(const StreamKey& key) const {
    const auto it = played_.find(key);
    return it == played_.end() ? std::vector<std::byte>{} : it->second.bytes;
}

std::size_t MemorySink::total_played() const noexcept {
    std::size_t total = 0;
    for (const auto& [key, played] : played_) total += played.bytes.size();
    return total;
}

} // namespace twofold::sound
