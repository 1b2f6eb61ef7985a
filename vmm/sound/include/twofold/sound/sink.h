#pragma once
// Where played samples go and captured samples come from: ALSA in dom0 (alsa_sink.h), memory
// in tests (memory_sink.h). The backend opens a SinkStream only for a stream that is audible
// (its persona is in the foreground) and closes it when that ends, so a sink never carries
// two personas at once; a sink refuses a second stream of the same direction (nullptr) rather
// than mix.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "twofold/sound/offer.h"
#include "twofold/sound/pcm.h"

namespace twofold::sound {

// Which guest stream a sink stream belongs to (names the persona for logs and tests).
struct StreamKey {
    std::string persona;
    StreamIndex index;
    friend bool operator==(const StreamKey&, const StreamKey&) = default;
};

class SinkStream {
public:
    virtual ~SinkStream() = default;
    // Playback: hands whole frames on without blocking; returns the bytes taken (the rest is
    // dropped by the caller and counted).
    virtual std::size_t write(std::span<const std::byte> frames) = 0;
    // Capture: fills `out` with whole frames without blocking; returns the bytes filled (the
    // caller sends silence for the rest).
    virtual std::size_t read(std::span<std::byte> out) = 0;
};

class Sink {
public:
    virtual ~Sink() = default;
    // nullptr when the device cannot take this stream (busy, format not supported by the
    // hardware, no capture device): the caller then plays into nothing / captures silence.
    virtual std::unique_ptr<SinkStream> open(const StreamKey& key, Direction direction, const PcmParams& params) = 0;
};

} // namespace twofold::sound
