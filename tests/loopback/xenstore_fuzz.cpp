// libFuzzer: a hostile guest drives the loopback xenstore with arbitrary operations, paths,
// values and permissions. The store must never crash, never let the guest read or change a
// dom0-private node, and never let the guest exceed its node quota.
#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "twofold/loopback/hypervisor.h"
#include "twofold/xen/error.h"

namespace {

using namespace twofold;

// Consumes length-prefixed fields from the fuzz input.
class Input {
public:
    explicit Input(std::span<const std::uint8_t> data) : data_(data) {}
    [[nodiscard]] bool empty() const { return data_.empty(); }
    std::uint8_t byte() {
        if (data_.empty()) {
            return 0;
        }
        const std::uint8_t value = data_.front();
        data_ = data_.subspan(1);
        return value;
    }
    std::string text() {
        const std::size_t length = std::min<std::size_t>(byte(), data_.size());
        std::string value(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(length));
        data_ = data_.subspan(length);
        return value;
    }

private:
    std::span<const std::uint8_t> data_;
};

constexpr std::size_t kQuota = 40;
const std::string kSecret = "/local/domain/0/secret";

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

void run(xen::XenStore& guest, const std::string& home, Input& in) {
    using Kind = xen::Permission::Kind;
    const std::uint8_t op = in.byte();
    // Paths either arbitrary or rooted in the guest's home, so both validation and the
    // tree are reached.
    std::string path = in.text();
    if ((op & 0x80) != 0) {
        path = home + "/" + path;
    }
    switch (op & 0x7) {
    case 0:
        guest.write(path, in.text());
        break;
    case 1:
        guest.read(path);
        break;
    case 2:
        guest.mkdir(path);
        break;
    case 3:
        guest.remove(path);
        break;
    case 4:
        guest.list(path);
        break;
    case 5: {
        std::vector<xen::Permission> perms;
        const std::uint8_t count = in.byte() % 4;
        for (std::uint8_t i = 0; i < count; ++i) {
            perms.push_back({static_cast<xen::DomId>(in.byte()), static_cast<Kind>(in.byte() % 4)});
        }
        guest.set_permissions(path, perms);
        break;
    }
    case 6:
        guest.watch(path, in.text());
        break;
    default:
        guest.take_watch_events();
        break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    loopback::Hypervisor hv(loopback::Limits{.max_nodes_per_domain = kQuota, .max_watches_per_connection = 8,
                                             .max_queued_watch_events = 16});
    const auto domid = hv.create_domain("fuzz");
    const std::string home = "/local/domain/" + std::to_string(domid);
    auto dom0 = hv.platform(xen::kDom0)->open_xenstore();
    dom0->write(kSecret, "s3cret");
    auto guest = hv.platform(domid)->open_xenstore();

    Input in({data, size});
    while (!in.empty()) {
        try {
            run(*guest, home, in);
        } catch (const xen::XenError&) {
            // Refusals are the expected outcome of most hostile operations.
        }
        bool refused = false;
        try {
            guest->read(kSecret);
        } catch (const xen::XenError& error) {
            refused = error.errno_value() == EACCES;
        }
        check(refused);
    }
    check(dom0->read(kSecret) == std::optional<std::string>("s3cret"));
    return 0;
}
