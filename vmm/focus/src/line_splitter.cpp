#include "twofold/focus/line_splitter.h"

namespace twofold::focus {

LineSplitter::LineSplitter(std::size_t max_line, LineHandler on_line, OverflowHandler on_overflow)
    : max_line_(max_line), on_line_(std::move(on_line)), on_overflow_(std::move(on_overflow)) {}

void LineSplitter::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto newline = bytes.find('\n');
        const auto chunk = bytes.substr(0, newline);
        if (discarding_) {
            discarded_ += chunk.size();
        } else if (pending_.size() + chunk.size() > max_line_) {
            discarding_ = true;
            discarded_ = pending_.size() + chunk.size();
            pending_.clear();
        } else {
            pending_.append(chunk);
        }
        if (newline == std::string_view::npos) {
            return;
        }
        bytes.remove_prefix(newline + 1);
        if (discarding_) {
            discarding_ = false;
            on_overflow_(discarded_);
            discarded_ = 0;
        } else {
            std::string line;
            line.swap(pending_);
            on_line_(line);
        }
    }
}

} // namespace twofold::focus
