#pragma once
// The manager's side of the secure persona's sealed volume: it runs twofold-keystore
// (dom0-tools/keystore) as a short-lived child, hands it the PIN on a pipe (never argv, never
// a file), and reads back one JSON line. The manager, not the keystore, audits and decides
// what follows (start the persona once its volume is open).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace twofold::manager {

struct KeystoreOptions {
    std::string program = "/usr/sbin/twofold-keystore";
    std::string state_dir = "/var/lib/twofold/keystore";
    std::uint32_t retry_limit = 5;
    std::vector<std::string> extra_args; // e.g. --tcti, --kdf-iterations (tests)
    int timeout_ms = 120000;            // argon2id on a slow board, twice (PIN change)
};

struct KeystoreAnswer {
    std::string outcome;  // ok, wrong-pin, measurements-changed, locked-out, wiped, not-provisioned, error ...
    nlohmann::json doc;   // the keystore's whole answer
};

class KeystoreClient {
public:
    explicit KeystoreClient(KeystoreOptions options) : options_(std::move(options)) {}
    // verb: status, unlock, provision, lock, change-pin, wipe. `pin_lines` goes to its stdin.
    KeystoreAnswer run(std::string_view verb, const std::string& volume, const std::string& mapper_name,
                       std::string_view pin_lines) const;
    [[nodiscard]] const KeystoreOptions& options() const { return options_; }

private:
    KeystoreOptions options_;
};

} // namespace twofold::manager
