#pragma once
// DomainControl through twofold-libvirt-broker: the manager's libvirt client runs in a separate,
// confined process (its own user, a seccomp filter), so libvirt's ~50 libraries and its XML
// handling are not in the process that holds the audit signing key and the control plane.
//
// The broker is less trusted than the manager: every reply is parsed into validated values
// (libvirt_broker::parse_reply). Garbage, a wrong id, an oversize line, EOF mid-reply or no
// reply within the timeout become LibvirtError, are logged, and the broker is killed; the
// next call starts a new one, no sooner than a backoff that doubles on each failure in a row
// (so a broker that dies at once is not respawned in a loop).
// Calls are synchronous, one at a time, as the manager's libvirt calls always were.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "twofold/libvirt_broker/protocol.h"
#include "twofold/manager/domain_control.h"
#include "twofold/xen/unique_fd.h"

namespace twofold::manager {

struct BrokerOptions {
    std::filesystem::path program; // absolute path of twofold-libvirt-broker
    std::string uri = "xen:///system";
    std::string user;              // --user for the broker; empty: it keeps the manager's user
    std::string seccomp = "kill";  // --seccomp: kill (production) or log
    bool confine = true;           // false: --no-confine (debugging only)
    std::chrono::milliseconds reply_timeout{120000}; // libvirt calls on Xen can take seconds
    std::chrono::milliseconds backoff_min{250};
    std::chrono::milliseconds backoff_max{10000};
};

// Where twofold-manager finds the broker by default: beside its own installation, as
// <dir of exe>/../libexec/twofold/twofold-libvirt-broker (the configure-time prefix is not
// reliable: the lab installs with --prefix /usr after configuring).
[[nodiscard]] std::filesystem::path default_broker_path(const std::filesystem::path& own_executable);

class BrokerClient : public DomainControl {
public:
    // Does not start the broker yet: the first call does (and a missing program fails there
    // with a clear LibvirtError; main() checks the path up front).
    explicit BrokerClient(BrokerOptions options);
    ~BrokerClient() override;
    BrokerClient(const BrokerClient&) = delete;
    BrokerClient& operator=(const BrokerClient&) = delete;

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

    [[nodiscard]] std::vector<std::string> broker_argv() const;

private:
    using Clock = std::chrono::steady_clock;

    // nullopt: the broker answered with an error of kind no-domain (only lookup asks for it).
    std::optional<libvirt_broker::Result> call(libvirt_broker::Op op, const std::string& arg);
    void ensure_running();
    // After a failure: no new broker before the backoff has passed, and the next wait doubles.
    void hold_off_respawn(std::string why);
    void reap_if_exited();
    void send_line(const std::string& line, Clock::time_point deadline);
    std::string receive_line(Clock::time_point deadline);
    // Logs, kills and reaps the broker, arms the backoff, throws LibvirtError. `link_closed`:
    // the broker closed its end, so it is given a moment to exit and its status is reported.
    [[noreturn]] void fail(const std::string& why, bool link_closed = false);
    void stop_broker();

    BrokerOptions options_;
    pid_t pid_ = -1;
    xen::UniqueFd link_;
    std::uint64_t next_id_ = 1;
    std::uint32_t spawns_ = 0;
    std::chrono::milliseconds backoff_{0};
    std::optional<Clock::time_point> next_spawn_at_;
    std::string last_error_;
};

} // namespace twofold::manager
