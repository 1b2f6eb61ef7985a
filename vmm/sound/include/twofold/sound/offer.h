#pragma once
// What the sound backend offers a persona: one virtual card of PCM devices, each with
// playback and capture streams, and per stream the rates, formats, channel range and largest
// buffer it serves. The offer is the authority: sndif puts the card configuration in the
// frontend's own xenstore directory (written by the toolstack, but writable by the guest
// afterwards), so the backend reads there only which streams exist and their transport nodes,
// and checks every OPEN and HW_PARAM_QUERY against this value, never against what the guest
// directory says.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "twofold/sound/pcm.h"
#include "twofold/xenbus/result.h"

namespace twofold::sound {

// Bounds on an offer (and so on what any guest can make us map or hold).
inline constexpr std::size_t kMaxPcmDevices = 4;
inline constexpr std::size_t kMaxStreamsPerDevice = 4;
inline constexpr std::size_t kMaxRates = 16;
inline constexpr std::uint32_t kMinRate = 8000;
inline constexpr std::uint32_t kMaxRate = 192000;
inline constexpr std::uint8_t kMaxChannels = 8;
// 256 KiB per stream: 64 pages, a single page of grant directory.
inline constexpr std::uint32_t kMaxBufferBytes = 256 * 1024;

struct StreamOffer {
    Direction direction = Direction::Playback;
    std::vector<std::uint32_t> rates{8000, 16000, 44100, 48000};
    FormatMask formats = mask_of(SampleFormat::S16Le);
    std::uint8_t channels_min = 1;
    std::uint8_t channels_max = 2;
    std::uint32_t buffer_bytes = 64 * 1024; // the largest buffer a guest may open

    [[nodiscard]] bool offers_rate(std::uint32_t rate) const noexcept;
    [[nodiscard]] bool offers_format(SampleFormat format) const noexcept { return (formats & mask_of(format)) != 0; }
};

struct PcmDeviceOffer {
    std::string name = "twofold";
    std::vector<StreamOffer> streams;
};

struct CardOffer {
    std::string short_name = "twofold";
    std::string long_name = "twofold virtual sound card";
    std::vector<PcmDeviceOffer> devices;

    [[nodiscard]] std::size_t stream_count() const noexcept;
};

// A stream's place in the card: /local/domain/<fe>/device/vsnd/<devid>/<pcm>/<stream>.
struct StreamIndex {
    std::uint8_t pcm = 0;
    std::uint8_t stream = 0;
    friend bool operator==(const StreamIndex&, const StreamIndex&) = default;
};

// One PCM device with a stereo playback and a stereo capture stream of s16_le at the usual
// rates: what xen-snd-front needs for a phone's speaker and microphone.
[[nodiscard]] CardOffer default_offer();

// Throws std::invalid_argument naming the first rule an operator-given offer breaks (limits
// above, no empty lists, channels_min <= channels_max, buffer a whole number of pages).
void validate(const CardOffer& offer);

// The nodes (relative to the frontend's device directory) the toolstack writes before the
// frontend starts, in sndif's layout: card names, per device name, per stream type,
// unique-id, sample-rates, sample-formats, channels-min/max, buffer-size.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> frontend_nodes(const CardOffer& offer);

} // namespace twofold::sound
