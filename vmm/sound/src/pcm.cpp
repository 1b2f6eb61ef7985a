#include "twofold/sound/pcm.h"

#include <array>

#include <xen/io/sndif.h>

namespace twofold::sound {
namespace {

struct FormatInfo {
    SampleFormat format;
    std::string_view name;
    std::size_t bytes;
};

// Indexed by code; the names are sndif's XENSND_PCM_FORMAT_*_STR.
constexpr std::array<FormatInfo, kMaxServedFormatCode + 1> kFormats{{
    {SampleFormat::S8, XENSND_PCM_FORMAT_S8_STR, 1},
    {SampleFormat::U8, XENSND_PCM_FORMAT_U8_STR, 1},
    {SampleFormat::S16Le, XENSND_PCM_FORMAT_S16_LE_STR, 2},
    {SampleFormat::S16Be, XENSND_PCM_FORMAT_S16_BE_STR, 2},
    {SampleFormat::U16Le, XENSND_PCM_FORMAT_U16_LE_STR, 2},
    {SampleFormat::U16Be, XENSND_PCM_FORMAT_U16_BE_STR, 2},
    {SampleFormat::S24Le, XENSND_PCM_FORMAT_S24_LE_STR, 4},
    {SampleFormat::S24Be, XENSND_PCM_FORMAT_S24_BE_STR, 4},
    {SampleFormat::U24Le, XENSND_PCM_FORMAT_U24_LE_STR, 4},
    {SampleFormat::U24Be, XENSND_PCM_FORMAT_U24_BE_STR, 4},
    {SampleFormat::S32Le, XENSND_PCM_FORMAT_S32_LE_STR, 4},
    {SampleFormat::S32Be, XENSND_PCM_FORMAT_S32_BE_STR, 4},
    {SampleFormat::U32Le, XENSND_PCM_FORMAT_U32_LE_STR, 4},
    {SampleFormat::U32Be, XENSND_PCM_FORMAT_U32_BE_STR, 4},
    {SampleFormat::F32Le, XENSND_PCM_FORMAT_F32_LE_STR, 4},
    {SampleFormat::F32Be, XENSND_PCM_FORMAT_F32_BE_STR, 4},
    {SampleFormat::F64Le, XENSND_PCM_FORMAT_F64_LE_STR, 8},
    {SampleFormat::F64Be, XENSND_PCM_FORMAT_F64_BE_STR, 8},
}};
static_assert(XENSND_PCM_FORMAT_F64_BE == kMaxServedFormatCode);
static_assert(XENSND_PCM_FORMAT_S16_LE == static_cast<int>(SampleFormat::S16Le));
static_assert(XENSND_PCM_FORMAT_F32_LE == static_cast<int>(SampleFormat::F32Le));

} // namespace

std::string_view to_string(Direction direction) noexcept {
    return direction == Direction::Playback ? "playback" : "capture";
}

std::string_view xenstore_type(Direction direction) noexcept {
    return direction == Direction::Playback ? XENSND_STREAM_TYPE_PLAYBACK : XENSND_STREAM_TYPE_CAPTURE;
}

std::optional<SampleFormat> format_from_code(std::uint8_t untrusted_code) noexcept {
    if (untrusted_code > kMaxServedFormatCode) return std::nullopt;
    return kFormats[untrusted_code].format;
}

std::size_t bytes_per_sample(SampleFormat format) noexcept { return kFormats[code_of(format)].bytes; }

std::string_view xenstore_name(SampleFormat format) noexcept { return kFormats[code_of(format)].name; }

std::optional<SampleFormat> format_from_name(std::string_view untrusted_name) noexcept {
    for (const auto& info : kFormats) {
        if (info.name == untrusted_name) return info.format;
    }
    return std::nullopt;
}

} // namespace twofold::sound
