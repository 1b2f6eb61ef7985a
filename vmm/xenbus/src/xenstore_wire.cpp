#include "twofold/xenbus/xenstore_wire.h"

#include <algorithm>
#include <stdexcept>

namespace twofold::xenbus::wire {
namespace {

// A child name as xenstored lists it: one path component.
bool valid_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > kMaxName) return false;
    return std::all_of(name.begin(), name.end(), [](char c) { return c != '/' && xen::is_xenstore_path_char(c); });
}

// Reads the body field by field; every read is bounds-checked, and a failed read leaves the
// cursor failed so the caller reports one error.
class Cursor {
public:
    explicit Cursor(std::span<const std::byte> bytes) : bytes_(bytes) {}

    std::optional<std::uint8_t> u8() {
        if (bytes_.size() - at_ < 1) return std::nullopt;
        return static_cast<std::uint8_t>(bytes_[at_++]);
    }
    std::optional<std::uint16_t> u16() {
        if (bytes_.size() - at_ < 2) return std::nullopt;
        const auto value = static_cast<std::uint16_t>(static_cast<unsigned>(bytes_[at_]) |
                                                      (static_cast<unsigned>(bytes_[at_ + 1]) << 8));
        at_ += 2;
        return value;
    }
    std::optional<std::uint32_t> u32() {
        if (bytes_.size() - at_ < 4) return std::nullopt;
        std::uint32_t value = 0;
        for (std::size_t i = 0; i < 4; ++i) value |= static_cast<std::uint32_t>(bytes_[at_ + i]) << (8 * i);
        at_ += 4;
        return value;
    }
    // A u16-length field of at most `max` bytes.
    std::optional<std::string> field(std::size_t max) {
        const auto length = u16();
        if (!length || *length > max || bytes_.size() - at_ < *length) return std::nullopt;
        std::string text(reinterpret_cast<const char*>(bytes_.data() + at_), *length);
        at_ += *length;
        return text;
    }
    [[nodiscard]] bool at_end() const noexcept { return at_ == bytes_.size(); }

private:
    std::span<const std::byte> bytes_;
    std::size_t at_ = 0;
};

class Writer {
public:
    Writer() { out_.assign(kFrameHeader, '\0'); }
    void u8(std::uint8_t value) { out_.push_back(static_cast<char>(value)); }
    void u16(std::uint16_t value) {
        out_.push_back(static_cast<char>(value & 0xFF));
        out_.push_back(static_cast<char>(value >> 8));
    }
    void u32(std::uint32_t value) {
        for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
    }
    void field(std::string_view text) {
        u16(static_cast<std::uint16_t>(text.size()));
        out_.append(text);
    }
    std::string finish() {
        const std::size_t body = out_.size() - kFrameHeader;
        if (body > kMaxWireFrame) throw std::invalid_argument("xenstore wire: frame too large");
        for (std::size_t i = 0; i < kFrameHeader; ++i) out_[i] = static_cast<char>((body >> (8 * i)) & 0xFF);
        return std::move(out_);
    }

private:
    std::string out_;
};

void require(bool condition, const char* what) {
    if (!condition) throw std::invalid_argument(std::string("xenstore wire: ") + what);
}

std::optional<xen::Permission::Kind> permission_kind(std::uint8_t code) noexcept {
    switch (code) {
    case 0: return xen::Permission::Kind::None;
    case 1: return xen::Permission::Kind::Read;
    case 2: return xen::Permission::Kind::Write;
    case 3: return xen::Permission::Kind::ReadWrite;
    default: return std::nullopt;
    }
}

std::uint8_t permission_code(xen::Permission::Kind kind) {
    switch (kind) {
    case xen::Permission::Kind::None: return 0;
    case xen::Permission::Kind::Read: return 1;
    case xen::Permission::Kind::Write: return 2;
    case xen::Permission::Kind::ReadWrite: return 3;
    }
    throw std::invalid_argument("xenstore wire: permission kind");
}

bool takes_value(RequestKind kind) { return kind == RequestKind::Write; }
bool takes_token(RequestKind kind) { return kind == RequestKind::Watch || kind == RequestKind::Unwatch; }

} // namespace

bool valid_path(std::string_view path) noexcept {
    if (path == "@releaseDomain" || path == "@introduceDomain") return true;
    if (path.empty() || path.size() > kMaxPath || path.front() != '/') return false;
    if (path.size() > 1 && path.back() == '/') return false;
    if (path.find("//") != std::string_view::npos) return false;
    return std::all_of(path.begin(), path.end(), [](char c) { return c != '@' && xen::is_xenstore_path_char(c); });
}

bool valid_token(std::string_view token) noexcept {
    if (token.empty() || token.size() > kMaxToken) return false;
    return std::all_of(token.begin(), token.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

Result<Request> parse_request(std::span<const std::byte> body) {
    if (body.size() > kMaxWireFrame) return Error{"request too large"};
    Cursor in(body);
    const auto kind = in.u8();
    const auto id = in.u32();
    if (!kind || !id) return Error{"request shorter than its header"};
    if (*kind < static_cast<std::uint8_t>(RequestKind::Read) ||
        *kind > static_cast<std::uint8_t>(RequestKind::GetPermissions)) {
        return Error{"unknown request kind " + std::to_string(*kind)};
    }
    Request request;
    request.kind = static_cast<RequestKind>(*kind);
    request.id = *id;
    auto path = in.field(kMaxPath);
    if (!path) return Error{"request path missing or too long"};
    if (!valid_path(*path)) return Error{"request path is not a canonical xenstore path"};
    request.path = std::move(*path);
    if (takes_value(request.kind)) {
        auto value = in.field(kMaxValue);
        if (!value) return Error{"write value missing or too long"};
        request.value = std::move(*value);
    }
    if (takes_token(request.kind)) {
        auto token = in.field(kMaxToken);
        if (!token || !valid_token(*token)) return Error{"watch token missing or not [A-Za-z0-9_-]{1,64}"};
        request.token = std::move(*token);
    } else if (request.path.front() == '@') {
        return Error{"a special path is only watched"};
    }
    if (!in.at_end()) return Error{"bytes after the request's last field"};
    return request;
}

Result<Reply> parse_reply(std::span<const std::byte> body) {
    if (body.size() > kMaxWireFrame) return Error{"reply too large"};
    Cursor in(body);
    const auto kind = in.u8();
    const auto id = in.u32();
    if (!kind || !id) return Error{"reply shorter than its header"};
    if (*kind < static_cast<std::uint8_t>(ReplyKind::Ok) || *kind > static_cast<std::uint8_t>(ReplyKind::Permissions)) {
        return Error{"unknown reply kind " + std::to_string(*kind)};
    }
    Reply reply;
    reply.kind = static_cast<ReplyKind>(*kind);
    reply.id = *id;
    switch (reply.kind) {
    case ReplyKind::Ok:
    case ReplyKind::Missing:
        break;
    case ReplyKind::Value: {
        auto value = in.field(kMaxValue);
        if (!value) return Error{"value missing or too long"};
        reply.value = std::move(*value);
        break;
    }
    case ReplyKind::Names: {
        const auto count = in.u16();
        if (!count || *count > kMaxNames) return Error{"name count missing or over the limit"};
        for (std::uint16_t i = 0; i < *count; ++i) {
            auto name = in.field(kMaxName);
            if (!name || !valid_name(*name)) return Error{"name " + std::to_string(i) + " missing or not a node name"};
            reply.names.push_back(std::move(*name));
        }
        break;
    }
    case ReplyKind::Failed: {
        const auto error = in.u32();
        if (!error || *error == 0 || *error > 4095) return Error{"error number missing or out of range"};
        reply.error = static_cast<int>(*error);
        break;
    }
    case ReplyKind::Event: {
        auto path = in.field(kMaxPath);
        if (!path || !valid_path(*path)) return Error{"event path missing or not canonical"};
        auto token = in.field(kMaxToken);
        if (!token || !valid_token(*token)) return Error{"event token missing or invalid"};
        reply.path = std::move(*path);
        reply.token = std::move(*token);
        break;
    }
    case ReplyKind::Permissions: {
        const auto count = in.u16();
        if (!count || *count == 0 || *count > kMaxPermissions) return Error{"permission count missing or out of range"};
        for (std::uint16_t i = 0; i < *count; ++i) {
            const auto domid = in.u16();
            const auto code = in.u8();
            const auto permission = code ? permission_kind(*code) : std::nullopt;
            if (!domid || !permission) return Error{"permission " + std::to_string(i) + " missing or of no known kind"};
            reply.permissions.push_back({*domid, *permission});
        }
        break;
    }
    }
    if ((reply.kind == ReplyKind::Event) != (reply.id == 0)) return Error{"an event has id 0, a reply never"};
    if (!in.at_end()) return Error{"bytes after the reply's last field"};
    return reply;
}

std::string encode(const Request& request) {
    require(valid_path(request.path) && request.path.size() <= kMaxPath, "request path");
    Writer out;
    out.u8(static_cast<std::uint8_t>(request.kind));
    out.u32(request.id);
    out.field(request.path);
    if (takes_value(request.kind)) {
        require(request.value.size() <= kMaxValue, "write value");
        out.field(request.value);
    }
    if (takes_token(request.kind)) {
        require(valid_token(request.token), "watch token");
        out.field(request.token);
    }
    return out.finish();
}

std::string encode(const Reply& reply) {
    require((reply.kind == ReplyKind::Event) == (reply.id == 0), "reply id");
    Writer out;
    out.u8(static_cast<std::uint8_t>(reply.kind));
    out.u32(reply.id);
    switch (reply.kind) {
    case ReplyKind::Ok:
    case ReplyKind::Missing:
        break;
    case ReplyKind::Value:
        require(reply.value.size() <= kMaxValue, "value");
        out.field(reply.value);
        break;
    case ReplyKind::Names:
        require(reply.names.size() <= kMaxNames, "name count");
        out.u16(static_cast<std::uint16_t>(reply.names.size()));
        for (const auto& name : reply.names) {
            require(valid_name(name), "name");
            out.field(name);
        }
        break;
    case ReplyKind::Failed:
        require(reply.error > 0 && reply.error <= 4095, "error number");
        out.u32(static_cast<std::uint32_t>(reply.error));
        break;
    case ReplyKind::Event:
        require(valid_path(reply.path) && valid_token(reply.token), "event");
        out.field(reply.path);
        out.field(reply.token);
        break;
    case ReplyKind::Permissions:
        require(!reply.permissions.empty() && reply.permissions.size() <= kMaxPermissions, "permission count");
        out.u16(static_cast<std::uint16_t>(reply.permissions.size()));
        for (const auto& permission : reply.permissions) {
            out.u16(permission.domid);
            out.u8(permission_code(permission.kind));
        }
        break;
    }
    return out.finish();
}

void FrameReader::feed(std::span<const std::byte> bytes) {
    if (broken_) return;
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::optional<std::vector<std::byte>> FrameReader::next() {
    if (broken_ || buffer_.size() < kFrameHeader) return std::nullopt;
    std::size_t length = 0;
    for (std::size_t i = 0; i < kFrameHeader; ++i) length |= static_cast<std::size_t>(buffer_[i]) << (8 * i);
    if (length == 0 || length > kMaxWireFrame) {
        broken_ = true;
        buffer_.clear();
        return std::nullopt;
    }
    if (buffer_.size() - kFrameHeader < length) return std::nullopt;
    std::vector<std::byte> body(buffer_.begin() + kFrameHeader, buffer_.begin() + static_cast<std::ptrdiff_t>(kFrameHeader + length));
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(kFrameHeader + length));
    return body;
}

} // namespace twofold::xenbus::wire
