#pragma once
// A thin RAII layer over libvirt: the connection and domain handles are freed on every path,
// and failures become LibvirtError with libvirt's own message.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct _virConnect;
struct _virDomain;

namespace twofold::manager {

class LibvirtError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class DomainState { Running, Paused, ShutOff, Crashed, Other };

struct DomainInfo {
    std::string name;
    DomainState state = DomainState::Other;
    int id = -1; // the Xen domid while running
    bool persistent = false;
};

class LibvirtDomain {
public:
    explicit LibvirtDomain(_virDomain* handle);
    [[nodiscard]] DomainInfo info() const;
    void start();
    void shutdown();  // asks the guest to power off
    void destroy();   // hard stop
    void undefine();
    [[nodiscard]] std::string xml() const;
    [[nodiscard]] std::string uuid() const;

private:
    struct Free {
        void operator()(_virDomain* d) const noexcept;
    };
    std::unique_ptr<_virDomain, Free> handle_;
};

class LibvirtConnection {
public:
    explicit LibvirtConnection(const std::string& uri);
    [[nodiscard]] std::vector<DomainInfo> list_domains() const;
    [[nodiscard]] std::optional<LibvirtDomain> lookup(const std::string& name) const;
    LibvirtDomain define(const std::string& xml);
    [[nodiscard]] const std::string& uri() const noexcept { return uri_; }

private:
    struct Free {
        void operator()(_virConnect* c) const noexcept;
    };
    std::string uri_;
    std::unique_ptr<_virConnect, Free> handle_;
};

[[nodiscard]] const char* to_string(DomainState state) noexcept;

} // namespace twofold::manager
