#pragma once
// The backend's end of the focus link (vmm/focus's line protocol) on its event loop: says
// Hello, turns each Focus line into a call whose answer (Ack or Refuse) goes back, sends audit
// events, and reports the manager's end closing (EOF: the backend exits). Lines that do not
// parse are logged and ignored; nothing the manager sends can make this throw.
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <spdlog/logger.h>

#include "twofold/focus/focus_protocol.h"
#include "twofold/focus/line_splitter.h"

namespace twofold::input {

class FocusClient {
public:
    using OnFocus = std::function<focus::ToManager(const focus::Focus&)>;
    using OnClosed = std::function<void()>;

    // Takes ownership of `fd` (the inherited socketpair end).
    FocusClient(boost::asio::io_context& io, int fd, focus::Hello hello, OnFocus on_focus, OnClosed on_closed,
                std::shared_ptr<spdlog::logger> log);
    ~FocusClient();
    FocusClient(const FocusClient&) = delete;
    FocusClient& operator=(const FocusClient&) = delete;

    void start();
    void send(const focus::ToManager& message);

private:
    void read_more();
    void write_next();
    void on_line(std::string_view line);
    void close();

    boost::asio::posix::stream_descriptor socket_;
    focus::Hello hello_;
    OnFocus on_focus_;
    OnClosed on_closed_;
    std::shared_ptr<spdlog::logger> log_;
    focus::LineSplitter splitter_;
    std::array<char, 4096> buffer_{};
    std::deque<std::string> outbox_;
    bool writing_ = false;
    bool closed_ = false;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace twofold::input
