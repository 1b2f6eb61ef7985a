// The broker's parser of the manager's requests, and its dispatcher: every line gets exactly
// one reply line that the manager's parser accepts (for a valid request) and nothing throws.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "twofold/libvirt_broker/protocol.h"
#include "twofold/libvirt_broker/server.h"

using namespace twofold::libvirt_broker;
using twofold::manager::DomainInfo;
using twofold::manager::DomainState;

namespace {

// Knows the domain "secure"; everything else is missing; destroy fails as libvirt would.
class Stub : public twofold::manager::DomainControl {
public:
    std::vector<DomainInfo> list_domains() override { return {secure()}; }
    std::optional<DomainInfo> find(const std::string& name) override {
        if (name == "secure") return secure();
        return std::nullopt;
    }
    DomainInfo define_xml(const std::string& xml) override {
        if (xml.size() % 2 == 0) throw twofold::manager::LibvirtError("XML error: " + xml.substr(0, 64));
        return secure();
    }
    void start(const std::string&) override {}
    void start_paused(const std::string&) override {}
    void resume(const std::string&) override {}
    void shutdown(const std::string&) override {}
    void destroy(const std::string& name) override { throw twofold::manager::LibvirtError("cannot destroy " + name); }
    void undefine(const std::string&) override {}
    std::string xml(const std::string& name) override { return "<domain><name>" + name + "</name></domain>"; }
    std::string uuid(const std::string&) override { return "6695eb01-f6a4-8304-79aa-97f2502e193f"; }
    twofold::manager::DomainControlStatus status() const override { return {}; }

private:
    static DomainInfo secure() { return DomainInfo{"secure", DomainState::Running, 2, true}; }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    const auto parsed = parse_request(line);
    Stub stub;
    const std::string reply = serve(stub, line);
    if (reply.find('\n') != std::string::npos) std::abort(); // one line, always
    if (const auto* request = std::get_if<Request>(&parsed)) {
        const auto again = parse_request(encode_request(*request));
        if (!std::holds_alternative<Request>(again) || std::get<Request>(again).arg != request->arg ||
            std::get<Request>(again).op != request->op || std::get<Request>(again).id != request->id) {
            std::abort();
        }
        try {
            (void)parse_reply(*request, reply);
        } catch (const ProtocolError&) {
            std::abort(); // the broker's own reply to a valid request must be valid
        }
    }
    return 0;
}
