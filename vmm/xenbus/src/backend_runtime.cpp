#include "twofold/xenbus/backend_runtime.h"

#include <utility>

namespace twofold::xenbus {

BackendRuntime::BackendRuntime(xen::Platform& platform, std::shared_ptr<spdlog::logger> log,
                               std::size_t budget_per_wake)
    : own_domid_(platform.own_domid()), log_(std::move(log)), store_(platform.open_xenstore()),
      events_(platform.open_event_channel()), grants_(platform.open_grant_mapper()),
      foreign_(platform.open_foreign_memory()),
      watches_(std::make_unique<AsioXenstoreWatch>(io_, *store_, log_)),
      ports_(std::make_unique<AsioEventChannel>(io_, *events_, log_, budget_per_wake)) {}

BackendRuntime::~BackendRuntime() {
    // Dispatchers first: they stop watching descriptors the handles below still own.
    ports_.reset();
    watches_.reset();
}

BackendServices BackendRuntime::services() {
    return BackendServices{io_, *store_, *events_, *grants_, *foreign_, *watches_, *ports_, log_};
}

} // namespace twofold::xenbus
