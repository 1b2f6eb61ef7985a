#pragma once
// The dom0 file that says which backend processes twofold-manager starts and supervises
// (/etc/twofold/backends.toml, docs/manager.md). Parsed with toml++ into a validated value;
// every problem is reported at once as "file:line:col: message (hint: ...)".
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twofold::manager {

inline constexpr int kBackendsConfigVersion = 1;
inline constexpr std::size_t kMaxBackends = 8;
inline constexpr std::size_t kMaxBackendArgs = 64;
inline constexpr std::size_t kMaxBackendArgBytes = 4096;

struct BackendRestart {
    // The same sliding-window budget as a persona's [persona.restart] (restart_budget.h).
    std::uint32_t max_attempts = 5;
    std::uint32_t window_seconds = 300;
    std::chrono::milliseconds first_delay{1000};
    std::chrono::milliseconds max_delay{30000};
};

struct BackendConfig {
    std::string name;                 // what the backend calls itself in its hello, e.g. "display"
    std::vector<std::string> command; // argv; command[0] is an absolute path (no PATH search)
    std::string user;                 // passed as --user (the backend drops to it); default twofold-<name>
    BackendRestart restart;
    bool after_personas = false;      // start once the personas exist (the backend needs their domids)
    // The xenstore device type ("vfb", "vkbd", "console") of a backend that gets no xenstored
    // connection of its own: the manager proxies its xenstore on a second socketpair
    // (`--xenstore-fd 4`), admitting only that type's paths of the personas (xenstore_proxy.h).
    std::optional<std::string> xenstore;
    std::chrono::milliseconds hello_timeout{5000};
    // One process per persona of the policy, each serving only that persona (`--persona
    // NAME:KIND --domid N`), started when that persona's domain exists: a taken-over instance
    // reaches one persona only (its xenstore proxy admits that domid alone).
    bool per_persona = false;
    // With per_persona: the backend (not per_persona) that owns the shared physical device.
    // Each persona's instance and the peer are linked by a SOCK_SEQPACKET socketpair that
    // lives as long as the manager, so either side restarts without the other.
    std::optional<std::string> peer;
};

struct BackendsConfig {
    std::vector<BackendConfig> backends;
};

struct BackendsLoad {
    std::optional<BackendsConfig> config; // set only when `errors` is empty
    std::vector<std::string> errors;
};

[[nodiscard]] BackendsLoad load_backends_config(std::string_view text, const std::string& source_name);
[[nodiscard]] BackendsLoad load_backends_file(const std::filesystem::path& path);

} // namespace twofold::manager
