#pragma once
// The hardware switch key, read from its evdev device with libevdev. The device is grabbed
// (EVIOCGRAB) so no other reader in dom0 — in particular the input backend that feeds the
// guests — ever sees the key. Gestures are recognised with debouncing; a missing device is
// retried (gpio-keys may appear after the manager starts).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "twofold/manager/key_gesture.h"

struct libevdev;

namespace twofold::manager {

struct HardwareKeyConfig {
    std::filesystem::path device;
    std::uint16_t code = 0;
    Gesture bound = Gesture::Press;
    GestureTiming timing;
    std::chrono::milliseconds retry_every{5000}; // missing or already grabbed device
};

class HardwareKey {
public:
    using OnGesture = std::function<void(Gesture)>;

    HardwareKey(boost::asio::io_context& io, HardwareKeyConfig config, OnGesture on_gesture);
    ~HardwareKey();
    HardwareKey(const HardwareKey&) = delete;
    HardwareKey& operator=(const HardwareKey&) = delete;

    [[nodiscard]] bool open() const noexcept { return evdev_ != nullptr; }

private:
    struct FreeEvdev {
        void operator()(libevdev* dev) const noexcept;
    };

    void try_open();
    void retry_later(const std::string& why);
    void wait_readable();
    void drain();
    void arm_deadline();
    void deliver(std::optional<Gesture> gesture);

    HardwareKeyConfig config_;
    OnGesture on_gesture_;
    KeyGestureRecognizer recognizer_;
    boost::asio::posix::stream_descriptor stream_;
    boost::asio::steady_timer deadline_;
    boost::asio::steady_timer retry_;
    std::unique_ptr<libevdev, FreeEvdev> evdev_;
    bool unavailable_reported_ = false;
};

} // namespace twofold::manager
