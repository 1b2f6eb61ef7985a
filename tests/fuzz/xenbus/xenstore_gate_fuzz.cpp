// Fuzzes the xenstore gate's decision on backend-chosen paths (the proxy's input from a
// possibly taken-over backend). The first byte picks the operation, the rest is the path.
// Beyond "does not crash": an admitted path is canonical and lies in the scope's own places,
// never in the other persona's (domain 2) nor anywhere else.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "twofold/xenbus/xenstore_gate.h"

namespace {

using namespace twofold::xenbus;

void require(bool condition) {
    if (!condition) std::abort();
}

bool under(std::string_view path, std::string_view dir) {
    return path == dir || (path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const auto op = static_cast<XenStoreOp>(data[0] % 8);
    const std::string_view path(reinterpret_cast<const char*>(data + 1), size - 1);
    const GateScope scope{0, 1, data[0] & 0x80 ? DeviceType::Console : DeviceType::Vkbd};
    if (!gate_admits(scope, op, path)) return 0;
    if (path == "@releaseDomain") return 0;
    require(op != XenStoreOp::SetPermissions);
    require(path.front() == '/' && path.find("//") == std::string_view::npos && path.back() != '/');
    const std::string_view type = scope.type == DeviceType::Console ? "console" : "vkbd";
    const std::string backend = "/local/domain/0/backend/" + std::string(type);
    const bool own = under(path, backend + "/1") || path == backend || under(path, "/local/domain/1");
    require(own);
    require(!under(path, "/local/domain/2") && !under(path, backend + "/2"));
    return 0;
}
