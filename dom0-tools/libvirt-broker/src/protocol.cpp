#include "twofold/libvirt_broker/protocol.h"

#include <array>
#include <initializer_list>

#include <nlohmann/json.hpp>

#include "twofold/manager/json_fields.h"

namespace twofold::libvirt_broker {
namespace {

using nlohmann::json;
using manager::DomainInfo;

constexpr std::array kOps{Op::List, Op::Lookup, Op::Define, Op::Start, Op::StartPaused, Op::Resume, Op::Shutdown, Op::Destroy, Op::Undefine, Op::Xml, Op::Uuid};
constexpr std::array kErrorKinds{ErrorKind::NoDomain, ErrorKind::Libvirt, ErrorKind::Request};

// Invalid UTF-8 (libvirt passes through whatever a domain's XML or an error holds) becomes
// U+FFFD instead of an exception.
std::string dump(const json& doc) { return doc.dump(-1, ' ', false, json::error_handler_t::replace); }

bool is_control(unsigned char c) noexcept { return c < 0x20 || c == 0x7f; }

bool is_valid_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > kMaxNameBytes) {
        return false;
    }
    for (const char c : name) {
        if (is_control(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

bool wants_xml(Op op) noexcept { return op == Op::Define; }
bool wants_name(Op op) noexcept { return op != Op::List && op != Op::Define; }

std::optional<std::uint64_t> id_of(const json& doc) {
    const auto it = doc.find("id");
    if (it == doc.end() || !it->is_number_unsigned()) {
        return std::nullopt;
    }
    const auto id = it->get<std::uint64_t>();
    return id <= kMaxId ? std::optional(id) : std::nullopt;
}

json info_json(const DomainInfo& d) {
    return json{{"name", sanitize_text(d.name, kMaxNameBytes)}, {"state", manager::to_string(d.state)}, {"id", d.id},
                {"persistent", d.persistent}};
}

[[noreturn]] void bad(const std::string& what) { throw ProtocolError("libvirt broker reply: " + what); }

DomainInfo parse_info(const json& untrusted) {
    if (!untrusted.is_object()) {
        bad("a domain must be an object");
    }
    std::string unknown;
    if (!manager::only_known_keys(untrusted, {"name", "state", "id", "persistent"}, unknown)) {
        bad("unknown domain field '" + unknown + "'");
    }
    const auto name = untrusted.find("name");
    const auto state = untrusted.find("state");
    const auto id = untrusted.find("id");
    const auto persistent = untrusted.find("persistent");
    if (name == untrusted.end() || !name->is_string() || !is_valid_name(name->get_ref<const std::string&>())) {
        bad("a domain name must be 1-" + std::to_string(kMaxNameBytes) + " bytes without control characters");
    }
    if (state == untrusted.end() || !state->is_string()) {
        bad("a domain state must be a string");
    }
    const auto parsed_state = manager::parse_domain_state(state->get_ref<const std::string&>());
    if (!parsed_state) {
        bad("unknown domain state");
    }
    if (id == untrusted.end() || !id->is_number_integer()) {
        bad("a domid must be an integer");
    }
    const auto raw_id = id->get<std::int64_t>();
    if (raw_id < -1 || raw_id > kMaxDomid) {
        bad("domid " + std::to_string(raw_id) + " out of range -1.." + std::to_string(kMaxDomid));
    }
    if (persistent == untrusted.end() || !persistent->is_boolean()) {
        bad("'persistent' must be a boolean");
    }
    return DomainInfo{name->get<std::string>(), *parsed_state, static_cast<int>(raw_id), persistent->get<bool>()};
}

bool is_uuid(std::string_view s) noexcept {
    if (s.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool dash_at = i == 8 || i == 13 || i == 18 || i == 23;
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (dash_at ? c != '-' : !hex) {
            return false;
        }
    }
    return true;
}

Result parse_result(const Request& sent, const json& untrusted) {
    switch (sent.op) {
    case Op::List: {
        if (!untrusted.is_array() || untrusted.size() > kMaxDomains) {
            bad("list: expected an array of at most " + std::to_string(kMaxDomains) + " domains");
        }
        std::vector<DomainInfo> out;
        out.reserve(untrusted.size());
        for (const auto& d : untrusted) {
            out.push_back(parse_info(d));
        }
        return out;
    }
    case Op::Lookup: {
        auto info = parse_info(untrusted);
        if (info.name != sent.arg) {
            bad("lookup of '" + sent.arg + "' answered for another domain");
        }
        return info;
    }
    case Op::Define: return parse_info(untrusted);
    case Op::Xml:
        if (!untrusted.is_string()) {
            bad("xml: expected a string");
        }
        return untrusted.get<std::string>();
    case Op::Uuid:
        if (!untrusted.is_string() || !is_uuid(untrusted.get_ref<const std::string&>())) {
            bad("uuid: expected a UUID string");
        }
        return untrusted.get<std::string>();
    case Op::Start:
    case Op::StartPaused:
    case Op::Resume:
    case Op::Shutdown:
    case Op::Destroy:
    case Op::Undefine:
        if (!untrusted.is_null()) {
            bad(std::string(to_string(sent.op)) + ": expected a null result");
        }
        return std::monostate{};
    }
    bad("unknown op");
}

ReplyError parse_error(const json& untrusted) {
    if (!untrusted.is_object()) {
        bad("error must be an object");
    }
    std::string unknown;
    if (!manager::only_known_keys(untrusted, {"kind", "message"}, unknown)) {
        bad("unknown error field '" + unknown + "'");
    }
    const auto kind = untrusted.find("kind");
    const auto message = untrusted.find("message");
    if (kind == untrusted.end() || !kind->is_string() || message == untrusted.end() || !message->is_string()) {
        bad("error needs string 'kind' and 'message'");
    }
    for (const auto k : kErrorKinds) {
        if (kind->get_ref<const std::string&>() == to_string(k)) {
            return ReplyError{k, sanitize_text(message->get_ref<const std::string&>(), kMaxMessageBytes)};
        }
    }
    bad("unknown error kind");
}

RequestProblem problem(std::optional<std::uint64_t> id, std::string message) {
    return RequestProblem{id, std::move(message)};
}

} // namespace

const char* to_string(Op op) noexcept {
    switch (op) {
    case Op::List: return "list";
    case Op::Lookup: return "lookup";
    case Op::Define: return "define";
    case Op::Start: return "start";
    case Op::StartPaused: return "start-paused";
    case Op::Resume: return "resume";
    case Op::Shutdown: return "shutdown";
    case Op::Destroy: return "destroy";
    case Op::Undefine: return "undefine";
    case Op::Xml: return "xml";
    case Op::Uuid: return "uuid";
    }
    return "list";
}

std::optional<Op> parse_op(std::string_view text) noexcept {
    for (const auto op : kOps) {
        if (text == to_string(op)) {
            return op;
        }
    }
    return std::nullopt;
}

const char* to_string(ErrorKind kind) noexcept {
    switch (kind) {
    case ErrorKind::NoDomain: return "no-domain";
    case ErrorKind::Libvirt: return "libvirt";
    case ErrorKind::Request: return "request";
    }
    return "request";
}

std::string sanitize_text(std::string_view text, std::size_t limit) {
    std::string out(text.substr(0, limit));
    for (auto& c : out) {
        if (is_control(static_cast<unsigned char>(c))) {
            c = '?';
        }
    }
    return out;
}

std::string encode_request(const Request& request) {
    json doc{{"v", kVersion}, {"id", request.id}, {"op", to_string(request.op)}};
    if (wants_xml(request.op)) {
        doc["xml"] = request.arg;
    } else if (wants_name(request.op)) {
        doc["name"] = request.arg;
    }
    return dump(doc);
}

std::variant<Result, ReplyError> parse_reply(const Request& sent, std::string_view untrusted_line) {
    if (untrusted_line.size() > kMaxLineBytes) {
        bad("line exceeds " + std::to_string(kMaxLineBytes) + " bytes");
    }
    const json doc = json::parse(untrusted_line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
        bad("not a JSON object");
    }
    std::string unknown;
    if (!manager::only_known_keys(doc, {"v", "id", "result", "error"}, unknown)) {
        bad("unknown field '" + unknown + "'");
    }
    const auto v = doc.find("v");
    if (v == doc.end() || !v->is_number_integer() || v->get<std::int64_t>() != kVersion) {
        bad("expected protocol version " + std::to_string(kVersion));
    }
    const auto id = id_of(doc);
    if (!id || *id != sent.id) {
        bad("reply id does not match request " + std::to_string(sent.id));
    }
    const auto result = doc.find("result");
    const auto error = doc.find("error");
    if ((result == doc.end()) == (error == doc.end())) {
        bad("expected exactly one of 'result' and 'error'");
    }
    if (error != doc.end()) {
        return parse_error(*error);
    }
    return parse_result(sent, *result);
}

std::variant<Request, RequestProblem> parse_request(std::string_view untrusted_line) {
    if (untrusted_line.size() > kMaxLineBytes) {
        return problem(std::nullopt, "request exceeds " + std::to_string(kMaxLineBytes) + " bytes");
    }
    const json doc = json::parse(untrusted_line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
        return problem(std::nullopt, "request is not a JSON object");
    }
    const auto id = id_of(doc);
    if (!id) {
        return problem(std::nullopt, "request needs an integer 'id' in 0.." + std::to_string(kMaxId));
    }
    const auto v = doc.find("v");
    if (v == doc.end() || !v->is_number_integer() || v->get<std::int64_t>() != kVersion) {
        return problem(id, "unsupported protocol version (this broker speaks " + std::to_string(kVersion) + ")");
    }
    const auto op_field = doc.find("op");
    if (op_field == doc.end() || !op_field->is_string()) {
        return problem(id, "request needs a string 'op'");
    }
    const auto op = parse_op(op_field->get_ref<const std::string&>());
    if (!op) {
        return problem(id, "unknown op '" + sanitize_text(op_field->get_ref<const std::string&>(), 32) + "'");
    }
    std::string unknown;
    const bool known = wants_xml(*op)    ? manager::only_known_keys(doc, {"v", "id", "op", "xml"}, unknown)
                       : wants_name(*op) ? manager::only_known_keys(doc, {"v", "id", "op", "name"}, unknown)
                                         : manager::only_known_keys(doc, {"v", "id", "op"}, unknown);
    if (!known) {
        return problem(id, "unknown field '" + sanitize_text(unknown, 32) + "' for op " + to_string(*op));
    }
    Request request{*id, *op, {}};
    if (wants_xml(*op)) {
        const auto xml = doc.find("xml");
        if (xml == doc.end() || !xml->is_string() || xml->get_ref<const std::string&>().empty()) {
            return problem(id, "define needs a non-empty string 'xml'");
        }
        request.arg = xml->get<std::string>();
    } else if (wants_name(*op)) {
        const auto name = doc.find("name");
        if (name == doc.end() || !name->is_string() || !is_valid_name(name->get_ref<const std::string&>())) {
            return problem(id, std::string(to_string(*op)) + " needs a 'name' of 1-" + std::to_string(kMaxNameBytes) +
                                   " bytes without control characters");
        }
        request.arg = name->get<std::string>();
    }
    return request;
}

std::string encode_result(std::uint64_t id, const Result& result) {
    json doc{{"v", kVersion}, {"id", id}};
    if (const auto* info = std::get_if<DomainInfo>(&result)) {
        doc["result"] = info_json(*info);
    } else if (const auto* list = std::get_if<std::vector<DomainInfo>>(&result)) {
        json array = json::array();
        for (const auto& d : *list) {
            array.push_back(info_json(d));
        }
        doc["result"] = std::move(array);
    } else if (const auto* text = std::get_if<std::string>(&result)) {
        doc["result"] = *text;
    } else {
        doc["result"] = nullptr;
    }
    return dump(doc);
}

std::string encode_error(std::optional<std::uint64_t> id, const ReplyError& error) {
    json doc{{"v", kVersion},
             {"id", id ? json(*id) : json(nullptr)},
             {"error", {{"kind", to_string(error.kind)}, {"message", sanitize_text(error.message, kMaxMessageBytes)}}}};
    return dump(doc);
}

} // namespace twofold::libvirt_broker
