#pragma once
// A dom0 input device the backend reads: evdev through libevdev on the board, a scripted
// source in tests. The backend waits for fd() to become readable on its event loop and then
// reads without blocking.
#include <cstddef>
#include <string>
#include <vector>

#include "twofold/input/events.h"

namespace twofold::input {

enum class ReadStatus : unsigned char {
    Ok,   // zero or more events appended; wait for the fd again
    Gone, // the device was unplugged or failed: stop reading it
};

class InputSource {
public:
    virtual ~InputSource() = default;
    [[nodiscard]] virtual const DeviceInfo& info() const = 0;
    // Pollable for reading; owned by the source.
    [[nodiscard]] virtual int fd() const = 0;
    // Appends at most `max` pending events without blocking.
    virtual ReadStatus read(std::vector<RawEvent>& out, std::size_t max) = 0;
};

} // namespace twofold::input
