#include "twofold/manager/backends_config.h"

#include <fstream>
#include <algorithm>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace twofold::manager {
namespace {

// Collects every error of one file so the operator fixes them in one pass.
class Errors {
public:
    explicit Errors(std::string source) : source_(std::move(source)) {}

    void at(const toml::source_region& where, const std::string& message, const std::string& hint = {}) {
        std::string line = source_ + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column) +
                           ": " + message;
        if (!hint.empty()) {
            line += " (hint: " + hint + ")";
        }
        list_.push_back(std::move(line));
    }
    void file(const std::string& message) { list_.push_back(source_ + ": " + message); }

    [[nodiscard]] bool empty() const noexcept { return list_.empty(); }
    std::vector<std::string> take() { return std::move(list_); }

private:
    std::string source_;
    std::vector<std::string> list_;
};

std::string known_list(std::initializer_list<std::string_view> known) {
    std::string out;
    for (const auto k : known) {
        out += (out.empty() ? "" : ", ") + std::string(k);
    }
    return out;
}

void reject_unknown_keys(const toml::table& table, std::initializer_list<std::string_view> known, const std::string& where,
                         Errors& errors) {
    for (const auto& [key, value] : table) {
        bool found = false;
        for (const auto k : known) {
            found = found || key.str() == k;
        }
        if (!found) {
            errors.at(key.source().begin.line ? key.source() : value.source(),
                      "unknown key '" + std::string(key.str()) + "' in " + where, "known keys: " + known_list(known));
        }
    }
}

bool is_name(std::string_view s, std::size_t max) {
    if (s.empty() || s.size() > max || s[0] < 'a' || s[0] > 'z') {
        return false;
    }
    for (const char c : s) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}

// A bounded integer field; absent keeps `fallback`.
template <typename T>
T integer(const toml::table& table, std::string_view key, T fallback, std::int64_t min, std::int64_t max, Errors& errors) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
        return fallback;
    }
    const auto* value = node->as_integer();
    if (value == nullptr) {
        errors.at(node->source(), "'" + std::string(key) + "' must be an integer");
        return fallback;
    }
    if (value->get() < min || value->get() > max) {
        errors.at(node->source(), "'" + std::string(key) + "' = " + std::to_string(value->get()) + " is out of range",
                  "use " + std::to_string(min) + ".." + std::to_string(max));
        return fallback;
    }
    return static_cast<T>(value->get());
}

std::vector<std::string> command_of(const toml::table& table, const toml::source_region& where, bool per_persona,
                                    Errors& errors) {
    std::vector<std::string> argv;
    const toml::node* node = table.get("command");
    if (node == nullptr) {
        errors.at(where, "backend has no 'command'",
                  "command = [\"/usr/libexec/twofold/twofold-NAME-backend\", \"--persona\", \"personal:personal\"]");
        return argv;
    }
    const auto* array = node->as_array();
    if (array == nullptr || array->empty() || array->size() > kMaxBackendArgs) {
        errors.at(node->source(), "'command' must be a non-empty array of at most " + std::to_string(kMaxBackendArgs) + " strings",
                  "an argv array, not a shell line: no shell ever runs it");
        return argv;
    }
    for (const auto& element : *array) {
        const auto* text = element.as_string();
        if (text == nullptr) {
            errors.at(element.source(), "every 'command' entry must be a string");
            return {};
        }
        const std::string& arg = text->get();
        if (arg.size() > kMaxBackendArgBytes || arg.find('\0') != std::string::npos) {
            errors.at(element.source(), "a 'command' entry is longer than " + std::to_string(kMaxBackendArgBytes) +
                                            " bytes or contains a NUL byte");
            return {};
        }
        const auto reserved = [&arg](std::string_view option) {
            return arg == option || arg.rfind(std::string(option) + "=", 0) == 0;
        };
        if (reserved("--focus-fd") || reserved("--user") || reserved("--xenstore-fd") || reserved("--peer-fd")) {
            errors.at(element.source(), "'command' must not contain " + arg.substr(0, arg.find('=')),
                      "the manager adds --focus-fd, --xenstore-fd and --peer-fd itself and passes 'user' as --user");
            return {};
        }
        // A backend serving every persona names them itself; an instance is told its one
        // persona by the manager, and a second --persona would widen what it serves.
        if (per_persona && (reserved("--persona") || reserved("--domid"))) {
            errors.at(element.source(), "a per_persona backend's 'command' must not contain " + arg.substr(0, arg.find('=')),
                      "the manager adds --persona NAME:KIND and --domid N for each persona's instance");
            return {};
        }
        argv.push_back(arg);
    }
    const std::filesystem::path program(argv.front());
    if (!program.is_absolute() || program.lexically_normal() != program) {
        errors.at(array->front().source(), "'command' must start with a normalised absolute path, not '" + argv.front() + "'",
                  "e.g. /usr/libexec/twofold/twofold-display-backend: the manager searches no PATH");
        return {};
    }
    return argv;
}

void read_restart(const toml::table& backend, BackendRestart& restart, Errors& errors) {
    const toml::node* node = backend.get("restart");
    if (node == nullptr) {
        return;
    }
    const auto* table = node->as_table();
    if (table == nullptr) {
        errors.at(node->source(), "'restart' must be a table", "[backend.restart] max_attempts = 5, window_seconds = 300");
        return;
    }
    reject_unknown_keys(*table, {"max_attempts", "window_seconds", "first_delay_ms", "max_delay_ms"}, "[backend.restart]", errors);
    restart.max_attempts = integer<std::uint32_t>(*table, "max_attempts", restart.max_attempts, 1, 100, errors);
    restart.window_seconds = integer<std::uint32_t>(*table, "window_seconds", restart.window_seconds, 1, 86400, errors);
    restart.first_delay = std::chrono::milliseconds(
        integer<std::int64_t>(*table, "first_delay_ms", restart.first_delay.count(), 10, 60000, errors));
    restart.max_delay = std::chrono::milliseconds(
        integer<std::int64_t>(*table, "max_delay_ms", restart.max_delay.count(), 10, 600000, errors));
    if (restart.max_delay < restart.first_delay) {
        errors.at(node->source(), "'max_delay_ms' is smaller than 'first_delay_ms'");
    }
}

std::optional<BackendConfig> read_backend(const toml::table& table, Errors& errors) {
    reject_unknown_keys(table, {"name", "command", "user", "after_personas", "xenstore", "hello_timeout_ms", "restart", "per_persona", "peer"},
                        "[[backend]]", errors);
    BackendConfig config;
    const toml::node* name = table.get("name");
    if (name == nullptr || name->as_string() == nullptr || !is_name(name->as_string()->get(), 32) ||
        name->as_string()->get().find('_') != std::string::npos) {
        errors.at(name ? name->source() : table.source(), "backend needs a 'name' matching [a-z][a-z0-9-]{0,31}",
                  "the name the backend announces in its hello, e.g. name = \"display\"");
    } else {
        config.name = name->as_string()->get();
    }
    if (const toml::node* per_persona = table.get("per_persona")) {
        if (per_persona->as_boolean() == nullptr) {
            errors.at(per_persona->source(), "'per_persona' must be true or false");
        } else {
            config.per_persona = per_persona->as_boolean()->get();
        }
    }
    config.command = command_of(table, table.source(), config.per_persona, errors);
    config.user = "twofold-" + config.name;
    if (const toml::node* user = table.get("user")) {
        if (user->as_string() == nullptr || !is_name(user->as_string()->get(), 32)) {
            errors.at(user->source(), "'user' must be a user name matching [a-z][a-z0-9_-]{0,31}",
                      "the backend drops to this user after opening its devices; default twofold-<name>");
        } else {
            config.user = user->as_string()->get();
        }
    }
    if (const toml::node* after = table.get("after_personas")) {
        if (after->as_boolean() == nullptr) {
            errors.at(after->source(), "'after_personas' must be true or false");
        } else {
            config.after_personas = after->as_boolean()->get();
            if (config.after_personas && config.per_persona) {
                errors.at(after->source(), "'after_personas' cannot be true for a per_persona backend",
                          "each instance starts when its persona's domain exists; drop after_personas");
            }
        }
    }
    if (const toml::node* peer = table.get("peer")) {
        // Whether it names another backend is checked once the whole file is read.
        if (peer->as_string() == nullptr || !is_name(peer->as_string()->get(), 32)) {
            errors.at(peer->source(), "'peer' must be the name of another [[backend]]");
        } else if (!config.per_persona) {
            errors.at(peer->source(), "'peer' is only allowed with per_persona = true",
                      "the peer links each persona's instance to the one process owning the device");
        } else {
            config.peer = peer->as_string()->get();
        }
    }
    if (const toml::node* xenstore = table.get("xenstore")) {
        const auto* type = xenstore->as_string();
        const bool known = type != nullptr && (type->get() == "vfb" || type->get() == "vkbd" || type->get() == "console");
        if (!known) {
            errors.at(xenstore->source(), "'xenstore' must be one of \"vfb\", \"vkbd\", \"console\"",
                      "the device type whose paths the manager's xenstore proxy admits for this backend");
        } else {
            config.xenstore = type->get();
        }
    }
    config.hello_timeout = std::chrono::milliseconds(
        integer<std::int64_t>(table, "hello_timeout_ms", config.hello_timeout.count(), 100, 60000, errors));
    read_restart(table, config.restart, errors);
    if (config.name.empty() || config.command.empty()) {
        return std::nullopt;
    }
    return config;
}

// A peer must be another backend of the file, serving every persona (it owns the device the
// instances share), and the peer of one per_persona backend only: its `--peer-fd PERSONA=FD`
// arguments name personas, not backends.
void check_peers(const toml::array& array, const BackendsConfig& config, Errors& errors) {
    std::map<std::string, std::string> peered; // peer -> the per_persona backend naming it
    for (const auto& element : array) {
        const toml::node* name = element.as_table()->get("name");
        const toml::node* peer = element.as_table()->get("peer");
        if (name == nullptr || name->as_string() == nullptr || peer == nullptr) continue;
        const auto self = std::find_if(config.backends.begin(), config.backends.end(),
                                       [&](const BackendConfig& b) { return b.name == name->as_string()->get(); });
        if (self == config.backends.end() || !self->peer) continue; // already reported
        const std::string& wanted = *self->peer;
        const auto target = std::find_if(config.backends.begin(), config.backends.end(),
                                         [&](const BackendConfig& b) { return b.name == wanted; });
        if (target == config.backends.end()) {
            errors.at(peer->source(), "'peer' names no [[backend]] of this file: '" + wanted + "'",
                      "peer = the name of the backend that owns the shared device");
        } else if (target->per_persona) {
            errors.at(peer->source(), "'peer' names '" + wanted + "', which is per_persona itself",
                      "the peer is the single process owning the device: per_persona = false");
        } else if (const auto [it, fresh] = peered.emplace(wanted, self->name); !fresh) {
            errors.at(peer->source(), "'" + wanted + "' is already the peer of '" + it->second + "'",
                      "a backend is the peer of one per_persona backend at most");
        }
    }
}

} // namespace

BackendsLoad load_backends_config(std::string_view text, const std::string& source_name) {
    Errors errors(source_name);
    // Debian's toml++ 3.3.0 misbehaves on some non-ASCII input (see docs/policy.md); a dom0
    // configuration file has no use for it.
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (static_cast<unsigned char>(text[i]) >= 0x80) {
            errors.file("byte " + std::to_string(i) + " is not ASCII; this file must be plain ASCII");
            return {std::nullopt, errors.take()};
        }
    }
    toml::parse_result parsed = toml::parse(text, source_name);
    if (!parsed) {
        errors.at(parsed.error().source(), std::string(parsed.error().description()));
        return {std::nullopt, errors.take()};
    }
    const toml::table& root = parsed.table();
    reject_unknown_keys(root, {"version", "backend"}, "the top level", errors);
    const toml::node* version = root.get("version");
    if (version == nullptr || version->as_integer() == nullptr || version->as_integer()->get() != kBackendsConfigVersion) {
        errors.file("'version = " + std::to_string(kBackendsConfigVersion) + "' is required at the top");
    }
    BackendsConfig config;
    if (const toml::node* list = root.get("backend")) {
        const auto* array = list->as_array();
        if (array == nullptr || !array->is_array_of_tables()) {
            errors.at(list->source(), "'backend' must be an array of tables", "write each one as [[backend]]");
        } else if (array->size() > kMaxBackends) {
            errors.at(list->source(), "at most " + std::to_string(kMaxBackends) + " backends");
        } else {
            std::set<std::string> names;
            for (const auto& element : *array) {
                auto backend = read_backend(*element.as_table(), errors);
                if (!backend) {
                    continue;
                }
                if (!names.insert(backend->name).second) {
                    errors.at(element.source(), "backend '" + backend->name + "' is configured twice");
                    continue;
                }
                config.backends.push_back(std::move(*backend));
            }
            check_peers(*array, config, errors);
        }
    }
    if (!errors.empty()) {
        return {std::nullopt, errors.take()};
    }
    return {std::move(config), {}};
}

BackendsLoad load_backends_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return {std::nullopt, {path.string() + ": cannot read the file"}};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load_backends_config(text.str(), path.string());
}

} // namespace twofold::manager
