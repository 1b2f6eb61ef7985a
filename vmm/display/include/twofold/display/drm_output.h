#pragma once
// KMS output through libdrm: the first connected connector, its preferred mode (or the one
// asked for), a CRTC that can drive it, two XRGB8888 dumb buffers. A present copies the
// damage into the back buffer, then flips (page flip when the driver has it, SetCrtc
// otherwise) and waits for the flip, so present() returns once the frame is on the glass:
// the ack the manager gets after it is about a frame that is really shown.
//
// The choice of connector, mode and CRTC is a pure function over a plain description of the
// card, so it is tested without a device.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "twofold/display/output.h"

namespace twofold::display {

struct ModeInfo {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::uint32_t refresh_hz = 0;
    bool preferred = false;
};

struct ConnectorInfo {
    std::uint32_t id = 0;
    bool connected = false;
    std::vector<ModeInfo> modes;
    std::vector<std::uint32_t> encoder_ids;
    std::uint32_t current_encoder_id = 0; // 0: none
};

struct EncoderInfo {
    std::uint32_t id = 0;
    std::uint32_t possible_crtcs = 0; // bit i: the card's i-th CRTC
    std::uint32_t current_crtc_id = 0; // 0: none
};

struct CardInfo {
    std::vector<std::uint32_t> crtc_ids; // in the card's order (the bits of possible_crtcs)
    std::vector<ConnectorInfo> connectors;
    std::vector<EncoderInfo> encoders;
};

struct OutputChoice {
    std::size_t connector = 0; // index into CardInfo::connectors
    std::size_t mode = 0;      // index into that connector's modes
    std::uint32_t crtc_id = 0;
    friend bool operator==(const OutputChoice&, const OutputChoice&) = default;
};

// The mode of a connector: the requested size (the preferred, then the fastest, of the modes
// of that size), else the preferred mode, else the first one listed. Modes larger than
// kMaxOutputSide are never chosen.
Result<std::size_t> choose_mode(const std::vector<ModeInfo>& modes, std::optional<ModeRequest> request);

// The CRTC: the one the connector's current encoder drives, else the first CRTC one of its
// encoders can drive.
Result<std::uint32_t> choose_crtc(const CardInfo& card, const ConnectorInfo& connector);

// The first connected connector that has a usable mode, with its mode and CRTC.
Result<OutputChoice> choose_output(const CardInfo& card, std::optional<ModeRequest> request);

class DrmTarget final : public DisplayTarget {
public:
    // Opens `device`, sets the chosen mode on two dumb buffers. Errors say which step failed.
    static Result<std::unique_ptr<DrmTarget>> open(const std::filesystem::path& device,
                                                   std::optional<ModeRequest> request);
    // Restores the CRTC as it was found, removes the framebuffers, destroys the buffers.
    ~DrmTarget() override;
    DrmTarget(const DrmTarget&) = delete;
    DrmTarget& operator=(const DrmTarget&) = delete;

    Screen& screen() noexcept override;
    void present(const Rect& damage) override;

    [[nodiscard]] std::string describe() const;

    // Only open() can make a State (it is defined in the source file).
    struct State;
    explicit DrmTarget(std::unique_ptr<State> state);

private:
    std::unique_ptr<State> state_;
};

} // namespace twofold::display
