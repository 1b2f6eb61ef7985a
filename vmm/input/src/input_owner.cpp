#include "twofold/input/input_owner.h"

#include <boost/asio/executor_work_guard.hpp>

namespace twofold::input {

InputOwner::InputOwner(const InputOwnerConfig& config, std::vector<std::pair<std::string, xen::UniqueFd>> writers,
                       std::shared_ptr<spdlog::logger> log, AuditSink audit, InputRouter::PromptSink prompt)
    : log_(std::move(log)), audit_(std::move(audit)), personas_(config.personas), resolution_(config.resolution),
      router_(personas_.size(), config.switch_key, log_, std::move(prompt)) {
    if (!valid(resolution_)) {
        throw std::invalid_argument("guest resolution or contact count out of range");
    }
    links_.resize(personas_.size());
    for (auto& [name, socket] : writers) {
        const auto persona = personas_.by_name(name);
        if (!persona) throw std::invalid_argument("a writer link for '" + name + "', which is no configured persona");
        if (links_[*persona]) throw std::invalid_argument("two writer links for '" + name + "'");
        links_[*persona] = std::make_unique<WriterLink>(io_, router_, *persona, name, std::move(socket), log_);
    }
    for (PersonaId id = 0; id < personas_.size(); ++id) {
        if (!links_[id]) throw std::invalid_argument("no writer link for persona '" + personas_.at(id).name + "'");
    }
}

// Pumps route into the links: they go first; the links detach from the router before it goes.
InputOwner::~InputOwner() {
    pumps_.clear();
    links_.clear();
}

void InputOwner::add_source(std::unique_ptr<InputSource> source) {
    pumps_.add(io_, std::move(source), resolution_, router_, log_);
}

void InputOwner::start() {
    for (auto& link : links_) link->start();
}

void InputOwner::run() {
    // Keeps running with no source and no pending read (every device gone): the focus link
    // and the writers still need answers.
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
}

focus::ToManager InputOwner::apply_focus(const focus::Focus& order) {
    return apply_focus_to_router(router_, personas_, order, *log_, [this](focus::AuditEvent event) {
        if (audit_) audit_(event);
    });
}

} // namespace twofold::input
