#pragma once
// A simulated Linux hvc_xen secondary console on the loopback: one granted page laid out as
// struct xencons_interface, `ring-ref` and `port` published, Initialised; Connected once the
// backend is. write() puts what fits into `out` and notifies, read() drains `in`, as the
// driver does (hvc_xen's domU_write_console / domU_read_console).
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <xen/io/console.h>

#include "twofold/xenbus_test/loopback_backend.h"

namespace twofold::modem::backend::testing {

class HvcFront {
 public:
  HvcFront(loopback::Hypervisor& hv, xenbus::testing::Toolstack& toolstack, const std::string& name,
           std::uint32_t devid = 1)
      : hv_(hv), toolstack_(toolstack), domain_(hv, name), paths_(xen::kDom0, domain_.domid(), xenbus::DeviceType::Console, devid) {}

  // The manager's plumbing (pv_devices.cpp): both directories, backend setting name=modem.
  void plumb(std::string_view console_name = "modem") {
    toolstack_.add_device(paths_);
    toolstack_.store().write(paths_.backend_node("name"), std::string(console_name));
    toolstack_.store().write(paths_.backend_node("protocol"), "vt100");
  }
  // hvc_xen's xencons_connect_backend: grant the page, allocate the port, go Initialised.
  void start() {
    frame_ = hv_.allocate_pages(domain_.domid(), 1).front();
    page_ = hv_.frontend_view(domain_.domid(), frame_);
    const xen::GrantRef ref = hv_.grant_access(domain_.domid(), frame_, xen::kDom0, xen::Access::ReadWrite);
    port_ = domain_.events().bind_unbound(xen::kDom0);
    domain_.write(paths_, "ring-ref", std::to_string(ref));
    domain_.write(paths_, "port", std::to_string(port_));
    domain_.set_state(paths_, xenbus::XenbusState::Initialised);
  }
  void set_connected() { domain_.set_state(paths_, xenbus::XenbusState::Connected); }

  std::size_t write(std::string_view bytes) {
    const std::uint32_t cons = index(offsetof(xencons_interface, out_cons)).load();
    const std::uint32_t prod = index(offsetof(xencons_interface, out_prod)).load();
    std::size_t n = 0;
    auto* iface = interface();
    while (n < bytes.size() && prod + n - cons < sizeof iface->out) {
      iface->out[MASK_XENCONS_IDX(prod + n, iface->out)] = bytes[n];
      ++n;
    }
    index(offsetof(xencons_interface, out_prod)).store(static_cast<std::uint32_t>(prod + n));
    if (n != 0) notify();
    return n;
  }
  std::string read() {
    if (page_.empty() || !reading_) return {};  // not started, or a guest that stopped reading
    const std::uint32_t cons = index(offsetof(xencons_interface, in_cons)).load();
    const std::uint32_t prod = index(offsetof(xencons_interface, in_prod)).load();
    std::string text;
    auto* iface = interface();
    for (std::uint32_t i = cons; i != prod && text.size() < sizeof iface->in; ++i) {
      text.push_back(iface->in[MASK_XENCONS_IDX(i, iface->in)]);
    }
    index(offsetof(xencons_interface, in_cons)).store(prod);
    received_ += text;
    if (!text.empty()) notify();
    return text;
  }
  void set_reading(bool reading) { reading_ = reading; }
  // Everything read so far (read() also appends here).
  std::string& received() { return received_; }
  void set_out_prod(std::uint32_t value) { index(offsetof(xencons_interface, out_prod)).store(value); }
  void notify() { domain_.events().notify(port_); }

  [[nodiscard]] std::string backend_state() { return toolstack_.read(paths_.backend_node("state")); }
  [[nodiscard]] xen::DomId domid() const noexcept { return domain_.domid(); }

 private:
  xencons_interface* interface() { return reinterpret_cast<xencons_interface*>(page_.bytes().data()); }
  std::atomic_ref<std::uint32_t> index(std::size_t offset) {
    return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(page_.bytes().data() + offset));
  }

  loopback::Hypervisor& hv_;
  xenbus::testing::Toolstack& toolstack_;
  xenbus::testing::FrontendDomain domain_;
  xenbus::DevicePaths paths_;
  xen::Gfn frame_{};
  xen::MappedPages page_;
  xen::Port port_{};
  std::string received_;
  bool reading_ = true;
};

}  // namespace twofold::modem::backend::testing
