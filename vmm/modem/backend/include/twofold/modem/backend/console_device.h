#pragma once
// The xenbus side of one persona's modem console: Linux hvc_xen's secondary console (device
// `console`, devid 1) publishes a granted xencons_interface page as `ring-ref` and its port
// as `port`. The device only hands the mapped page and bound port to the PersonaConsoles
// that own the persona's endpoint; the FrontendConnection keeps every Xen resource.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "twofold/modem/mediator/ownership.h"
#include "twofold/xenbus/device.h"

namespace twofold::modem::backend {

// What a console device needs from its owner (implemented by PersonaConsoles).
class ConsoleEndpoints {
 public:
  virtual ~ConsoleEndpoints() = default;
  virtual xenbus::Result<void> attach(mediator::PersonaIndex persona, std::span<std::byte> page,
                                      const xen::BoundPort& port) = 0;
  virtual xenbus::ServiceOutcome service(mediator::PersonaIndex persona, std::size_t budget) = 0;
  virtual void detach(mediator::PersonaIndex persona) noexcept = 0;
};

class ModemConsoleDevice final : public xenbus::Device {
 public:
  ModemConsoleDevice(ConsoleEndpoints& endpoints, mediator::PersonaIndex persona)
      : endpoints_(endpoints), persona_(persona) {}
  ~ModemConsoleDevice() override { on_closing(); }

  [[nodiscard]] xenbus::RingSpec ring_spec() const override;
  xenbus::Result<void> on_bind(const xenbus::BindContext& context) override;
  xenbus::ServiceOutcome on_event(std::size_t budget) override;
  void on_closing() noexcept override;

 private:
  ConsoleEndpoints& endpoints_;
  mediator::PersonaIndex persona_;
  bool attached_ = false;
};

}  // namespace twofold::modem::backend
