#include "twofold/input/writer_link.h"

namespace twofold::input {

WriterLink::WriterLink(boost::asio::io_context& io, GuestAttachments& router, PersonaId persona, std::string persona_name,
                       xen::UniqueFd socket, std::shared_ptr<spdlog::logger> log)
    : router_(router), persona_(persona), persona_name_(std::move(persona_name)), log_(std::move(log)),
      link_(
          io, std::move(socket), [this](std::span<const std::byte> message) { on_message(message); },
          [this](const std::string& why) {
              log_->error("vkbd writer of {}: link broken ({}); {} gets no input", persona_name_, why, persona_name_);
              set_connected(false);
          }) {}

WriterLink::~WriterLink() { set_connected(false); }

void WriterLink::start() {
    link_.start();
    const auto sync = peer::encode(peer::ToWriter{peer::Sync{}});
    if (!link_.send(sync)) log_->warn("vkbd writer of {}: cannot ask for its state", persona_name_);
}

PushResult WriterLink::push(const GuestEvent& event) {
    if (!connected_) return PushResult::Broken;
    if (stalled_) return PushResult::Full;
    if (batch_.size() == peer::kMaxEventsPerMessage && !send_batch()) return PushResult::Full;
    batch_.push_back(event);
    return PushResult::Delivered;
}

void WriterLink::flush() {
    if (!batch_.empty()) (void)send_batch();
}

bool WriterLink::send_batch() {
    const auto message = peer::encode(peer::ToWriter{peer::Events{batch_}});
    const bool sent = link_.send(message);
    if (sent) {
        ++counters_.messages_sent;
    } else {
        // The writer stopped reading (its guest's ring is full and its own queue too, or it
        // hangs): what it did not take is dropped, and the router keeps owed releases until
        // the writer reports its guest ready again.
        counters_.events_not_sent += batch_.size();
        stalled_ = true;
    }
    batch_.clear();
    return sent;
}

void WriterLink::on_message(std::span<const std::byte> untrusted) {
    auto parsed = peer::parse_to_owner(untrusted);
    if (const auto* error = std::get_if<peer::WireError>(&parsed)) {
        ++counters_.bad_messages;
        if (bad_log_.allow(std::chrono::steady_clock::now())) {
            log_->warn("vkbd writer of {}: refused message ({}; {} so far); {} detached until it reconnects", persona_name_,
                       error->message, counters_.bad_messages, persona_name_);
        }
        set_connected(false);
        return;
    }
    const auto& message = std::get<peer::ToOwner>(parsed);
    if (const auto* state = std::get_if<peer::State>(&message)) {
        set_connected(state->connected);
        return;
    }
    stalled_ = false;
    if (connected_) router_.guest_ready(persona_, *this);
}

void WriterLink::set_connected(bool connected) {
    if (connected == connected_) return;
    connected_ = connected;
    batch_.clear();
    stalled_ = false;
    if (connected) {
        log_->info("vkbd writer of {}: frontend connected", persona_name_);
        router_.attach(persona_, *this);
    } else {
        log_->info("vkbd writer of {}: frontend gone", persona_name_);
        router_.detach(persona_, *this);
    }
}

} // namespace twofold::input
