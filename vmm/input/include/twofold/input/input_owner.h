#pragma once
// The input owner (twofold-input-backend with --peer-fd): the one process that holds dom0's
// input devices and decides where each key and touch goes. It holds no Xen handle at all: each
// persona's ring is written by that persona's vkbd writer (vkbd_writer.h), which it reaches
// over one link per persona (WriterLink). The routing decision stays in one place (which
// persona, or nobody during a switch, or dom0's PIN prompt; the switch key never passed), as
// docs/architecture.md says for the one shared evdev reader.
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>

#include "twofold/focus/focus_protocol.h"
#include "twofold/input/personas.h"
#include "twofold/input/router.h"
#include "twofold/input/source_pump.h"
#include "twofold/input/writer_link.h"

namespace twofold::input {

struct InputOwnerConfig {
    std::vector<PersonaConfig> personas;
    GuestResolution resolution;
    std::uint32_t switch_key = 116; // KEY_POWER
};

class InputOwner {
public:
    using AuditSink = std::function<void(const focus::AuditEvent&)>;

    // `writers`: each persona's link, by persona name; every configured persona needs one.
    // Throws std::invalid_argument for configuration errors.
    InputOwner(const InputOwnerConfig& config, std::vector<std::pair<std::string, xen::UniqueFd>> writers,
               std::shared_ptr<spdlog::logger> log, AuditSink audit = {}, InputRouter::PromptSink prompt = {});
    ~InputOwner();
    InputOwner(const InputOwner&) = delete;
    InputOwner& operator=(const InputOwner&) = delete;

    void add_source(std::unique_ptr<InputSource> source);
    void start();
    [[nodiscard]] boost::asio::io_context& io() noexcept { return io_; }
    void run();
    void stop() { io_.stop(); }

    focus::ToManager apply_focus(const focus::Focus& order);

    [[nodiscard]] const InputRouter& router() const noexcept { return router_; }
    [[nodiscard]] const WriterLink& writer(PersonaId persona) const { return *links_.at(persona); }
    [[nodiscard]] std::size_t source_count() const noexcept { return pumps_.size(); }

private:
    boost::asio::io_context io_;
    std::shared_ptr<spdlog::logger> log_;
    AuditSink audit_;
    Personas personas_;
    GuestResolution resolution_;
    InputRouter router_;
    std::vector<std::unique_ptr<WriterLink>> links_; // by PersonaId
    SourcePumps pumps_;
};

} // namespace twofold::input
