#include "twofold/modem/backend/console_device.h"

#include "twofold/rings/byte_ring.h"

namespace twofold::modem::backend {

xenbus::RingSpec ModemConsoleDevice::ring_spec() const {
  xenbus::RingSpec spec;
  // Linux hvc_xen (xencons_connect_backend) grants its page as ring-ref and names its
  // unbound port "port", not "event-channel".
  spec.ring_ref_node = "ring-ref";
  spec.port_node = "port";
  spec.mapping = xenbus::RingSpec::Mapping::Grant;
  spec.access = xen::Access::ReadWrite;
  return spec;
}

xenbus::Result<void> ModemConsoleDevice::on_bind(const xenbus::BindContext& context) {
  if (context.ring.size() < rings::ConsoleRing::kInterfaceSize) return xenbus::Error{"console page mapping too small"};
  auto attached = endpoints_.attach(persona_, context.ring, context.port);
  if (!attached) return attached;
  attached_ = true;
  return {};
}

xenbus::ServiceOutcome ModemConsoleDevice::on_event(std::size_t budget) {
  if (!attached_) return {};
  return endpoints_.service(persona_, budget);
}

void ModemConsoleDevice::on_closing() noexcept {
  if (!attached_) return;
  attached_ = false;
  endpoints_.detach(persona_);
}

}  // namespace twofold::modem::backend
