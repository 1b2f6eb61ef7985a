#include "twofold/sound/offer.h"

#include <algorithm>
#include <stdexcept>

#include <xen/io/sndif.h>

#include "twofold/xen/types.h"

namespace twofold::sound {

bool StreamOffer::offers_rate(std::uint32_t rate) const noexcept {
    return std::find(rates.begin(), rates.end(), rate) != rates.end();
}

std::size_t CardOffer::stream_count() const noexcept {
    std::size_t count = 0;
    for (const auto& device : devices) count += device.streams.size();
    return count;
}

CardOffer default_offer() {
    CardOffer card;
    PcmDeviceOffer device;
    device.name = "speaker-mic";
    StreamOffer playback;
    playback.direction = Direction::Playback;
    StreamOffer capture;
    capture.direction = Direction::Capture;
    device.streams = {playback, capture};
    card.devices.push_back(std::move(device));
    return card;
}

namespace {

void require(bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("sound offer: " + what);
}

// Names go into xenstore and into the guest's ALSA card: printable ASCII without the list
// separator, within sndif's field sizes.
bool printable(std::string_view text, std::size_t max) {
    return text.size() <= max && std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

} // namespace

void validate(const CardOffer& offer) {
    require(printable(offer.short_name, 31), "short name too long or not printable");
    require(printable(offer.long_name, 79), "long name too long or not printable");
    require(!offer.devices.empty() && offer.devices.size() <= kMaxPcmDevices, "1 to 4 PCM devices");
    for (const auto& device : offer.devices) {
        require(printable(device.name, 79), "device name too long or not printable");
        require(!device.streams.empty() && device.streams.size() <= kMaxStreamsPerDevice, "1 to 4 streams per device");
        for (const auto& stream : device.streams) {
            require(!stream.rates.empty() && stream.rates.size() <= kMaxRates, "1 to 16 rates per stream");
            for (const auto rate : stream.rates) require(rate >= kMinRate && rate <= kMaxRate, "rate outside 8000..192000");
            require(stream.formats != 0 && (stream.formats >> (kMaxServedFormatCode + 1)) == 0,
                    "formats must be served linear PCM formats");
            require(stream.channels_min >= 1 && stream.channels_min <= stream.channels_max &&
                        stream.channels_max <= kMaxChannels,
                    "channels 1 <= min <= max <= 8");
            require(stream.buffer_bytes >= xen::kPageSize && stream.buffer_bytes <= kMaxBufferBytes &&
                        stream.buffer_bytes % xen::kPageSize == 0,
                    "buffer a whole number of pages, at most 256 KiB");
        }
    }
}

std::vector<std::pair<std::string, std::string>> frontend_nodes(const CardOffer& offer) {
    std::vector<std::pair<std::string, std::string>> nodes{
        {XENSND_FIELD_VCARD_SHORT_NAME, offer.short_name},
        {XENSND_FIELD_VCARD_LONG_NAME, offer.long_name},
    };
    std::size_t unique = 0;
    for (std::size_t p = 0; p < offer.devices.size(); ++p) {
        const auto& device = offer.devices[p];
        const std::string pcm = std::to_string(p);
        nodes.emplace_back(pcm + "/" + XENSND_FIELD_DEVICE_NAME, device.name);
        for (std::size_t s = 0; s < device.streams.size(); ++s) {
            const auto& stream = device.streams[s];
            const std::string dir = pcm + "/" + std::to_string(s) + "/";
            std::string rates;
            for (const auto rate : stream.rates) rates += (rates.empty() ? "" : XENSND_LIST_SEPARATOR) + std::to_string(rate);
            std::string formats;
            for (std::uint8_t code = 0; code <= kMaxServedFormatCode; ++code) {
                const auto format = format_from_code(code);
                if (format && stream.offers_format(*format)) {
                    formats += (formats.empty() ? "" : XENSND_LIST_SEPARATOR) + std::string(xenstore_name(*format));
                }
            }
            nodes.emplace_back(dir + XENSND_FIELD_TYPE, std::string(xenstore_type(stream.direction)));
            nodes.emplace_back(dir + XENSND_FIELD_STREAM_UNIQUE_ID, std::to_string(unique++));
            nodes.emplace_back(dir + XENSND_FIELD_SAMPLE_RATES, rates);
            nodes.emplace_back(dir + XENSND_FIELD_SAMPLE_FORMATS, formats);
            nodes.emplace_back(dir + XENSND_FIELD_CHANNELS_MIN, std::to_string(stream.channels_min));
            nodes.emplace_back(dir + XENSND_FIELD_CHANNELS_MAX, std::to_string(stream.channels_max));
            nodes.emplace_back(dir + XENSND_FIELD_BUFFER_SIZE, std::to_string(stream.buffer_bytes));
        }
    }
    return nodes;
}

} // namespace twofold::sound
