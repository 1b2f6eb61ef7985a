#pragma once
// What the manager asks of libvirt, by domain name. Two implementations: LibvirtConnection
// (libvirt.so in this process: the broker, and host tests that share the test driver's
// in-process state) and BrokerClient (twofold-manager: libvirt runs in the confined
// twofold-libvirt-broker, so libvirt's libraries are not in the manager's address space).
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

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

// Where libvirt runs, for `twofold status`.
struct DomainControlStatus {
    std::string kind;         // "in-process" or "broker"
    std::string uri;
    pid_t pid = -1;           // the broker's, while one runs
    std::uint32_t restarts = 0; // broker incarnations after the first
    std::string last_error;   // the last broker failure, if any
};

class DomainControl;

// A domain by name. It caches nothing: every call asks libvirt again, so state is current.
// The DomainControl must outlive it.
class LibvirtDomain {
public:
    LibvirtDomain(DomainControl& control, std::string name);
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] DomainInfo info() const;
    void start();
    // Created but not run: a toolstack puts the devices libvirt does not model in xenstore
    // before the guest's kernel looks for them, then resumes it.
    void start_paused();
    void resume();
    void shutdown(); // asks the guest to power off
    void destroy();  // hard stop
    void undefine();
    [[nodiscard]] std::string xml() const;
    [[nodiscard]] std::string uuid() const;

private:
    DomainControl* control_;
    std::string name_;
};

class DomainControl {
public:
    DomainControl() = default;
    DomainControl(const DomainControl&) = delete;
    DomainControl& operator=(const DomainControl&) = delete;
    virtual ~DomainControl() = default;

    // Every call throws LibvirtError with libvirt's message (or the broker's failure).
    [[nodiscard]] virtual std::vector<DomainInfo> list_domains() = 0;
    // nullopt: libvirt has no domain of that name.
    [[nodiscard]] virtual std::optional<DomainInfo> find(const std::string& name) = 0;
    virtual DomainInfo define_xml(const std::string& xml) = 0;
    virtual void start(const std::string& name) = 0;
    virtual void start_paused(const std::string& name) = 0;
    virtual void resume(const std::string& name) = 0;
    virtual void shutdown(const std::string& name) = 0;
    virtual void destroy(const std::string& name) = 0;
    virtual void undefine(const std::string& name) = 0;
    [[nodiscard]] virtual std::string xml(const std::string& name) = 0;
    [[nodiscard]] virtual std::string uuid(const std::string& name) = 0;
    [[nodiscard]] virtual DomainControlStatus status() const = 0;

    [[nodiscard]] std::optional<LibvirtDomain> lookup(const std::string& name);
    LibvirtDomain define(const std::string& xml);
};

[[nodiscard]] const char* to_string(DomainState state) noexcept;
// The inverse of to_string; nullopt for anything else.
[[nodiscard]] std::optional<DomainState> parse_domain_state(std::string_view text) noexcept;

} // namespace twofold::manager
