#include "twofold/manager/hardware_key.h"

#include <fcntl.h>
#include <libevdev/libevdev.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace twofold::manager {

namespace asio = boost::asio;

void HardwareKey::FreeEvdev::operator()(libevdev* dev) const noexcept { libevdev_free(dev); }

HardwareKey::HardwareKey(asio::io_context& io, HardwareKeyConfig config, OnGesture on_gesture)
    : config_(std::move(config)), on_gesture_(std::move(on_gesture)),
      recognizer_(config_.bound, config_.timing), stream_(io), deadline_(io), retry_(io) {
    try_open();
}

HardwareKey::~HardwareKey() {
    if (evdev_) {
        libevdev_grab(evdev_.get(), LIBEVDEV_UNGRAB);
    }
}

void HardwareKey::try_open() {
    const int fd = ::open(config_.device.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        retry_later("cannot open " + config_.device.string() + ": " + std::strerror(errno));
        return;
    }
    libevdev* dev = nullptr;
    if (const int rc = libevdev_new_from_fd(fd, &dev); rc != 0) {
        ::close(fd);
        retry_later(config_.device.string() + " is not an evdev device: " + std::strerror(-rc));
        return;
    }
    evdev_.reset(dev);
    if (const int rc = libevdev_grab(dev, LIBEVDEV_GRAB); rc != 0) {
        // Reading it ungrabbed would let another reader (the input backend feeding a guest, a
        // leftover power-key watcher) see the key too: the key is never read that way.
        evdev_.reset();
        ::close(fd);
        retry_later("cannot grab " + config_.device.string() + " (EVIOCGRAB: " + std::strerror(-rc) +
                    "): another process holds it exclusively");
        return;
    }
    if (libevdev_has_event_code(dev, EV_KEY, config_.code) == 0) {
        spdlog::error("hardware key: {} ({}) has no key code {}", config_.device.string(), libevdev_get_name(dev), config_.code);
    }
    stream_.assign(fd);
    unavailable_reported_ = false;
    spdlog::info("hardware key: reading {} ({}), code {}, gesture {}, grabbed", config_.device.string(), libevdev_get_name(dev),
                 config_.code, to_string(config_.bound));
    wait_readable();
}

void HardwareKey::retry_later(const std::string& why) {
    // Said once per outage at warning level, so a board without the key does not fill the log.
    if (!unavailable_reported_) {
        spdlog::warn("hardware key: {}; the key switches nothing until this is fixed; retrying every {} ms", why,
                     config_.retry_every.count());
        unavailable_reported_ = true;
    } else {
        spdlog::debug("hardware key: {}", why);
    }
    retry_.expires_after(config_.retry_every);
    retry_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            try_open();
        }
    });
}

void HardwareKey::wait_readable() {
    stream_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        drain();
        if (evdev_) {
            wait_readable();
        }
    });
}

void HardwareKey::drain() {
    input_event ev{};
    for (;;) {
        int rc = libevdev_next_event(evdev_.get(), LIBEVDEV_READ_FLAG_NORMAL, &ev);
        if (rc == LIBEVDEV_READ_STATUS_SYNC) {
            // Events were dropped by the kernel; libevdev replays the device state. Feed the
            // resynced level: the recognizer ignores repeats of the level it already has.
            while (rc == LIBEVDEV_READ_STATUS_SYNC) {
                rc = libevdev_next_event(evdev_.get(), LIBEVDEV_READ_FLAG_SYNC, &ev);
            }
            continue;
        }
        if (rc == -EAGAIN) {
            break;
        }
        if (rc < 0) {
            spdlog::error("hardware key: read failed ({}); reopening", -rc);
            stream_.close();
            evdev_.reset();
            try_open();
            return;
        }
        // value 2 is autorepeat: the key is still held, not a new transition.
        if (ev.type == EV_KEY && ev.code == config_.code && ev.value != 2) {
            deliver(recognizer_.on_key(ev.value == 1, KeyGestureRecognizer::Clock::now()));
        }
    }
    arm_deadline();
}

void HardwareKey::arm_deadline() {
    const auto deadline = recognizer_.next_deadline();
    if (!deadline) {
        deadline_.cancel();
        return;
    }
    deadline_.expires_at(*deadline);
    deadline_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        deliver(recognizer_.on_timer(KeyGestureRecognizer::Clock::now()));
        arm_deadline();
    });
}

void HardwareKey::deliver(std::optional<Gesture> gesture) {
    if (!gesture) {
        return;
    }
    spdlog::info("hardware key: {}", to_string(*gesture));
    if (*gesture == config_.bound) {
        on_gesture_(*gesture);
    }
}

} // namespace twofold::manager
