#include "twofold/focus/focus_protocol.h"

#include <array>
#include <initializer_list>
#include <limits>

namespace twofold::focus {
namespace {

using nlohmann::json;
// Text a backend puts in a message may contain guest bytes (a refusal reason, an audit field):
// invalid UTF-8 is replaced rather than thrown on.

constexpr std::array<std::pair<Holder, std::string_view>, 3> kHolderNames{{
    {Holder::Display, "display"},
    {Holder::Input, "input"},
    {Holder::ModemAudio, "modem-audio"},
}};

ParseError fail(std::string message) { return ParseError{std::move(message)}; }

bool only_keys(const json& object, std::initializer_list<std::string_view> known, std::string& unknown) {
    for (const auto& item : object.items()) {
        bool found = false;
        for (const auto k : known) found = found || item.key() == k;
        if (!found) {
            unknown = item.key();
            return false;
        }
    }
    return true;
}

// The object of a line, its "type", and a check of its keys; nullptr and a message otherwise.
struct Envelope {
    json doc;
    std::string type;
};

std::variant<Envelope, ParseError> open_line(std::string_view line) {
    if (line.size() > kMaxLineBytes) return fail("line exceeds " + std::to_string(kMaxLineBytes) + " bytes");
    json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return fail("not valid JSON");
    if (!doc.is_object()) return fail("not a JSON object");
    const auto type = doc.find("type");
    if (type == doc.end() || !type->is_string()) return fail("missing string field 'type'");
    std::string name = type->get<std::string>();
    return Envelope{std::move(doc), std::move(name)};
}

std::variant<std::uint64_t, ParseError> epoch_of(const json& doc) {
    const auto it = doc.find("epoch");
    if (it == doc.end() || !it->is_number_unsigned()) return fail("'epoch' must be a non-negative integer");
    return it->get<std::uint64_t>();
}

std::variant<std::string, ParseError> name_field(const json& doc, const char* key) {
    const auto it = doc.find(key);
    if (it == doc.end() || !it->is_string()) return fail(std::string("missing string field '") + key + "'");
    auto value = it->get<std::string>();
    if (!is_valid_name(value)) return fail(std::string("'") + key + "' is not a valid name ([a-z][a-z0-9-]{0,31})");
    return value;
}

std::variant<Holder, ParseError> holder_from(const json& value) {
    if (!value.is_string()) return fail("'holds' entries must be strings");
    const auto text = value.get<std::string>();
    for (const auto& [holder, name] : kHolderNames) {
        if (text == name) return holder;
    }
    return fail("unknown holder '" + text.substr(0, kMaxNameBytes) + "'");
}

constexpr std::array<std::pair<PromptKey, std::string_view>, 13> kPromptKeyNames{{
    {PromptKey::D0, "0"}, {PromptKey::D1, "1"}, {PromptKey::D2, "2"}, {PromptKey::D3, "3"},
    {PromptKey::D4, "4"}, {PromptKey::D5, "5"}, {PromptKey::D6, "6"}, {PromptKey::D7, "7"},
    {PromptKey::D8, "8"}, {PromptKey::D9, "9"}, {PromptKey::Backspace, "backspace"},
    {PromptKey::Enter, "enter"}, {PromptKey::Cancel, "cancel"},
}};

// {"dots":N,"message":"..."}: the object of a focus order's "prompt", or the body of an update.
std::variant<PromptView, ParseError> prompt_view_of(const json& doc, std::initializer_list<std::string_view> keys) {
    std::string unknown;
    if (!doc.is_object()) return fail("'prompt' must be an object");
    if (!only_keys(doc, keys, unknown)) return fail("unknown field '" + unknown + "'");
    const auto dots = doc.find("dots");
    if (dots == doc.end() || !dots->is_number_unsigned() || dots->get<std::uint64_t>() > kMaxPromptDots) {
        return fail("'dots' must be an integer from 0 to " + std::to_string(kMaxPromptDots));
    }
    const auto message = doc.find("message");
    if (message == doc.end() || !message->is_string() || !is_valid_prompt_message(message->get<std::string>())) {
        return fail("'message' must be at most " + std::to_string(kMaxPromptMessageBytes) +
                    " characters of A-Z, 0-9, space and -.:");
    }
    return PromptView{static_cast<std::uint32_t>(dots->get<std::uint64_t>()), message->get<std::string>()};
}

json prompt_view_json(const PromptView& view) { return json{{"dots", view.dots}, {"message", view.message}}; }

Parsed<ToManager> parse_prompt_key(const json& doc) {
    std::string unknown;
    if (!only_keys(doc, {"type", "key"}, unknown)) return fail("prompt-key: unknown field '" + unknown + "'");
    const auto key = doc.find("key");
    if (key != doc.end() && key->is_string()) {
        const auto& text = key->get_ref<const std::string&>();
        for (const auto& [k, name] : kPromptKeyNames) {
            if (text == name) return ToManager{PromptKeyPress{k}};
        }
    }
    // Never echoes what was sent: on this message it could be a key the user typed.
    return fail("prompt-key: 'key' must be a digit, backspace, enter or cancel");
}

Parsed<ToManager> parse_hello(const json& doc) {
    std::string unknown;
    if (!only_keys(doc, {"type", "version", "backend", "holds"}, unknown)) return fail("hello: unknown field '" + unknown + "'");
    const auto version = doc.find("version");
    if (version == doc.end() || !version->is_number_integer() || version->get<std::int64_t>() != kProtocolVersion) {
        return fail("hello: 'version' must be " + std::to_string(kProtocolVersion));
    }
    auto backend = name_field(doc, "backend");
    if (auto* e = std::get_if<ParseError>(&backend)) return fail("hello: " + e->message);
    Hello hello{std::get<std::string>(std::move(backend)), {}};
    const auto holds = doc.find("holds");
    if (holds == doc.end() || !holds->is_array() || holds->size() > kHolderNames.size()) {
        return fail("hello: 'holds' must be an array of at most " + std::to_string(kHolderNames.size()) + " holders");
    }
    for (const auto& entry : *holds) {
        auto holder = holder_from(entry);
        if (auto* e = std::get_if<ParseError>(&holder)) return fail("hello: " + e->message);
        const Holder h = std::get<Holder>(holder);
        for (const Holder seen : hello.holds) {
            if (seen == h) return fail(std::string("hello: holder '") + to_string(h) + "' listed twice");
        }
        hello.holds.push_back(h);
    }
    return ToManager{std::move(hello)};
}

Parsed<ToManager> parse_ack(const json& doc) {
    std::string unknown;
    if (!only_keys(doc, {"type", "epoch"}, unknown)) return fail("ack: unknown field '" + unknown + "'");
    auto epoch = epoch_of(doc);
    if (auto* e = std::get_if<ParseError>(&epoch)) return fail("ack: " + e->message);
    return ToManager{Ack{std::get<std::uint64_t>(epoch)}};
}

Parsed<ToManager> parse_refuse(const json& doc) {
    std::string unknown;
    if (!only_keys(doc, {"type", "epoch", "reason"}, unknown)) return fail("refuse: unknown field '" + unknown + "'");
    auto epoch = epoch_of(doc);
    if (auto* e = std::get_if<ParseError>(&epoch)) return fail("refuse: " + e->message);
    const auto reason = doc.find("reason");
    if (reason == doc.end() || !reason->is_string()) return fail("refuse: missing string field 'reason'");
    auto text = reason->get<std::string>();
    if (text.size() > kMaxReasonBytes) return fail("refuse: 'reason' exceeds " + std::to_string(kMaxReasonBytes) + " bytes");
    return ToManager{Refuse{std::get<std::uint64_t>(epoch), std::move(text)}};
}

Parsed<ToManager> parse_audit(const json& doc) {
    std::string unknown;
    if (!only_keys(doc, {"type", "event", "fields"}, unknown)) return fail("audit: unknown field '" + unknown + "'");
    const auto event = doc.find("event");
    if (event == doc.end() || !event->is_string() || !is_valid_event_name(event->get<std::string>())) {
        return fail("audit: 'event' must be a dotted name such as modem.dial");
    }
    json fields = json::object();
    if (const auto it = doc.find("fields"); it != doc.end()) {
        if (!it->is_object() || it->size() > kMaxAuditFields) {
            return fail("audit: 'fields' must be an object of at most " + std::to_string(kMaxAuditFields) + " entries");
        }
        for (const auto& item : it->items()) {
            if (!is_valid_event_name(item.key()) || item.value().is_structured()) {
                return fail("audit: field '" + item.key().substr(0, kMaxNameBytes) + "' must have a plain name and a scalar value");
            }
            if (item.value().is_string() && item.value().get_ref<const std::string&>().size() > kMaxReasonBytes) {
                return fail("audit: field '" + item.key() + "' exceeds " + std::to_string(kMaxReasonBytes) + " bytes");
            }
        }
        fields = *it;
    }
    return ToManager{AuditEvent{event->get<std::string>(), std::move(fields)}};
}

} // namespace

const char* to_string(Holder holder) noexcept {
    for (const auto& [h, name] : kHolderNames) {
        if (h == holder) return name.data();
    }
    return "?";
}

const char* to_string(PromptKey key) noexcept {
    for (const auto& [k, name] : kPromptKeyNames) {
        if (k == key) return name.data();
    }
    return "?";
}

bool is_digit(PromptKey key) noexcept { return key <= PromptKey::D9; }

char digit_of(PromptKey key) noexcept { return is_digit(key) ? static_cast<char>('0' + static_cast<int>(key)) : '?'; }

bool is_valid_prompt_message(std::string_view text) noexcept {
    if (text.size() > kMaxPromptMessageBytes) return false;
    for (const char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '-' || c == '.' || c == ':';
        if (!ok) return false;
    }
    return true;
}

bool is_valid_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > kMaxNameBytes || name[0] < 'a' || name[0] > 'z') return false;
    for (const char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    return true;
}

bool is_valid_event_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 64 || name.front() == '.' || name.back() == '.') return false;
    char previous = '.';
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok || (c == '.' && previous == '.')) return false;
        previous = c;
    }
    return name[0] >= 'a' && name[0] <= 'z';
}

Parsed<ToBackend> parse_to_backend(std::string_view line) {
    auto opened = open_line(line);
    if (auto* e = std::get_if<ParseError>(&opened)) return *e;
    const auto& [doc, type] = std::get<Envelope>(opened);
    std::string unknown;
    if (type == "prompt") {
        if (!only_keys(doc, {"type", "epoch", "dots", "message"}, unknown)) return fail("prompt: unknown field '" + unknown + "'");
        auto epoch = epoch_of(doc);
        if (auto* e = std::get_if<ParseError>(&epoch)) return fail("prompt: " + e->message);
        auto view = prompt_view_of(doc, {"type", "epoch", "dots", "message"});
        if (auto* e = std::get_if<ParseError>(&view)) return fail("prompt: " + e->message);
        return ToBackend{PromptUpdate{std::get<std::uint64_t>(epoch), std::get<PromptView>(std::move(view))}};
    }
    if (type == "notice") {
        if (!only_keys(doc, {"type", "persona", "mark"}, unknown)) return fail("notice: unknown field '" + unknown + "'");
        auto named = name_field(doc, "persona");
        if (auto* e = std::get_if<ParseError>(&named)) return fail("notice: " + e->message);
        const auto mark = doc.find("mark");
        if (mark == doc.end() || !mark->is_boolean()) return fail("notice: 'mark' must be true or false");
        return ToBackend{Notice{std::get<std::string>(std::move(named)), mark->get<bool>()}};
    }
    if (type != "focus") return fail("unknown message type '" + type.substr(0, kMaxNameBytes) + "'");
    if (!only_keys(doc, {"type", "persona", "epoch", "prompt"}, unknown)) return fail("focus: unknown field '" + unknown + "'");
    std::optional<std::string> persona;
    if (const auto it = doc.find("persona"); it == doc.end() || !it->is_null()) {
        auto named = name_field(doc, "persona");
        if (auto* e = std::get_if<ParseError>(&named)) return fail("focus: " + e->message + " (or null for nobody)");
        persona = std::get<std::string>(std::move(named));
    }
    auto epoch = epoch_of(doc);
    if (auto* e = std::get_if<ParseError>(&epoch)) return fail("focus: " + e->message);
    std::optional<PromptView> prompt;
    if (const auto it = doc.find("prompt"); it != doc.end()) {
        if (!persona) return fail("focus: a prompt needs the persona it unlocks");
        auto view = prompt_view_of(*it, {"dots", "message"});
        if (auto* e = std::get_if<ParseError>(&view)) return fail("focus: prompt: " + e->message);
        prompt = std::get<PromptView>(std::move(view));
    }
    return ToBackend{Focus{std::move(persona), std::get<std::uint64_t>(epoch), std::move(prompt)}};
}

Parsed<ToManager> parse_to_manager(std::string_view line) {
    auto opened = open_line(line);
    if (auto* e = std::get_if<ParseError>(&opened)) return *e;
    const auto& [doc, type] = std::get<Envelope>(opened);
    if (type == "hello") return parse_hello(doc);
    if (type == "ack") return parse_ack(doc);
    if (type == "refuse") return parse_refuse(doc);
    if (type == "audit") return parse_audit(doc);
    if (type == "prompt-key") return parse_prompt_key(doc);
    return fail("unknown message type '" + type.substr(0, kMaxNameBytes) + "'");
}

std::string format(const ToBackend& message) {
    if (const auto* update = std::get_if<PromptUpdate>(&message)) {
        return json{{"type", "prompt"}, {"epoch", update->epoch}, {"dots", update->view.dots}, {"message", update->view.message}}
            .dump(-1, ' ', false, json::error_handler_t::replace);
    }
    if (const auto* notice = std::get_if<Notice>(&message)) {
        return json{{"type", "notice"}, {"persona", notice->persona}, {"mark", notice->mark}}
            .dump(-1, ' ', false, json::error_handler_t::replace);
    }
    const auto& focus = std::get<Focus>(message);
    const json persona = focus.persona ? json(*focus.persona) : json(nullptr);
    json doc{{"type", "focus"}, {"persona", persona}, {"epoch", focus.epoch}};
    if (focus.prompt) doc["prompt"] = prompt_view_json(*focus.prompt);
    return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string format(const ToManager& message) {
    return std::visit(
        [](const auto& m) -> std::string {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, Hello>) {
                json holds = json::array();
                for (const Holder h : m.holds) holds.push_back(to_string(h));
                return json{{"type", "hello"}, {"version", kProtocolVersion}, {"backend", m.backend}, {"holds", holds}}.dump(-1, ' ', false, json::error_handler_t::replace);
            } else if constexpr (std::is_same_v<T, Ack>) {
                return json{{"type", "ack"}, {"epoch", m.epoch}}.dump(-1, ' ', false, json::error_handler_t::replace);
            } else if constexpr (std::is_same_v<T, PromptKeyPress>) {
                return json{{"type", "prompt-key"}, {"key", to_string(m.key)}}.dump();
            } else if constexpr (std::is_same_v<T, Refuse>) {
                return json{{"type", "refuse"}, {"epoch", m.epoch}, {"reason", m.reason}}.dump(-1, ' ', false, json::error_handler_t::replace);
            } else {
                return json{{"type", "audit"}, {"event", m.event}, {"fields", m.fields}}.dump(-1, ' ', false, json::error_handler_t::replace);
            }
        },
        message);
}

} // namespace twofold::focus
