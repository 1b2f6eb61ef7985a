#include "twofold/sound/alsa_sink.h"

#include <alsa/asoundlib.h>

#include <stdexcept>

namespace twofold::sound {

struct AlsaSink::Pcm {
    snd_pcm_t* handle = nullptr;
    std::string name;
    bool busy = false;
    ~Pcm() {
        if (handle != nullptr) snd_pcm_close(handle);
    }
};

namespace {

snd_pcm_format_t alsa_format(SampleFormat format) noexcept {
    switch (format) {
    case SampleFormat::S8: return SND_PCM_FORMAT_S8;
    case SampleFormat::U8: return SND_PCM_FORMAT_U8;
    case SampleFormat::S16Le: return SND_PCM_FORMAT_S16_LE;
    case SampleFormat::S16Be: return SND_PCM_FORMAT_S16_BE;
    case SampleFormat::U16Le: return SND_PCM_FORMAT_U16_LE;
    case SampleFormat::U16Be: return SND_PCM_FORMAT_U16_BE;
    case SampleFormat::S24Le: return SND_PCM_FORMAT_S24_LE;
    case SampleFormat::S24Be: return SND_PCM_FORMAT_S24_BE;
    case SampleFormat::U24Le: return SND_PCM_FORMAT_U24_LE;
    case SampleFormat::U24Be: return SND_PCM_FORMAT_U24_BE;
    case SampleFormat::S32Le: return SND_PCM_FORMAT_S32_LE;
    case SampleFormat::S32Be: return SND_PCM_FORMAT_S32_BE;
    case SampleFormat::U32Le: return SND_PCM_FORMAT_U32_LE;
    case SampleFormat::U32Be: return SND_PCM_FORMAT_U32_BE;
    case SampleFormat::F32Le: return SND_PCM_FORMAT_FLOAT_LE;
    case SampleFormat::F32Be: return SND_PCM_FORMAT_FLOAT_BE;
    case SampleFormat::F64Le: return SND_PCM_FORMAT_FLOAT64_LE;
    case SampleFormat::F64Be: return SND_PCM_FORMAT_FLOAT64_BE;
    }
    return SND_PCM_FORMAT_UNKNOWN;
}

std::unique_ptr<AlsaSink::Pcm> open_pcm(const std::string& name, snd_pcm_stream_t direction) {
    auto pcm = std::make_unique<AlsaSink::Pcm>();
    pcm->name = name;
    if (const int error = snd_pcm_open(&pcm->handle, name.c_str(), direction, SND_PCM_NONBLOCK); error < 0) {
        pcm->handle = nullptr;
        throw std::runtime_error("ALSA device '" + name + "': " + snd_strerror(error));
    }
    return pcm;
}

// One audible guest stream on one of the sink's PCMs; gives the PCM back when it ends.
class AlsaStream final : public SinkStream {
public:
    AlsaStream(AlsaSink::Pcm& pcm, Direction direction, std::size_t frame_bytes, std::shared_ptr<spdlog::logger> log)
        : pcm_(pcm), direction_(direction), frame_bytes_(frame_bytes), log_(std::move(log)) {
        pcm_.busy = true;
    }
    ~AlsaStream() override {
        snd_pcm_drop(pcm_.handle);
        snd_pcm_hw_free(pcm_.handle);
        pcm_.busy = false;
    }
    AlsaStream(const AlsaStream&) = delete;
    AlsaStream& operator=(const AlsaStream&) = delete;

    std::size_t write(std::span<const std::byte> frames) override {
        if (direction_ != Direction::Playback) return 0;
        const auto count = static_cast<snd_pcm_uframes_t>(frames.size() / frame_bytes_);
        snd_pcm_sframes_t written = snd_pcm_writei(pcm_.handle, frames.data(), count);
        if (written == -EPIPE) { // underrun: the guest was late; start again with this write
            snd_pcm_prepare(pcm_.handle);
            written = snd_pcm_writei(pcm_.handle, frames.data(), count);
        }
        return taken(written);
    }
    std::size_t read(std::span<std::byte> out) override {
        if (direction_ != Direction::Capture) return 0;
        if (snd_pcm_state(pcm_.handle) == SND_PCM_STATE_PREPARED) snd_pcm_start(pcm_.handle);
        const auto count = static_cast<snd_pcm_uframes_t>(out.size() / frame_bytes_);
        const snd_pcm_sframes_t got = snd_pcm_readi(pcm_.handle, out.data(), count);
        if (got == -EPIPE) { // overrun: what was lost is lost; go on capturing
            snd_pcm_prepare(pcm_.handle);
            snd_pcm_start(pcm_.handle);
        }
        return taken(got);
    }

private:
    std::size_t taken(snd_pcm_sframes_t frames) {
        if (frames >= 0) return static_cast<std::size_t>(frames) * frame_bytes_;
        if (frames != -EAGAIN) {
            log_->warn("ALSA {}: {}", pcm_.name, snd_strerror(static_cast<int>(frames)));
            snd_pcm_recover(pcm_.handle, static_cast<int>(frames), 1);
        }
        return 0;
    }

    AlsaSink::Pcm& pcm_;
    Direction direction_;
    std::size_t frame_bytes_;
    std::shared_ptr<spdlog::logger> log_;
};

} // namespace

AlsaSink::AlsaSink(const std::string& playback_device, const std::string& capture_device,
                   std::shared_ptr<spdlog::logger> log)
    : log_(std::move(log)) {
    playback_ = open_pcm(playback_device, SND_PCM_STREAM_PLAYBACK);
    if (!capture_device.empty()) capture_ = open_pcm(capture_device, SND_PCM_STREAM_CAPTURE);
}

AlsaSink::~AlsaSink() = default;

std::unique_ptr<SinkStream> AlsaSink::open(const StreamKey& key, Direction direction, const PcmParams& params) {
    Pcm* pcm = direction == Direction::Playback ? playback_.get() : capture_.get();
    if (pcm == nullptr || pcm->busy) return nullptr;
    snd_pcm_hw_params_t* hw = nullptr;
    snd_pcm_hw_params_alloca(&hw);
    int error = snd_pcm_hw_params_any(pcm->handle, hw);
    if (error >= 0) error = snd_pcm_hw_params_set_access(pcm->handle, hw, SND_PCM_ACCESS_RW_INTERLEAVED);
    if (error >= 0) error = snd_pcm_hw_params_set_format(pcm->handle, hw, alsa_format(params.format));
    if (error >= 0) error = snd_pcm_hw_params_set_channels(pcm->handle, hw, params.channels);
    if (error >= 0) error = snd_pcm_hw_params_set_rate(pcm->handle, hw, params.rate, 0);
    if (error >= 0) error = snd_pcm_hw_params(pcm->handle, hw);
    if (error >= 0) error = snd_pcm_prepare(pcm->handle);
    if (error < 0) {
        log_->warn("ALSA {}: cannot take {}'s {} stream ({} Hz, {}, {} channels): {}", pcm->name, key.persona,
                   to_string(direction), params.rate, xenstore_name(params.format), params.channels, snd_strerror(error));
        snd_pcm_hw_free(pcm->handle);
        return nullptr;
    }
    log_->info("ALSA {}: {} {} stream {}/{}", pcm->name, key.persona, to_string(direction), key.index.pcm, key.index.stream);
    return std::make_unique<AlsaStream>(*pcm, direction, params.frame_bytes(), log_);
}

} // namespace twofold::sound
