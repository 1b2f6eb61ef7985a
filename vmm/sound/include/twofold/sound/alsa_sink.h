#pragma once
// The dom0 Sink: ALSA through alsa-lib. Both PCMs are opened when the sink is made, before the
// backend confines itself (a confined backend cannot open a device node), non-blocking, and
// kept; a guest stream that becomes audible sets their hardware parameters (plughw converts
// what the codec cannot take) and writes or reads without ever blocking the event loop: what
// the device cannot take at once is dropped and counted by the stream. One guest stream per
// direction at a time, which the focus rule makes the foreground persona's.
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "twofold/sound/sink.h"

namespace twofold::sound {

class AlsaSink final : public Sink {
public:
    // Empty capture_device: no capture (guests record silence). Throws std::runtime_error
    // naming the device that would not open.
    AlsaSink(const std::string& playback_device, const std::string& capture_device, std::shared_ptr<spdlog::logger> log);
    ~AlsaSink() override;
    AlsaSink(const AlsaSink&) = delete;
    AlsaSink& operator=(const AlsaSink&) = delete;

    std::unique_ptr<SinkStream> open(const StreamKey& key, Direction direction, const PcmParams& params) override;

    struct Pcm;

private:
    std::unique_ptr<Pcm> playback_;
    std::unique_ptr<Pcm> capture_;
    std::shared_ptr<spdlog::logger> log_;
};

} // namespace twofold::sound
