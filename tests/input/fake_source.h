#pragma once
// A scripted InputSource: the test injects evdev events, an eventfd makes the backend's event
// loop see them as readable input, and gone() simulates an unplugged device.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <stdexcept>
#include <vector>

#include <linux/input-event-codes.h>

#include "twofold/input/input_source.h"

namespace twofold::input::testing {

inline RawEvent key(std::uint16_t code, std::int32_t value) { return RawEvent{EV_KEY, code, value}; }
inline RawEvent abs(std::uint16_t code, std::int32_t value) { return RawEvent{EV_ABS, code, value}; }
inline RawEvent syn() { return RawEvent{EV_SYN, SYN_REPORT, 0}; }

struct FakeSourceState {
    std::deque<RawEvent> queue;
    bool gone = false;
    int fd = -1;
    void signal() const {
        const std::uint64_t one = 1;
        if (::write(fd, &one, sizeof one) != sizeof one) throw std::runtime_error("eventfd write");
    }
};

class FakeSource final : public InputSource {
public:
    FakeSource(DeviceInfo info, std::shared_ptr<FakeSourceState> state) : info_(std::move(info)), state_(std::move(state)) {
        state_->fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (state_->fd < 0) throw std::runtime_error("eventfd");
    }
    ~FakeSource() override { ::close(state_->fd); }

    [[nodiscard]] const DeviceInfo& info() const override { return info_; }
    [[nodiscard]] int fd() const override { return state_->fd; }
    ReadStatus read(std::vector<RawEvent>& out, std::size_t max) override {
        std::uint64_t count = 0;
        (void)::read(state_->fd, &count, sizeof count);
        while (max > 0 && !state_->queue.empty()) {
            out.push_back(state_->queue.front());
            state_->queue.pop_front();
            --max;
        }
        return state_->gone ? ReadStatus::Gone : ReadStatus::Ok;
    }

private:
    DeviceInfo info_;
    std::shared_ptr<FakeSourceState> state_;
};

// The test's handle on a FakeSource it gave away.
class FakeDevice {
public:
    explicit FakeDevice(DeviceInfo info) : info_(std::move(info)) {}
    std::unique_ptr<FakeSource> make_source() { return std::make_unique<FakeSource>(info_, state_); }
    void inject(const std::vector<RawEvent>& events) {
        state_->queue.insert(state_->queue.end(), events.begin(), events.end());
        state_->signal();
    }
    void unplug() {
        state_->gone = true;
        state_->signal();
    }

private:
    DeviceInfo info_;
    std::shared_ptr<FakeSourceState> state_ = std::make_shared<FakeSourceState>();
};

inline DeviceInfo keyboard() { return DeviceInfo{"fake keyboard", {}, {}, {}, {}, 0}; }
inline DeviceInfo touchscreen(unsigned slots = 5) {
    return DeviceInfo{"fake touch", AxisRange{0, 4095}, AxisRange{0, 4095}, AxisRange{0, 4095}, AxisRange{0, 4095}, slots};
}

} // namespace twofold::input::testing
