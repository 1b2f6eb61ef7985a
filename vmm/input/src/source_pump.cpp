#include "twofold/input/source_pump.h"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "twofold/input/personas.h"

namespace twofold::input {

SourcePump::SourcePump(boost::asio::io_context& io, std::unique_ptr<InputSource> source, GuestResolution resolution,
                       InputRouter& router, std::shared_ptr<spdlog::logger> log, Gone gone)
    : io_(io), source_(std::move(source)), translator_(source_->info(), resolution), router_(router), log_(std::move(log)),
      gone_(std::move(gone)), descriptor_(io, source_->fd()) {}

SourcePump::~SourcePump() {
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
    descriptor_.release(); // the source owns and closes its fd
}

void SourcePump::wait() {
    std::weak_ptr<int> alive = alive_;
    descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [this, alive](const boost::system::error_code& error) {
                               if (alive.expired() || error == boost::asio::error::operation_aborted) return;
                               if (error) {
                                   fail(error.message());
                                   return;
                               }
                               drain();
                           });
}

void SourcePump::drain() {
    raw_.clear();
    const ReadStatus status = source_->read(raw_, kRawEventsPerWake);
    guest_.clear();
    for (const RawEvent& event : raw_) translator_.feed(event, guest_);
    router_.route(guest_);
    if (status == ReadStatus::Gone) {
        fail("device removed");
        return;
    }
    if (raw_.size() == kRawEventsPerWake) {
        // More may be queued: come back after the rest of the loop had its turn.
        std::weak_ptr<int> alive = alive_;
        boost::asio::post(io_, [this, alive] {
            if (!alive.expired()) drain();
        });
        return;
    }
    wait();
}

void SourcePump::fail(const std::string& why) {
    log_->warn("input source '{}': {}; no longer read", source_->info().name, why);
    std::weak_ptr<int> alive = alive_;
    boost::asio::post(io_, [this, alive] {
        if (!alive.expired()) gone_(*this);
    });
}

void SourcePumps::add(boost::asio::io_context& io, std::unique_ptr<InputSource> source, GuestResolution resolution,
                      InputRouter& router, const std::shared_ptr<spdlog::logger>& log) {
    log->info("input source '{}'", source->info().name);
    pumps_.push_back(std::make_unique<SourcePump>(io, std::move(source), resolution, router, log, [this](const SourcePump& gone) {
        pumps_.remove_if([&gone](const std::unique_ptr<SourcePump>& entry) { return entry.get() == &gone; });
    }));
    pumps_.back()->start();
}

focus::ToManager apply_focus_to_router(InputRouter& router, const Personas& personas, const focus::Focus& order,
                                       spdlog::logger& log, const std::function<void(focus::AuditEvent)>& audit) {
    // Nobody: the first phase of a switch. What the old foreground holds is released to it and
    // from here on every key and touch is dropped (counted), until the manager names a persona
    // again, after the display has presented it.
    std::optional<PersonaId> persona;
    if (order.persona) {
        persona = personas.by_name(*order.persona);
        if (!persona) return focus::Refuse{order.epoch, "input backend serves no persona '" + *order.persona + "'"};
    }
    // A prompt: dom0 takes the keys (the persona named is the one the PIN unlocks; its guest
    // gets nothing either).
    const SwitchReleases released = order.prompt ? router.switch_to_prompt() : router.switch_to(persona);
    const std::string name = order.prompt ? "prompt" : order.persona.value_or("nobody");
    log.info("input to {} (epoch {}); released {} keys, {} contacts in the old one", name, order.epoch, released.keys,
             released.contacts);
    // "persona" is absent for nobody: the event is then a system-wide one in the log.
    nlohmann::json fields{{"to", name}, {"epoch", order.epoch}, {"released-keys", released.keys},
                          {"released-contacts", released.contacts}};
    if (order.persona) fields["persona"] = *order.persona;
    if (audit) audit(focus::AuditEvent{"input.focus", std::move(fields)});
    return focus::Ack{order.epoch};
}

} // namespace twofold::input
