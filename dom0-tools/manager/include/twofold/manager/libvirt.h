#pragma once
// DomainControl with libvirt.so in this process: a thin RAII layer (connection and domain
// handles are freed on every path; failures become LibvirtError with libvirt's own message).
// Used by twofold-libvirt-broker and by host tests; twofold-manager itself uses BrokerClient.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "twofold/manager/domain_control.h"

struct _virConnect;

namespace twofold::manager {

class LibvirtConnection : public DomainControl {
public:
    explicit LibvirtConnection(const std::string& uri);

    [[nodiscard]] std::vector<DomainInfo> list_domains() override;
    [[nodiscard]] std::optional<DomainInfo> find(const std::string& name) override;
    DomainInfo define_xml(const std::string& xml) override;
    void start(const std::string& name) override;
    void start_paused(const std::string& name) override;
    void resume(const std::string& name) override;
    void shutdown(const std::string& name) override;
    void destroy(const std::string& name) override;
    void undefine(const std::string& name) override;
    [[nodiscard]] std::string xml(const std::string& name) override;
    [[nodiscard]] std::string uuid(const std::string& name) override;
    [[nodiscard]] DomainControlStatus status() const override;

    [[nodiscard]] const std::string& uri() const noexcept { return uri_; }
    // False once libvirtd dropped the connection (the broker then exits to be respawned).
    [[nodiscard]] bool alive() const noexcept;

private:
    struct Free {
        void operator()(_virConnect* c) const noexcept;
    };
    std::string uri_;
    std::unique_ptr<_virConnect, Free> handle_;
};

} // namespace twofold::manager
