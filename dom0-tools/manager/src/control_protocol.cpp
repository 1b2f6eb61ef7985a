#include "twofold/manager/control_protocol.h"

#include <array>

#include "twofold/manager/json_fields.h"

namespace twofold::manager::control {
namespace {

using nlohmann::json;

ProtocolError error(std::string code, std::string message, std::optional<std::int64_t> id = std::nullopt) {
    return ProtocolError{std::move(code), std::move(message), id};
}

std::optional<std::string> persona_arg(const json& args, std::string& problem) {
    const auto it = args.find("persona");
    if (it == args.end() || it->is_null()) {
        return std::nullopt;
    }
    if (!it->is_string()) {
        problem = "args.persona must be a string";
        return std::nullopt;
    }
    const auto name = it->get<std::string>();
    if (!is_valid_persona_name(name)) {
        problem = "args.persona is not a valid persona name ([a-z][a-z0-9-]{0,31})";
        return std::nullopt;
    }
    return name;
}

} // namespace

bool is_valid_persona_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 32 || name[0] < 'a' || name[0] > 'z') {
        return false;
    }
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::variant<Request, ProtocolError> parse_request(std::string_view line) {
    if (line.size() > kMaxRequestBytes) {
        return error("too-large", "request exceeds " + std::to_string(kMaxRequestBytes) + " bytes");
    }
    const json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
        return error("bad-json", "request is not valid JSON");
    }
    if (!doc.is_object()) {
        return error("bad-request", "request must be a JSON object");
    }
    std::optional<std::int64_t> id;
    if (const auto it = doc.find("id"); it != doc.end() && it->is_number_integer()) {
        id = it->get<std::int64_t>();
    }
    std::string unknown;
    if (!only_known_keys(doc, {"version", "id", "command", "args"}, unknown)) {
        return error("bad-request", "unknown field '" + unknown + "'", id);
    }
    const auto version = doc.find("version");
    if (version == doc.end() || !version->is_number_integer()) {
        return error("bad-version", "field 'version' (integer) is required", id);
    }
    if (version->get<std::int64_t>() != kProtocolVersion) {
        return error("bad-version",
                     "protocol version " + version->dump() + " is not supported (this manager speaks " +
                         std::to_string(kProtocolVersion) + ")",
                     id);
    }
    if (!id) {
        return error("bad-request", "field 'id' (integer) is required");
    }
    const auto command = doc.find("command");
    if (command == doc.end() || !command->is_string()) {
        return error("bad-request", "field 'command' (string) is required", id);
    }
    json args = json::object();
    if (const auto it = doc.find("args"); it != doc.end()) {
        if (!it->is_object()) {
            return error("bad-request", "field 'args' must be an object", id);
        }
        args = *it;
    }

    const auto name = command->get<std::string>();
    std::string problem;
    if (name == "status") {
        if (!args.empty()) {
            return error("bad-request", "'status' takes no arguments", id);
        }
        return Request{*id, StatusRequest{}};
    }
    if (name == "shutdown") {
        if (!args.empty()) {
            return error("bad-request", "'shutdown' takes no arguments", id);
        }
        return Request{*id, ShutdownRequest{}};
    }
    if (name == "switch") {
        if (!only_known_keys(args, {"persona"}, unknown)) {
            return error("bad-request", "unknown argument '" + unknown + "' for 'switch'", id);
        }
        auto persona = persona_arg(args, problem);
        if (!problem.empty()) {
            return error("bad-request", problem, id);
        }
        return Request{*id, SwitchRequest{std::move(persona)}};
    }
    static constexpr std::array<std::pair<std::string_view, LifecycleAction>, 3> kLifecycle{{
        {"start", LifecycleAction::Start}, {"stop", LifecycleAction::Stop}, {"restart", LifecycleAction::Restart}}};
    for (const auto& [verb, action] : kLifecycle) {
        if (name != verb) {
            continue;
        }
        if (!only_known_keys(args, {"persona"}, unknown)) {
            return error("bad-request", "unknown argument '" + unknown + "' for '" + name + "'", id);
        }
        auto persona = persona_arg(args, problem);
        if (!problem.empty()) {
            return error("bad-request", problem, id);
        }
        if (!persona) {
            return error("bad-request", "'" + name + "' needs args.persona", id);
        }
        return Request{*id, LifecycleRequest{action, std::move(*persona)}};
    }
    static constexpr std::array<std::pair<std::string_view, VolumeAction>, 5> kVolume{{
        {"volume-status", VolumeAction::Status}, {"volume-unlock", VolumeAction::Unlock},
        {"volume-lock", VolumeAction::Lock}, {"volume-change-pin", VolumeAction::ChangePin},
        {"volume-wipe", VolumeAction::Wipe}}};
    for (const auto& [verb, action] : kVolume) {
        if (name != verb) {
            continue;
        }
        const bool needs_pin = action == VolumeAction::Unlock || action == VolumeAction::ChangePin;
        const bool needs_new = action == VolumeAction::ChangePin;
        if (!only_known_keys(args, {"persona", "pin", "new_pin"}, unknown) ||
            (!needs_pin && args.contains("pin")) || (!needs_new && args.contains("new_pin"))) {
            if (unknown.empty()) unknown = needs_pin ? "new_pin" : "pin";
            return error("bad-request", "unknown argument '" + unknown + "' for '" + name + "'", id);
        }
        auto persona = persona_arg(args, problem);
        if (!problem.empty()) {
            return error("bad-request", problem, id);
        }
        if (!persona) {
            return error("bad-request", "'" + name + "' needs args.persona", id);
        }
        VolumeRequest v{action, std::move(*persona), {}, {}};
        const auto pin_arg = [&](const char* key, std::string& out) {
            const auto it = args.find(key);
            if (it == args.end() || !it->is_string() || it->get_ref<const std::string&>().empty() ||
                it->get_ref<const std::string&>().size() > kMaxPinBytes ||
                it->get_ref<const std::string&>().find('\n') != std::string::npos) {
                problem = std::string("'") + name + "' needs args." + key + ": 1 to 256 bytes, no newline";
                return;
            }
            out = it->get<std::string>();
        };
        if (needs_pin) pin_arg("pin", v.pin);
        if (needs_new && problem.empty()) pin_arg("new_pin", v.new_pin);
        if (!problem.empty()) {
            return error("bad-request", problem, id);
        }
        return Request{*id, std::move(v)};
    }
    return error("unknown-command", "unknown command '" + name + "' (known: status, switch, start, stop, restart, shutdown, volume-status, volume-unlock, volume-lock, volume-change-pin, volume-wipe)", id);
}

std::string make_ok_response(std::int64_t id, const json& result) {
    return json{{"version", kProtocolVersion}, {"id", id}, {"ok", true}, {"result", result}}.dump() + "\n";
}

std::string make_error_response(const ProtocolError& e) {
    json doc{{"version", kProtocolVersion}, {"ok", false}, {"error", {{"code", e.code}, {"message", e.message}}}};
    doc["id"] = e.id ? json(*e.id) : json(nullptr);
    return doc.dump() + "\n";
}

std::string make_request(std::int64_t id, const Command& command) {
    json doc{{"version", kProtocolVersion}, {"id", id}};
    std::visit(
        [&doc](const auto& c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, StatusRequest>) {
                doc["command"] = "status";
            } else if constexpr (std::is_same_v<T, ShutdownRequest>) {
                doc["command"] = "shutdown";
            } else if constexpr (std::is_same_v<T, VolumeRequest>) {
                doc["command"] = to_string(c.action);
                doc["args"] = {{"persona", c.persona}};
                if (!c.pin.empty()) doc["args"]["pin"] = c.pin;
                if (!c.new_pin.empty()) doc["args"]["new_pin"] = c.new_pin;
            } else if constexpr (std::is_same_v<T, SwitchRequest>) {
                doc["command"] = "switch";
                if (c.persona) {
                    doc["args"] = {{"persona", *c.persona}};
                }
            } else {
                doc["command"] = to_string(c.action);
                doc["args"] = {{"persona", c.persona}};
            }
        },
        command);
    return doc.dump() + "\n";
}

const char* to_string(LifecycleAction action) noexcept {
    switch (action) {
    case LifecycleAction::Start: return "start";
    case LifecycleAction::Stop: return "stop";
    case LifecycleAction::Restart: return "restart";
    }
    return "unknown";
}

const char* to_string(VolumeAction action) noexcept {
    switch (action) {
    case VolumeAction::Status: return "volume-status";
    case VolumeAction::Unlock: return "volume-unlock";
    case VolumeAction::Lock: return "volume-lock";
    case VolumeAction::ChangePin: return "volume-change-pin";
    case VolumeAction::Wipe: return "volume-wipe";
    }
    return "unknown";
}

} // namespace twofold::manager::control
