#pragma once
// One dom0 input source on an Asio loop: waits for its fd, reads a bounded batch, translates
// it into guest events and hands them to the router. Used by the single-process backend and
// by the input owner alike.
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <spdlog/logger.h>

#include "twofold/input/input_source.h"
#include "twofold/input/personas.h"
#include "twofold/input/router.h"
#include "twofold/input/translator.h"

namespace twofold::input {

// Raw events read from one source per wake before yielding to the rest of the loop.
inline constexpr std::size_t kRawEventsPerWake = 256;

class SourcePump {
public:
    // `gone`: the source failed or was removed; called from a posted handler, so the owner
    // may destroy the pump in it.
    using Gone = std::function<void(const SourcePump&)>;

    SourcePump(boost::asio::io_context& io, std::unique_ptr<InputSource> source, GuestResolution resolution,
               InputRouter& router, std::shared_ptr<spdlog::logger> log, Gone gone);
    ~SourcePump();
    SourcePump(const SourcePump&) = delete;
    SourcePump& operator=(const SourcePump&) = delete;

    void start() { wait(); }

private:
    void wait();
    void drain();
    void fail(const std::string& why);

    boost::asio::io_context& io_;
    std::unique_ptr<InputSource> source_;
    EventTranslator translator_;
    InputRouter& router_;
    std::shared_ptr<spdlog::logger> log_;
    Gone gone_;
    boost::asio::posix::stream_descriptor descriptor_;
    std::vector<RawEvent> raw_;
    std::vector<GuestEvent> guest_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// The sources of one process: each pump removes itself when its device goes.
class SourcePumps {
public:
    void add(boost::asio::io_context& io, std::unique_ptr<InputSource> source, GuestResolution resolution,
             InputRouter& router, const std::shared_ptr<spdlog::logger>& log);
    void clear() noexcept { pumps_.clear(); }
    [[nodiscard]] std::size_t size() const noexcept { return pumps_.size(); }

private:
    std::list<std::unique_ptr<SourcePump>> pumps_;
};

// What a Focus order from the manager does to a router: nobody (the first phase of a switch),
// a persona, or dom0's PIN prompt. Ack, or Refuse for a persona it does not serve; the
// input.focus audit event goes to `audit`.
focus::ToManager apply_focus_to_router(InputRouter& router, const Personas& personas, const focus::Focus& order,
                                       spdlog::logger& log, const std::function<void(focus::AuditEvent)>& audit);

} // namespace twofold::input
