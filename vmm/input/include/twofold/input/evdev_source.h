#pragma once
// InputSource over a dom0 evdev node, read with libevdev (which also resynchronises key, axis
// and slot state after the kernel drops events: SYN_DROPPED). The device is grabbed
// (EVIOCGRAB) so that nothing else in dom0 acts on it; closing the source releases the grab.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "twofold/input/input_source.h"

namespace twofold::input {

class EvdevSource final : public InputSource {
public:
    // Opens `path` non-blocking and grabs it. Throws std::system_error (errno) naming the path.
    static std::unique_ptr<EvdevSource> open(const std::string& path, bool grab = true);
    ~EvdevSource() override;
    EvdevSource(const EvdevSource&) = delete;
    EvdevSource& operator=(const EvdevSource&) = delete;

    [[nodiscard]] const DeviceInfo& info() const override { return info_; }
    [[nodiscard]] int fd() const override { return fd_; }
    ReadStatus read(std::vector<RawEvent>& out, std::size_t max) override;
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    struct Libevdev;
    // Only open() can make the token (passkey: make_unique needs a public constructor).
    class Token {
        friend class EvdevSource;
        Token() = default;
    };
    EvdevSource(Token, std::string path, int fd, std::unique_ptr<Libevdev> device);

private:

    std::string path_;
    int fd_;
    std::unique_ptr<Libevdev> device_;
    DeviceInfo info_;
    bool syncing_ = false;
};

// The /dev/input/event* nodes (in `directory`) whose device name is exactly `name`.
std::vector<std::string> find_devices_by_name(const std::string& name, const std::string& directory = "/dev/input");

// KEY_POWER and the like (libevdev's names); nullopt for an unknown name.
std::optional<std::uint32_t> key_code_from_name(const std::string& name);

} // namespace twofold::input
