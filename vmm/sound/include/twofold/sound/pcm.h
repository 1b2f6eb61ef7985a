#pragma once
// The vocabulary of a PCM stream as sndif (xen/io/sndif.h) describes it: sample formats by
// their XENSND_PCM_FORMAT_* code and xenstore name, directions, and the three parameters a
// guest opens a stream with. Only linear PCM and IEEE floats are served: the compressed and
// framed formats (mu-law, ADPCM, MPEG, GSM, IEC958) have no fixed frame size, so a buffer
// offset could not be checked against a frame boundary.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace twofold::sound {

enum class Direction : std::uint8_t { Playback, Capture };
[[nodiscard]] std::string_view to_string(Direction direction) noexcept;
// sndif's stream "type" node: "p" or "c".
[[nodiscard]] std::string_view xenstore_type(Direction direction) noexcept;

// XENSND_PCM_FORMAT_S8 .. XENSND_PCM_FORMAT_F64_BE: the codes are the enum values.
enum class SampleFormat : std::uint8_t {
    S8 = 0, U8, S16Le, S16Be, U16Le, U16Be, S24Le, S24Be, U24Le, U24Be,
    S32Le, S32Be, U32Le, U32Be, F32Le, F32Be, F64Le, F64Be,
};
inline constexpr std::uint8_t kMaxServedFormatCode = 17;

// nullopt for a code we do not serve (compressed formats, and anything past the header's list).
[[nodiscard]] std::optional<SampleFormat> format_from_code(std::uint8_t untrusted_code) noexcept;
[[nodiscard]] constexpr std::uint8_t code_of(SampleFormat format) noexcept { return static_cast<std::uint8_t>(format); }
// Bytes per sample; the 24-bit formats sit in 32-bit containers (as ALSA's S24_LE does).
[[nodiscard]] std::size_t bytes_per_sample(SampleFormat format) noexcept;
// XENSND_PCM_FORMAT_*_STR ("s16_le", "float_le", ...).
[[nodiscard]] std::string_view xenstore_name(SampleFormat format) noexcept;
[[nodiscard]] std::optional<SampleFormat> format_from_name(std::string_view untrusted_name) noexcept;

// A set of formats as sndif's HW_PARAM_QUERY carries it: bit (1 << code).
using FormatMask = std::uint64_t;
[[nodiscard]] constexpr FormatMask mask_of(SampleFormat format) noexcept { return FormatMask{1} << code_of(format); }

// What a stream was opened with, every field checked against the offer.
struct PcmParams {
    std::uint32_t rate = 48000;
    SampleFormat format = SampleFormat::S16Le;
    std::uint8_t channels = 2;

    [[nodiscard]] std::size_t frame_bytes() const noexcept { return bytes_per_sample(format) * channels; }
    friend bool operator==(const PcmParams&, const PcmParams&) = default;
};

} // namespace twofold::sound
