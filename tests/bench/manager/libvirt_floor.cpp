// The memory baseline of BM_ManagerResidentMemory: a process that does nothing but what any
// libvirt client must do (load libvirt.so and its dependencies, open the manager's connection
// URI, list the domains once), then waits for SIGTERM. Its VmRSS is the part of the manager's
// VmRSS that no change inside the manager can remove while libvirt is linked into it.
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>

namespace {
void quiet(void*, virErrorPtr) {}
} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s LIBVIRT_URI\n", argv[0]);
        return 2;
    }
    virSetErrorFunc(nullptr, quiet);
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, nullptr);
    virConnectPtr conn = virConnectOpen(argv[1]);
    if (conn == nullptr) {
        std::fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    virDomainPtr* domains = nullptr;
    const int n = virConnectListAllDomains(conn, &domains, 0);
    for (int i = 0; i < n; ++i) {
        virDomainFree(domains[i]);
    }
    std::free(domains); // NOLINT(cppcoreguidelines-no-malloc): libvirt hands out a malloc'd array
    int signo = 0;
    sigwait(&term, &signo);
    virConnectClose(conn);
    return n < 0 ? 1 : 0;
}
