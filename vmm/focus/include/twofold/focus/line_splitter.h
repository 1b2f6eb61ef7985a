#pragma once
// Splits a byte stream into lines of bounded length. An over-long line is reported once and
// skipped up to its newline, so a peer that misbehaves once does not desynchronise the link.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace twofold::focus {

class LineSplitter {
public:
    using LineHandler = std::function<void(std::string_view line)>;
    using OverflowHandler = std::function<void(std::size_t dropped_bytes)>;

    LineSplitter(std::size_t max_line, LineHandler on_line, OverflowHandler on_overflow);

    void feed(std::string_view bytes);

private:
    std::size_t max_line_;
    LineHandler on_line_;
    OverflowHandler on_overflow_;
    std::string pending_;
    bool discarding_ = false;
    std::size_t discarded_ = 0;
};

} // namespace twofold::focus
