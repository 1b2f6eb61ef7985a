#include "twofold/input/input_backend.h"

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "twofold/input/translator.h"
#include "twofold/input/vkbd_device.h"

namespace twofold::input {

// One source on the event loop: waits for its fd, reads a bounded batch, translates, routes.
class InputBackend::Pump {
public:
    Pump(InputBackend& backend, std::unique_ptr<InputSource> source)
        : backend_(backend), source_(std::move(source)), translator_(source_->info(), backend.resolution_),
          descriptor_(backend.io(), source_->fd()) {}
    ~Pump() {
        boost::system::error_code ignored;
        descriptor_.cancel(ignored);
        descriptor_.release(); // the source owns and closes its fd
    }
    Pump(const Pump&) = delete;
    Pump& operator=(const Pump&) = delete;

    void start() { wait(); }

private:
    void wait() {
        std::weak_ptr<int> alive = alive_;
        descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                               [this, alive](const boost::system::error_code& error) {
                                   if (alive.expired() || error == boost::asio::error::operation_aborted) return;
                                   if (error) {
                                       gone(error.message());
                                       return;
                                   }
                                   drain();
                               });
    }

    void drain() {
        raw_.clear();
        const ReadStatus status = source_->read(raw_, kRawEventsPerWake);
        guest_.clear();
        for (const RawEvent& event : raw_) translator_.feed(event, guest_);
        backend_.router_.route(guest_);
        if (status == ReadStatus::Gone) {
            gone("device removed");
            return;
        }
        if (raw_.size() == kRawEventsPerWake) {
            // More may be queued: come back after the rest of the loop had its turn.
            std::weak_ptr<int> alive = alive_;
            boost::asio::post(backend_.io(), [this, alive] {
                if (!alive.expired()) drain();
            });
            return;
        }
        wait();
    }

    void gone(const std::string& why) {
        backend_.log_->warn("input source '{}': {}; no longer read", source_->info().name, why);
        std::weak_ptr<int> alive = alive_;
        boost::asio::post(backend_.io(), [backend = &backend_, self = this, alive] {
            if (!alive.expired()) backend->remove_pump(self);
        });
    }

    InputBackend& backend_;
    std::unique_ptr<InputSource> source_;
    EventTranslator translator_;
    boost::asio::posix::stream_descriptor descriptor_;
    std::vector<RawEvent> raw_;
    std::vector<GuestEvent> guest_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

InputBackend::InputBackend(xen::Platform& platform, const InputBackendConfig& config,
                           std::shared_ptr<spdlog::logger> log, AuditSink audit, InputRouter::PromptSink prompt)
    : log_(std::move(log)), audit_(std::move(audit)), personas_(config.personas), resolution_(config.resolution),
      router_(personas_.size(), config.switch_key, log_, std::move(prompt)), runtime_(platform, log_, config.budget_per_wake),
      service_(runtime_.services(), runtime_.own_domid(), xenbus::DeviceType::Vkbd,
               [this](const xenbus::DevicePaths& paths) -> std::unique_ptr<xenbus::Device> {
                   const auto persona = personas_.for_domain(runtime_.store(), paths.frontend_domid());
                   if (!persona) {
                       log_->warn("vkbd {}: domain is no configured persona; refused", paths.frontend_domid());
                       this->audit(focus::AuditEvent{"input.refused-frontend", {{"domid", paths.frontend_domid()}}});
                       return nullptr;
                   }
                   return std::make_unique<VkbdDevice>(router_, *persona, resolution_, log_);
               }) {
    if (resolution_.width == 0 || resolution_.height == 0 || resolution_.width > kMaxGuestExtent ||
        resolution_.height > kMaxGuestExtent || resolution_.contacts > kMaxContacts) {
        throw std::invalid_argument("guest resolution or contact count out of range");
    }
}

// Pumps (which route into devices) go first, then the service and its devices, then the
// router they are attached to: members are destroyed in reverse order.
InputBackend::~InputBackend() { pumps_.clear(); }

void InputBackend::add_source(std::unique_ptr<InputSource> source) {
    log_->info("input source '{}'", source->info().name);
    pumps_.push_back(std::make_unique<Pump>(*this, std::move(source)));
    pumps_.back()->start();
}

void InputBackend::remove_pump(const Pump* pump) {
    pumps_.remove_if([pump](const std::unique_ptr<Pump>& entry) { return entry.get() == pump; });
}

void InputBackend::start() { service_.start(); }

focus::ToManager InputBackend::apply_focus(const focus::Focus& order) {
    // Nobody: the first phase of a switch. What the old foreground holds is released to it and
    // from here on every key and touch is dropped (counted), until the manager names a persona
    // again, after the display has presented it.
    std::optional<PersonaId> persona;
    if (order.persona) {
        persona = personas_.by_name(*order.persona);
        if (!persona) return focus::Refuse{order.epoch, "input backend serves no persona '" + *order.persona + "'"};
    }
    // A prompt: dom0 takes the keys (the persona named is the one the PIN unlocks; its guest
    // gets nothing either).
    const SwitchReleases released = order.prompt ? router_.switch_to_prompt() : router_.switch_to(persona);
    const std::string name = order.prompt ? "prompt" : order.persona.value_or("nobody");
    log_->info("input to {} (epoch {}); released {} keys, {} contacts in the old one", name, order.epoch,
               released.keys, released.contacts);
    // "persona" is absent for nobody: the event is then a system-wide one in the log.
    nlohmann::json fields{{"to", name}, {"epoch", order.epoch}, {"released-keys", released.keys},
                          {"released-contacts", released.contacts}};
    if (order.persona) fields["persona"] = *order.persona;
    audit(focus::AuditEvent{"input.focus", std::move(fields)});
    return focus::Ack{order.epoch};
}

void InputBackend::audit(focus::AuditEvent event) const {
    if (audit_) audit_(event);
}

} // namespace twofold::input
