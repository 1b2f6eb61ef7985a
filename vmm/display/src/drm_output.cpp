#include "twofold/display/drm_output.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <system_error>
#include <utility>

#include "posix_resources.h"

namespace twofold::display {

namespace {

// A flip normally completes within one refresh; virtio-gpu under software emulation can take
// far longer. Past this the target stops flipping and sets the CRTC directly.
constexpr int kFlipTimeoutMs = 1000;

std::string errno_text(int error) { return std::system_category().message(error); }

struct ResourcesFree {
    void operator()(drmModeRes* p) const noexcept { drmModeFreeResources(p); }
};
struct ConnectorFree {
    void operator()(drmModeConnector* p) const noexcept { drmModeFreeConnector(p); }
};
struct EncoderFree {
    void operator()(drmModeEncoder* p) const noexcept { drmModeFreeEncoder(p); }
};
struct CrtcFree {
    void operator()(drmModeCrtc* p) const noexcept { drmModeFreeCrtc(p); }
};
struct VersionFree {
    void operator()(drmVersion* p) const noexcept { drmFreeVersion(p); }
};
using ResourcesPtr = std::unique_ptr<drmModeRes, ResourcesFree>;
using ConnectorPtr = std::unique_ptr<drmModeConnector, ConnectorFree>;
using EncoderPtr = std::unique_ptr<drmModeEncoder, EncoderFree>;
using CrtcPtr = std::unique_ptr<drmModeCrtc, CrtcFree>;
using VersionPtr = std::unique_ptr<drmVersion, VersionFree>;

bool fits(const ModeInfo& mode) noexcept {
    return mode.width > 0 && mode.height > 0 && mode.width <= kMaxOutputSide && mode.height <= kMaxOutputSide;
}

// One dumb buffer, its framebuffer object and its mapping, released in reverse order.
class DumbBuffer {
public:
    static Result<DumbBuffer> create(int fd, std::uint32_t width, std::uint32_t height) {
        DumbBuffer buffer(fd);
        drm_mode_create_dumb create{};
        create.width = width;
        create.height = height;
        create.bpp = 32;
        if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create) != 0) {
            return Error{"creating a " + std::to_string(width) + "x" + std::to_string(height) +
                         " dumb buffer failed: " + errno_text(errno)};
        }
        buffer.handle_ = create.handle;
        auto layout = check_buffer_layout(width, height, create.pitch, create.size);
        if (!layout) return Error{"driver's dumb buffer: " + layout.error().message};
        buffer.layout_ = layout.value();
        // XRGB8888 as depth 24 / 32 bpp: the legacy call every KMS driver takes.
        if (const int rc = drmModeAddFB(fd, width, height, 24, 32, create.pitch, create.handle, &buffer.fb_id_);
            rc != 0) {
            return Error{"adding an XRGB8888 framebuffer failed: " + errno_text(rc < 0 ? -rc : errno)};
        }
        drm_mode_map_dumb map{};
        map.handle = create.handle;
        if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map) != 0) {
            return Error{"preparing the dumb buffer mapping failed: " + errno_text(errno)};
        }
        void* address = ::mmap(nullptr, static_cast<std::size_t>(create.size), PROT_READ | PROT_WRITE, MAP_SHARED,
                               fd, static_cast<off_t>(map.offset));
        if (address == MAP_FAILED) return Error{"mapping the dumb buffer failed: " + errno_text(errno)};
        buffer.mapping_ = detail::SharedMapping(address, static_cast<std::size_t>(create.size));
        return buffer;
    }

    DumbBuffer(DumbBuffer&& other) noexcept
        : fd_(other.fd_), handle_(std::exchange(other.handle_, 0)), fb_id_(std::exchange(other.fb_id_, 0)),
          layout_(other.layout_), mapping_(std::move(other.mapping_)) {}
    DumbBuffer& operator=(DumbBuffer&&) = delete;
    DumbBuffer(const DumbBuffer&) = delete;
    DumbBuffer& operator=(const DumbBuffer&) = delete;
    ~DumbBuffer() {
        mapping_.reset();
        if (fb_id_ != 0) drmModeRmFB(fd_, fb_id_);
        if (handle_ != 0) {
            drm_mode_destroy_dumb destroy{};
            destroy.handle = handle_;
            drmIoctl(fd_, DRM_IOCTL_MODE_DESTROY_DUMB, &destroy);
        }
    }

    [[nodiscard]] std::uint32_t fb_id() const noexcept { return fb_id_; }
    [[nodiscard]] const BufferLayout& layout() const noexcept { return layout_; }
    [[nodiscard]] std::span<std::byte> bytes() const noexcept { return mapping_.bytes(); }

private:
    explicit DumbBuffer(int fd) noexcept : fd_(fd) {}
    int fd_;
    std::uint32_t handle_ = 0;
    std::uint32_t fb_id_ = 0;
    BufferLayout layout_;
    detail::SharedMapping mapping_;
};

// Puts the CRTC back as it was found (the console's framebuffer, or off) when we leave.
class CrtcRestorer {
public:
    CrtcRestorer(int fd, CrtcPtr saved, std::uint32_t connector_id) noexcept
        : fd_(fd), saved_(std::move(saved)), connector_id_(connector_id) {}
    CrtcRestorer(CrtcRestorer&&) noexcept = default;
    CrtcRestorer& operator=(CrtcRestorer&&) = delete;
    CrtcRestorer(const CrtcRestorer&) = delete;
    CrtcRestorer& operator=(const CrtcRestorer&) = delete;
    ~CrtcRestorer() {
        if (!saved_) return;
        if (saved_->mode_valid != 0 && saved_->buffer_id != 0) {
            drmModeSetCrtc(fd_, saved_->crtc_id, saved_->buffer_id, saved_->x, saved_->y, &connector_id_, 1,
                           &saved_->mode);
        } else {
            drmModeSetCrtc(fd_, saved_->crtc_id, 0, 0, 0, nullptr, 0, nullptr);
        }
    }

private:
    int fd_;
    CrtcPtr saved_;
    std::uint32_t connector_id_;
};

struct ScannedCard {
    CardInfo info;
    std::vector<std::vector<drmModeModeInfo>> modes; // per connector, as the kernel gave them
};

Result<ScannedCard> scan_card(int fd, const std::string& device) {
    ResourcesPtr resources(drmModeGetResources(fd));
    if (!resources) return Error{device + " has no KMS resources (a render node, or no display engine)"};
    ScannedCard card;
    for (int i = 0; i < resources->count_crtcs; ++i) card.info.crtc_ids.push_back(resources->crtcs[i]);
    for (int i = 0; i < resources->count_encoders; ++i) {
        EncoderPtr encoder(drmModeGetEncoder(fd, resources->encoders[i]));
        if (!encoder) continue;
        card.info.encoders.push_back(EncoderInfo{encoder->encoder_id, encoder->possible_crtcs, encoder->crtc_id});
    }
    for (int i = 0; i < resources->count_connectors; ++i) {
        ConnectorPtr connector(drmModeGetConnector(fd, resources->connectors[i]));
        if (!connector) continue;
        ConnectorInfo info;
        info.id = connector->connector_id;
        info.connected = connector->connection == DRM_MODE_CONNECTED;
        info.current_encoder_id = connector->encoder_id;
        std::vector<drmModeModeInfo> modes;
        for (int m = 0; m < connector->count_modes; ++m) {
            const drmModeModeInfo& mode = connector->modes[m];
            info.modes.push_back(
                ModeInfo{mode.hdisplay, mode.vdisplay, mode.vrefresh, (mode.type & DRM_MODE_TYPE_PREFERRED) != 0});
            modes.push_back(mode);
        }
        for (int e = 0; e < connector->count_encoders; ++e) info.encoder_ids.push_back(connector->encoders[e]);
        card.info.connectors.push_back(std::move(info));
        card.modes.push_back(std::move(modes));
    }
    return card;
}

void on_flip_done(int, unsigned, unsigned, unsigned, void* user_data) { *static_cast<bool*>(user_data) = true; }

} // namespace

Result<std::size_t> choose_mode(const std::vector<ModeInfo>& modes, std::optional<ModeRequest> request) {
    std::optional<std::size_t> best;
    const auto better = [&](std::size_t i) {
        if (!best) return true;
        const ModeInfo& a = modes[i];
        const ModeInfo& b = modes[*best];
        if (a.preferred != b.preferred) return a.preferred;
        return a.refresh_hz > b.refresh_hz;
    };
    for (std::size_t i = 0; i < modes.size(); ++i) {
        if (!fits(modes[i])) continue;
        if (request && (modes[i].width != request->width || modes[i].height != request->height)) continue;
        if (!request) {
            // The preferred mode, else the first listed (the kernel lists the best first).
            if (modes[i].preferred) return i;
            if (!best) best = i;
            continue;
        }
        if (better(i)) best = i;
    }
    if (best) return *best;
    if (!request) return Error{"the connector lists no usable mode"};
    std::string listed;
    for (const ModeInfo& mode : modes) {
        if (!listed.empty()) listed += ", ";
        listed += std::to_string(mode.width) + "x" + std::to_string(mode.height);
    }
    return Error{"mode " + std::to_string(request->width) + "x" + std::to_string(request->height) +
                 " not offered (modes: " + (listed.empty() ? std::string("none") : listed) + ")"};
}

Result<std::uint32_t> choose_crtc(const CardInfo& card, const ConnectorInfo& connector) {
    const auto encoder_by_id = [&](std::uint32_t id) -> const EncoderInfo* {
        const auto it = std::find_if(card.encoders.begin(), card.encoders.end(),
                                     [&](const EncoderInfo& e) { return e.id == id; });
        return it == card.encoders.end() ? nullptr : &*it;
    };
    const auto is_crtc = [&](std::uint32_t id) {
        return id != 0 && std::find(card.crtc_ids.begin(), card.crtc_ids.end(), id) != card.crtc_ids.end();
    };
    if (const EncoderInfo* current = encoder_by_id(connector.current_encoder_id);
        current != nullptr && is_crtc(current->current_crtc_id)) {
        return current->current_crtc_id;
    }
    for (const std::uint32_t encoder_id : connector.encoder_ids) {
        const EncoderInfo* encoder = encoder_by_id(encoder_id);
        if (encoder == nullptr) continue;
        // possible_crtcs is a 32-bit mask over the card's CRTC list.
        for (std::size_t bit = 0; bit < card.crtc_ids.size() && bit < 32; ++bit) {
            if ((encoder->possible_crtcs >> bit) & 1U) return card.crtc_ids[bit];
        }
    }
    return Error{"no CRTC can drive connector " + std::to_string(connector.id)};
}

Result<OutputChoice> choose_output(const CardInfo& card, std::optional<ModeRequest> request) {
    std::string reasons;
    for (std::size_t i = 0; i < card.connectors.size(); ++i) {
        const ConnectorInfo& connector = card.connectors[i];
        if (!connector.connected) continue;
        const auto mode = choose_mode(connector.modes, request);
        const auto crtc = mode ? choose_crtc(card, connector) : Result<std::uint32_t>(mode.error());
        if (mode && crtc) return OutputChoice{i, mode.value(), crtc.value()};
        reasons += "; connector " + std::to_string(connector.id) + ": " + crtc.error().message;
    }
    if (reasons.empty()) return Error{"no connected connector"};
    return Error{"no usable connector" + reasons};
}

struct DrmTarget::State {
    std::string device;
    detail::UniqueFd fd;
    drmModeModeInfo mode{};
    std::uint32_t connector_id = 0;
    std::uint32_t crtc_id = 0;
    std::vector<DumbBuffer> buffers; // [front, back] alternate
    std::optional<CrtcRestorer> restorer;
    std::optional<Screen> screen;
    std::size_t front = 0;
    Rect previous_damage;
    bool page_flip = true;
    bool dirty_fb = true;

    void set_crtc(std::uint32_t fb_id) {
        if (const int rc = drmModeSetCrtc(fd.get(), crtc_id, fb_id, 0, 0, &connector_id, 1, &mode); rc != 0) {
            const int error = rc < 0 ? -rc : errno;
            throw std::system_error(error, std::system_category(), device + ": setting the CRTC failed");
        }
    }

    void show(const DumbBuffer& buffer) {
        if (page_flip) {
            flip_done = false;
            const int rc = drmModePageFlip(fd.get(), crtc_id, buffer.fb_id(), DRM_MODE_PAGE_FLIP_EVENT, &flip_done);
            if (rc == 0) {
                if (wait_for_flip()) return;
                // Too slow to be useful: from now on set the CRTC, which returns when shown.
                page_flip = false;
            } else {
                page_flip = false; // not supported by this driver: fall back for good
            }
        }
        set_crtc(buffer.fb_id());
    }

    // Set by on_flip_done (the user data given to drmModePageFlip) from drmHandleEvent.
    bool flip_done = false;
    // Waits for the flip event; false when it did not come in time.
    bool wait_for_flip() {
        drmEventContext context{};
        context.version = 2;
        context.page_flip_handler = on_flip_done;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kFlipTimeoutMs);
        while (!flip_done) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                                    std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd p{fd.get(), POLLIN, 0};
            const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
            if (ready < 0 && errno != EINTR) return false;
            if (ready > 0) (void)drmHandleEvent(fd.get(), &context);
        }
        return true;
    }

    void mark_dirty(const DumbBuffer& buffer, const Rect& rect) {
        if (!dirty_fb || rect.empty()) return;
        // Clip coordinates are 16-bit; kMaxOutputSide keeps them in range.
        drmModeClip clip{static_cast<unsigned short>(rect.x), static_cast<unsigned short>(rect.y),
                         static_cast<unsigned short>(rect.x + rect.width),
                         static_cast<unsigned short>(rect.y + rect.height)};
        const int rc = drmModeDirtyFB(fd.get(), buffer.fb_id(), &clip, 1);
        // virtio-gpu needs it to send pixels to the host; drivers without it say ENOSYS/EINVAL.
        if (rc == -ENOSYS || rc == -EINVAL || rc == -EOPNOTSUPP) dirty_fb = false;
    }
};

DrmTarget::DrmTarget(std::unique_ptr<State> state) : state_(std::move(state)) {}

DrmTarget::~DrmTarget() {
    if (!state_) return;
    // The CRTC goes back to what it showed before our buffers are removed.
    state_->restorer.reset();
    state_->buffers.clear();
}

Result<std::unique_ptr<DrmTarget>> DrmTarget::open(const std::filesystem::path& device,
                                                   std::optional<ModeRequest> request) {
    auto state = std::make_unique<State>();
    state->device = device.string();
    const std::string& name = state->device;
    state->fd = detail::UniqueFd(::open(name.c_str(), O_RDWR | O_CLOEXEC));
    if (!state->fd.valid()) {
        const int error = errno;
        if (error == ENOENT) return Error{name + ": no such device"};
        return Error{name + ": cannot open: " + errno_text(error)};
    }
    const int fd = state->fd.get();
    if (VersionPtr version(drmGetVersion(fd)); !version) return Error{name + " is not a DRM device"};
    std::uint64_t dumb = 0;
    if (drmGetCap(fd, DRM_CAP_DUMB_BUFFER, &dumb) != 0 || dumb == 0) {
        return Error{name + ": the driver has no dumb buffers"};
    }
    auto card = scan_card(fd, name);
    if (!card) return card.error();
    const auto choice = choose_output(card.value().info, request);
    if (!choice) return Error{name + ": " + choice.error().message};
    const OutputChoice& chosen = choice.value();
    const ConnectorInfo& connector = card.value().info.connectors[chosen.connector];
    state->mode = card.value().modes[chosen.connector][chosen.mode];
    state->connector_id = connector.id;
    state->crtc_id = chosen.crtc_id;
    const ModeInfo& mode = connector.modes[chosen.mode];

    for (int i = 0; i < 2; ++i) {
        auto buffer = DumbBuffer::create(fd, mode.width, mode.height);
        if (!buffer) return Error{name + ": " + buffer.error().message};
        state->buffers.push_back(std::move(buffer).value());
    }
    state->screen.emplace(mode.width, mode.height);
    state->previous_damage = full_screen(*state->screen);
    state->restorer.emplace(fd, CrtcPtr(drmModeGetCrtc(fd, state->crtc_id)), state->connector_id);
    if (const int rc = drmModeSetCrtc(fd, state->crtc_id, state->buffers[0].fb_id(), 0, 0, &state->connector_id, 1,
                                      &state->mode);
        rc != 0) {
        const int error = rc < 0 ? -rc : errno;
        return Error{name + ": setting " + std::to_string(mode.width) + "x" + std::to_string(mode.height) +
                     " on CRTC " + std::to_string(state->crtc_id) + " failed: " + errno_text(error) +
                     (error == EACCES || error == EPERM ? " (another process is the DRM master?)" : "")};
    }
    return std::make_unique<DrmTarget>(std::move(state));
}

Screen& DrmTarget::screen() noexcept { return *state_->screen; }

void DrmTarget::present(const Rect& damage) {
    State& s = *state_;
    const std::size_t back = 1 - s.front;
    DumbBuffer& buffer = s.buffers[back];
    // The back buffer last held the frame before the previous one: it misses that frame's
    // damage as well as this one's.
    const Rect dirty = bounding_union(damage, s.previous_damage);
    copy_to_buffer(*s.screen, dirty, buffer.bytes(), buffer.layout());
    s.mark_dirty(buffer, dirty);
    s.show(buffer);
    s.front = back;
    s.previous_damage = damage;
}

std::string DrmTarget::describe() const {
    const State& s = *state_;
    return "drm " + s.device + ": connector " + std::to_string(s.connector_id) + ", " +
           std::to_string(s.mode.hdisplay) + "x" + std::to_string(s.mode.vdisplay) + "@" +
           std::to_string(s.mode.vrefresh) + ", crtc " + std::to_string(s.crtc_id) + ", " +
           (s.page_flip ? "page flip" : "set crtc");
}

} // namespace twofold::display
