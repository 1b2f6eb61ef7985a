#include "twofold/input/evdev_source.h"

#include <fcntl.h>
#include <libevdev/libevdev.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

namespace twofold::input {

struct EvdevSource::Libevdev {
    struct Free {
        void operator()(libevdev* handle) const noexcept { libevdev_free(handle); }
    };
    std::unique_ptr<libevdev, Free> device;
};

namespace {

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    int release() noexcept { return std::exchange(fd, -1); }
};

std::optional<AxisRange> axis(libevdev* device, unsigned code) {
    if (!libevdev_has_event_code(device, EV_ABS, code)) return std::nullopt;
    const input_absinfo* info = libevdev_get_abs_info(device, code);
    if (info == nullptr) return std::nullopt;
    return AxisRange{info->minimum, info->maximum};
}

} // namespace

std::unique_ptr<EvdevSource> EvdevSource::open(const std::string& path, bool grab) {
    Fd fd{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
    if (fd.fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
    libevdev* raw = nullptr;
    if (const int rc = libevdev_new_from_fd(fd.fd, &raw); rc < 0) {
        throw std::system_error(-rc, std::generic_category(), path + " is no evdev device");
    }
    auto device = std::make_unique<Libevdev>(Libevdev{std::unique_ptr<libevdev, Libevdev::Free>(raw)});
    if (grab) {
        if (const int rc = libevdev_grab(raw, LIBEVDEV_GRAB); rc < 0) {
            throw std::system_error(-rc, std::generic_category(), "cannot grab " + path);
        }
    }
    const int owned = fd.release();
    return std::make_unique<EvdevSource>(Token{}, path, owned, std::move(device));
}

EvdevSource::EvdevSource(Token, std::string path, int fd, std::unique_ptr<Libevdev> device)
    : path_(std::move(path)), fd_(fd), device_(std::move(device)) {
    libevdev* dev = device_->device.get();
    const char* name = libevdev_get_name(dev);
    info_.name = name != nullptr ? name : "";
    info_.abs_x = axis(dev, ABS_X);
    info_.abs_y = axis(dev, ABS_Y);
    info_.mt_x = axis(dev, ABS_MT_POSITION_X);
    info_.mt_y = axis(dev, ABS_MT_POSITION_Y);
    const int slots = libevdev_get_num_slots(dev);
    info_.mt_slots = slots > 0 ? static_cast<unsigned>(slots) : 0;
}

EvdevSource::~EvdevSource() {
    device_.reset(); // libevdev is freed before its fd is closed
    ::close(fd_);
}

ReadStatus EvdevSource::read(std::vector<RawEvent>& out, std::size_t max) {
    libevdev* dev = device_->device.get();
    for (std::size_t n = 0; n < max; ++n) {
        input_event event{};
        const unsigned flags = syncing_ ? LIBEVDEV_READ_FLAG_SYNC : LIBEVDEV_READ_FLAG_NORMAL;
        const int rc = libevdev_next_event(dev, flags, &event);
        if (rc == -EAGAIN) {
            if (!syncing_) return ReadStatus::Ok;
            syncing_ = false; // resynchronisation done: back to the normal stream
            continue;
        }
        if (rc < 0) return ReadStatus::Gone; // -ENODEV: unplugged
        if (rc == LIBEVDEV_READ_STATUS_SYNC) syncing_ = true;
        out.push_back(RawEvent{event.type, event.code, event.value});
    }
    return ReadStatus::Ok;
}

std::vector<std::string> find_devices_by_name(const std::string& name, const std::string& directory) {
    std::vector<std::string> found;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
        const std::string file = entry.path().filename().string();
        if (file.rfind("event", 0) != 0) continue;
        Fd fd{::open(entry.path().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
        if (fd.fd < 0) continue;
        libevdev* raw = nullptr;
        if (libevdev_new_from_fd(fd.fd, &raw) < 0) continue;
        const char* device_name = libevdev_get_name(raw);
        if (device_name != nullptr && name == device_name) found.push_back(entry.path().string());
        libevdev_free(raw);
    }
    std::sort(found.begin(), found.end());
    return found;
}

std::optional<std::uint32_t> key_code_from_name(const std::string& name) {
    const int code = libevdev_event_code_from_name(EV_KEY, name.c_str());
    if (code < 0) return std::nullopt;
    return static_cast<std::uint32_t>(code);
}

} // namespace twofold::input
