/* xsm-attack: run inside a persona, attacks the other persona through every Xen interface a
 * guest's userspace can reach, and prints one line per attempt for scripts/lab test:
 *
 *   TWOFOLD-ATTACK <from> <attempt> denied|ALLOWED <detail>
 *   TWOFOLD-ATTACK <from> control-<what> ok|FAIL <detail>
 *   TWOFOLD-ATTACK <from> done target=<domid> denied=<n> allowed=<n> controls=ok|FAIL
 *
 * A hostile guest does not need to be told the other persona's domid: domids are small
 * integers. Binding an unbound event channel to a domid answers EPERM from FLASK when no
 * such domain exists and EACCES when it exists but the policy refuses, so the program probes
 * domids until one other than itself and dom0 answers anything but EPERM.
 *
 * The xenstore-perms attempt gives the other persona access to a node of our own (a channel
 * between two colluding personas outside FLASK): xenstored must refuse it.
 *
 * Controls (the same interfaces used toward dom0 or on itself, which the policy allows) show
 * that every denial comes from the hypervisor or xenstored, not from a missing driver.
 *
 * The ioctl structures are Linux's Xen UAPI (include/uapi/xen/{evtchn,gntdev,privcmd}.h),
 * the hypercall structures Xen 4.17's public headers; both are ABI, copied here because the
 * cross compiler has no Xen headers. Static arm64 binary, no library beyond libc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- Linux Xen UAPI ---- */
struct ioctl_evtchn_bind_interdomain { unsigned int remote_domain, remote_port; };
struct ioctl_evtchn_bind_unbound_port { unsigned int remote_domain; };
struct ioctl_evtchn_unbind { unsigned int port; };
#define IOCTL_EVTCHN_BIND_INTERDOMAIN _IOC(_IOC_NONE, 'E', 1, sizeof(struct ioctl_evtchn_bind_interdomain))
#define IOCTL_EVTCHN_BIND_UNBOUND_PORT _IOC(_IOC_NONE, 'E', 2, sizeof(struct ioctl_evtchn_bind_unbound_port))
#define IOCTL_EVTCHN_UNBIND _IOC(_IOC_NONE, 'E', 3, sizeof(struct ioctl_evtchn_unbind))

struct ioctl_gntdev_grant_ref { uint32_t domid, ref; };
struct ioctl_gntdev_map_grant_ref {
    uint32_t count, pad;
    uint64_t index;
    struct ioctl_gntdev_grant_ref refs[1];
};
struct ioctl_gntdev_unmap_grant_ref { uint64_t index; uint32_t count, pad; };
#define IOCTL_GNTDEV_MAP_GRANT_REF _IOC(_IOC_NONE, 'G', 0, sizeof(struct ioctl_gntdev_map_grant_ref))
#define IOCTL_GNTDEV_UNMAP_GRANT_REF _IOC(_IOC_NONE, 'G', 1, sizeof(struct ioctl_gntdev_unmap_grant_ref))

struct privcmd_hypercall { uint64_t op, arg[5]; };
#define IOCTL_PRIVCMD_HYPERCALL _IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall))

/* ---- Xen 4.17 public interface ---- */
#define HYPERVISOR_xen_version 17
#define HYPERVISOR_grant_table_op 20
#define HYPERVISOR_event_channel_op 32
#define HYPERVISOR_domctl 36
#define XENVER_version 0
#define GNTTABOP_copy 5
#define GNTCOPY_source_gref 1
#define GNTST_okay 0
#define GNTST_bad_domain (-2)
#define GNTST_permission_denied (-8)
#define EVTCHNOP_status 5
#define XEN_DOMCTL_INTERFACE_VERSION 0x00000015
#define XEN_DOMCTL_pausedomain 3
#define XEN_DOMCTL_getdomaininfo 5
#define DOMID_SELF 0x7FF0u

struct gnttab_copy_ptr { union { uint32_t ref; uint64_t gmfn; } u; uint16_t domid, offset; };
struct gnttab_copy { struct gnttab_copy_ptr source, dest; uint16_t len, flags; int16_t status; };
struct evtchn_status { uint16_t dom; uint32_t port, status, vcpu; uint32_t u[2]; };
struct xen_domctl {
    uint32_t cmd, interface_version;
    uint16_t domain, pad[3];
    uint8_t u[128]; /* the largest member of Xen's union is 128 bytes */
};

/* xenstore wire protocol (xen/io/xs_wire.h) */
enum { XS_DIRECTORY = 1, XS_READ = 2, XS_GET_PERMS = 3, XS_WRITE = 11, XS_RM = 13, XS_SET_PERMS = 14, XS_ERROR = 16 };
struct xsd_sockmsg { uint32_t type, req_id, tx_id, len; };
#define XS_PAYLOAD_MAX 4096

/* Limits: domids probed, grant references tried, ports tried, seconds to wait for the target. */
enum { kMaxDomid = 16, kFirstRef = 8, kRefCount = 8, kPortCount = 8, kDefaultWaitSeconds = 180 };

struct attack {
    const char *from;
    int denied, allowed, controls_failed;
};

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void line(const char *fmt, ...) {
    /* One write per line: the persona's console interleaves other output. */
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = (size_t)n < sizeof buf - 1 ? (size_t)n : sizeof buf - 2;
    buf[len++] = '\n';
    ssize_t w = write(STDOUT_FILENO, buf, len);
    (void)w;
}

static void verdict(struct attack *a, const char *attempt, int was_denied, const char *detail) {
    if (was_denied) a->denied++; else a->allowed++;
    line("TWOFOLD-ATTACK %s %s %s %s", a->from, attempt, was_denied ? "denied" : "ALLOWED", detail);
}

static void control(struct attack *a, const char *what, int ok, const char *detail) {
    if (!ok) a->controls_failed++;
    line("TWOFOLD-ATTACK %s control-%s %s %s", a->from, what, ok ? "ok" : "FAIL", detail);
}

static const char *errname(int e) {
    switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ESRCH: return "ESRCH";
    case ENOENT: return "ENOENT";
    case EFAULT: return "EFAULT";
    case ENODEV: return "ENODEV";
    case ENOMEM: return "ENOMEM";
    case EBUSY: return "EBUSY";
    default: return "other";
    }
}

/* ---- xenstore over /dev/xen/xenbus ---- */
static int xs_fd = -1;
static uint32_t xs_req_id;

/* Sends one request whose payload is buf[0..len) (it may hold NULs, as XS_SET_PERMS's list
 * does); returns the reply type, copies the payload (NUL-terminated) and its length. */
static int xs_request_buf(uint32_t type, const char *buf, size_t len, char *reply, size_t reply_size,
                          size_t *reply_len) {
    if (len > XS_PAYLOAD_MAX) return -1;
    char msg[sizeof(struct xsd_sockmsg) + XS_PAYLOAD_MAX];
    struct xsd_sockmsg hdr = {type, ++xs_req_id, 0, (uint32_t)len};
    memcpy(msg, &hdr, sizeof hdr);
    memcpy(msg + sizeof hdr, buf, len);
    size_t total = sizeof hdr + len;
    if (write(xs_fd, msg, total) != (ssize_t)total) return -1;
    size_t got = 0;
    char in[sizeof(struct xsd_sockmsg) + XS_PAYLOAD_MAX];
    struct xsd_sockmsg rh;
    for (;;) {
        ssize_t r = read(xs_fd, in + got, sizeof in - got);
        if (r <= 0) return -1;
        got += (size_t)r;
        if (got < sizeof rh) continue;
        memcpy(&rh, in, sizeof rh);
        if (rh.len > XS_PAYLOAD_MAX) return -1; /* not trusting even xenstored's length */
        if (got >= sizeof rh + rh.len) break;
    }
    size_t n = rh.len < reply_size - 1 ? rh.len : reply_size - 1;
    memcpy(reply, in + sizeof rh, n);
    reply[n] = '\0';
    if (reply_len) *reply_len = n;
    return (int)rh.type;
}

/* One request with a path and an optional value (path NUL value, as XS_WRITE takes it). */
static int xs_request(uint32_t type, const char *path, const char *value, char *reply, size_t reply_size) {
    size_t plen = strlen(path) + 1, vlen = value ? strlen(value) : 0;
    if (plen + vlen > XS_PAYLOAD_MAX) return -1;
    char buf[XS_PAYLOAD_MAX];
    memcpy(buf, path, plen);
    if (vlen) memcpy(buf + plen, value, vlen);
    return xs_request_buf(type, buf, plen + vlen, reply, reply_size, NULL);
}

static int xs_read_int(const char *path, long *out) {
    char reply[64];
    if (xs_request(XS_READ, path, NULL, reply, sizeof reply) != XS_READ) return -1;
    char *end;
    errno = 0;
    long v = strtol(reply, &end, 10);
    if (errno || end == reply || *end) return -1;
    *out = v;
    return 0;
}

/* ---- hypercalls through /dev/xen/privcmd ---- */
static int privcmd_fd = -1;

static long hypercall(uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2) {
    struct privcmd_hypercall h = {op, {a0, a1, a2, 0, 0}};
    long r = ioctl(privcmd_fd, IOCTL_PRIVCMD_HYPERCALL, &h);
    return r < 0 ? -errno : r;
}

static long domctl(uint32_t cmd, unsigned domid) {
    struct xen_domctl d;
    memset(&d, 0, sizeof d);
    d.cmd = cmd;
    d.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    d.domain = (uint16_t)domid;
    return hypercall(HYPERVISOR_domctl, (uint64_t)(uintptr_t)&d, 0, 0);
}

/* ---- event channels through /dev/xen/evtchn ---- */
static int evtchn_fd = -1;

/* 0 when a channel for `remote` could be allocated (and is released again), else errno. */
static int evtchn_unbound(unsigned remote) {
    struct ioctl_evtchn_bind_unbound_port b = {remote};
    int port = ioctl(evtchn_fd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &b);
    if (port < 0) return errno;
    struct ioctl_evtchn_unbind u = {(unsigned)port};
    ioctl(evtchn_fd, IOCTL_EVTCHN_UNBIND, &u);
    return 0;
}

/* Probes domids until another persona shows up: EPERM means "no such domain". */
static int find_target(unsigned self, int wait_seconds) {
    time_t deadline = time(NULL) + wait_seconds;
    do {
        for (unsigned d = 1; d <= kMaxDomid; d++) {
            if (d == self) continue;
            if (evtchn_unbound(d) != EPERM) return (int)d;
        }
        sleep(1);
    } while (time(NULL) < deadline);
    return -1;
}

static void attack_events(struct attack *a, unsigned target) {
    char detail[160];
    int e = evtchn_unbound(target);
    snprintf(detail, sizeof detail, "alloc_unbound remote=%u errno=%s", target, errname(e));
    verdict(a, "evtchn-alloc-unbound", e != 0, detail);

    int bound = 0, last = 0;
    for (unsigned p = 1; p <= kPortCount; p++) {
        struct ioctl_evtchn_bind_interdomain b = {target, p};
        int port = ioctl(evtchn_fd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &b);
        if (port >= 0) {
            bound++;
            struct ioctl_evtchn_unbind u = {(unsigned)port};
            ioctl(evtchn_fd, IOCTL_EVTCHN_UNBIND, &u);
        } else {
            last = errno;
        }
    }
    snprintf(detail, sizeof detail, "bind_interdomain dom%u ports 1-%d: %d bound, last errno=%s",
             target, kPortCount, bound, errname(last));
    verdict(a, "evtchn-bind-interdomain", bound == 0, detail);

    int seen = 0;
    long rc = 0;
    for (unsigned p = 1; p <= kPortCount; p++) {
        struct evtchn_status s;
        memset(&s, 0, sizeof s);
        s.dom = (uint16_t)target;
        s.port = p;
        rc = hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_status, (uint64_t)(uintptr_t)&s, 0);
        if (rc == 0) seen++;
    }
    snprintf(detail, sizeof detail, "EVTCHNOP_status dom%u ports 1-%d: %d answered, last rc=%ld", target,
             kPortCount, seen, rc);
    verdict(a, "evtchn-status", seen == 0, detail);
}

static void attack_grants(struct attack *a, unsigned target) {
    char detail[200];
    int fd = open("/dev/xen/gntdev", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(detail, sizeof detail, "cannot open /dev/xen/gntdev errno=%s", errname(errno));
        control(a, "gntdev", 0, detail);
    } else {
        int mapped = 0, last = 0;
        long page = sysconf(_SC_PAGESIZE);
        for (uint32_t ref = kFirstRef; ref < kFirstRef + kRefCount; ref++) {
            struct ioctl_gntdev_map_grant_ref m;
            memset(&m, 0, sizeof m);
            m.count = 1;
            m.refs[0].domid = target;
            m.refs[0].ref = ref;
            if (ioctl(fd, IOCTL_GNTDEV_MAP_GRANT_REF, &m) < 0) { last = errno; continue; }
            /* The grant is mapped by Xen only here, at mmap time. */
            void *p = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, (off_t)m.index);
            if (p != MAP_FAILED) {
                mapped++;
                munmap(p, (size_t)page);
            } else {
                last = errno;
            }
            struct ioctl_gntdev_unmap_grant_ref u = {m.index, 1, 0};
            ioctl(fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u);
        }
        close(fd);
        snprintf(detail, sizeof detail, "gntdev map dom%u refs %d-%d: %d mapped, last errno=%s", target, kFirstRef,
                 kFirstRef + kRefCount - 1, mapped, errname(last));
        verdict(a, "grant-map", mapped == 0, detail);
    }

    /* GNTTABOP_copy from the target's grant into our own frame: Xen checks the policy before
     * it looks at the reference or the frame, so the status says whether FLASK refused. */
    int copied = 0;
    int16_t status = 0;
    long rc = 0;
    for (uint32_t ref = kFirstRef; ref < kFirstRef + kRefCount; ref++) {
        struct gnttab_copy c;
        memset(&c, 0, sizeof c);
        c.source.u.ref = ref;
        c.source.domid = (uint16_t)target;
        c.dest.u.gmfn = 0;
        c.dest.domid = DOMID_SELF;
        c.len = 8;
        c.flags = GNTCOPY_source_gref;
        rc = hypercall(HYPERVISOR_grant_table_op, GNTTABOP_copy, (uint64_t)(uintptr_t)&c, 1);
        status = c.status;
        if (rc == 0 && c.status == GNTST_okay) copied++;
    }
    snprintf(detail, sizeof detail, "GNTTABOP_copy from dom%u refs %d-%d: %d copied, rc=%ld status=%d%s", target,
             kFirstRef, kFirstRef + kRefCount - 1, copied, rc, status,
             status == GNTST_permission_denied ? " (permission_denied)" : "");
    verdict(a, "grant-copy", copied == 0, detail);
}

static void attack_xenstore(struct attack *a, unsigned target) {
    char path[96], reply[256], detail[320];
    static const char *const leaves[] = {"name", "domid", "console/ring-ref", "device"};
    int read_ok = 0;
    char last[64] = "";
    for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
        snprintf(path, sizeof path, "/local/domain/%u/%s", target, leaves[i]);
        int t = xs_request(XS_READ, path, NULL, reply, sizeof reply);
        if (t == XS_READ) read_ok++;
        else snprintf(last, sizeof last, "%.40s", t == XS_ERROR ? reply : "no reply");
    }
    snprintf(detail, sizeof detail, "read /local/domain/%u/{name,domid,console/ring-ref,device}: %d read, error=%s",
             target, read_ok, last);
    verdict(a, "xenstore-read", read_ok == 0, detail);

    snprintf(path, sizeof path, "/local/domain/%u", target);
    int t = xs_request(XS_DIRECTORY, path, NULL, reply, sizeof reply);
    snprintf(detail, sizeof detail, "directory %s: %.40s", path, t == XS_DIRECTORY ? "listed" : t == XS_ERROR ? reply : "no reply");
    verdict(a, "xenstore-list", t != XS_DIRECTORY, detail);

    snprintf(path, sizeof path, "/local/domain/%u/data/twofold-attack", target);
    t = xs_request(XS_WRITE, path, "owned", reply, sizeof reply);
    int wrote = t == XS_WRITE;
    snprintf(detail, sizeof detail, "write %s: %.40s", path, wrote ? "written" : t == XS_ERROR ? reply : "no reply");
    /* Also the device nodes a backend trusts: a forged state or ring-ref would be worse. */
    snprintf(path, sizeof path, "/local/domain/%u/console/ring-ref", target);
    t = xs_request(XS_WRITE, path, "1", reply, sizeof reply);
    wrote |= t == XS_WRITE;
    size_t used = strlen(detail);
    snprintf(detail + used, sizeof detail - used, "; write %s: %.40s", path,
             t == XS_WRITE ? "written" : t == XS_ERROR ? reply : "no reply");
    verdict(a, "xenstore-write", !wrote, detail);
}

/* A persona that owns a node can set its permissions; one naming the other persona would be
 * a channel between two colluding personas that FLASK never sees. dom0's xenstored runs
 * with --perm-nb 1 (rc.toolstack): a guest's permission list may hold the owner's entry
 * only, so the request must be refused, and the permissions read back must not name the
 * target. Our own node is the control: writing it works. */
static void attack_xenstore_perms(struct attack *a, unsigned self, unsigned target) {
    char path[96], reply[256], detail[400], buf[160];
    snprintf(path, sizeof path, "/local/domain/%u/data/twofold-perms", self);
    int t = xs_request(XS_WRITE, path, "shared?", reply, sizeof reply);
    snprintf(detail, sizeof detail, "write own %s: %.40s", path, t == XS_WRITE ? "ok" : t == XS_ERROR ? reply : "no reply");
    control(a, "xenstore-own-node", t == XS_WRITE, detail);
    if (t != XS_WRITE) return;

    /* path NUL "n<self>" NUL "b<target>" NUL: owner self, the other persona read+write. */
    size_t plen = strlen(path) + 1;
    int n1 = snprintf(buf + plen, sizeof buf - plen, "n%u", self);
    int n2 = snprintf(buf + plen + (size_t)n1 + 1, sizeof buf - plen - (size_t)n1 - 1, "b%u", target);
    memcpy(buf, path, plen);
    size_t len = plen + (size_t)n1 + 1 + (size_t)n2 + 1;
    t = xs_request_buf(XS_SET_PERMS, buf, len, reply, sizeof reply, NULL);
    char set_result[48];
    snprintf(set_result, sizeof set_result, "%.40s", t == XS_SET_PERMS ? "accepted" : t == XS_ERROR ? reply : "no reply");

    /* What the node's permissions are now, whatever xenstored answered. */
    size_t rlen = 0;
    t = xs_request_buf(XS_GET_PERMS, path, plen, reply, sizeof reply, &rlen);
    char perms[128] = "";
    int names_target = 0;
    if (t == XS_GET_PERMS) {
        size_t used = 0;
        for (size_t i = 0; i < rlen; i += strlen(reply + i) + 1) {
            const char *p = reply + i;
            if (!*p) continue;
            if (p[1] && strtoul(p + 1, NULL, 10) == target && i > 0) names_target = 1;
            used += (size_t)snprintf(perms + used, sizeof perms - used, "%s%.12s", used ? "," : "", p);
            if (used >= sizeof perms) break;
        }
    } else {
        snprintf(perms, sizeof perms, "unreadable");
        names_target = 1; /* unknown counts as not denied */
    }
    snprintf(detail, sizeof detail, "set_perms %s n%u,b%u: %s; perms now %s", path, self, target, set_result, perms);
    verdict(a, "xenstore-perms", !names_target && strcmp(set_result, "accepted") != 0, detail);

    /* The owner's single entry also sets what every other domain may do ("b<self>": all may
     * read and write), which --perm-nb 1 cannot refuse: it names nobody, but the other
     * persona is "everybody" too. xenstored accepts it; dom0's manager watches the persona's
     * subtree and puts the default back to "n" (XenstorePermissionGuard). The line says
     * whether the node was closed again within the bound and how long it was open; the lab
     * checks it (a separate line, not in the denied/allowed count: xenstored does accept the
     * request, and the defence is dom0's answer to it). */
    int n3 = snprintf(buf + plen, sizeof buf - plen, "b%u", self);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    t = xs_request_buf(XS_SET_PERMS, buf, plen + (size_t)n3 + 1, reply, sizeof reply, NULL);
    char open_result[48];
    snprintf(open_result, sizeof open_result, "%.40s", t == XS_SET_PERMS ? "accepted" : t == XS_ERROR ? reply : "no reply");
    int closed = t != XS_SET_PERMS; /* refused outright is closed too */
    long waited_ms = 0;
    char last[32] = "?";
    while (!closed && waited_ms < 5000) {
        t = xs_request_buf(XS_GET_PERMS, path, plen, reply, sizeof reply, &rlen);
        if (t == XS_GET_PERMS && rlen > 0) {
            snprintf(last, sizeof last, "%.12s", reply);
            if (reply[0] == 'n' && strtoul(reply + 1, NULL, 10) == self) closed = 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        waited_ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (!closed) usleep(5000);
    }
    snprintf(detail, sizeof detail, "set_perms %s b%u (owner's entry granting every other domain read+write): %s; "
             "default now %s after %ld ms (bound 5000)", path, self, open_result, last, waited_ms);
    line("TWOFOLD-ATTACK %s xenstore-default-perms %s %s", a->from, closed ? "closed" : "OPEN", detail);
    xs_request(XS_RM, path, NULL, reply, sizeof reply);
}

static void attack_domctl(struct attack *a, unsigned target) {
    char detail[128];
    long rc = domctl(XEN_DOMCTL_getdomaininfo, target);
    snprintf(detail, sizeof detail, "domctl getdomaininfo dom%u rc=%ld (%s)", target, rc, errname((int)-rc));
    verdict(a, "domctl-getdomaininfo", rc < 0, detail);
    rc = domctl(XEN_DOMCTL_pausedomain, target);
    snprintf(detail, sizeof detail, "domctl pausedomain dom%u rc=%ld (%s)", target, rc, errname((int)-rc));
    verdict(a, "domctl-pause", rc < 0, detail);
}

static void controls(struct attack *a, unsigned self) {
    char detail[160], reply[128];
    char path[64];
    snprintf(path, sizeof path, "/local/domain/%u/name", self);
    int t = xs_request(XS_READ, path, NULL, reply, sizeof reply);
    snprintf(detail, sizeof detail, "read own %s = %.40s", path, t == XS_READ ? reply : "error");
    control(a, "xenstore-own", t == XS_READ, detail);

    int e = evtchn_unbound(0);
    snprintf(detail, sizeof detail, "alloc_unbound remote=0 (dom0, the backends' domain) errno=%s", errname(e));
    control(a, "evtchn-dom0", e == 0, detail);

    long v = hypercall(HYPERVISOR_xen_version, XENVER_version, 0, 0);
    snprintf(detail, sizeof detail, "xen_version through privcmd = %ld.%ld", v >> 16, v & 0xffff);
    control(a, "hypercall", v > 0, detail);
}

static int open_dev(struct attack *a, const char *path) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        char detail[128];
        snprintf(detail, sizeof detail, "cannot open %s errno=%s", path, errname(errno));
        control(a, "devices", 0, detail);
    }
    return fd;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: xsm-attack NAME [WAIT-SECONDS]\n");
        return 2;
    }
    struct attack a = {argv[1], 0, 0, 0};
    int wait_seconds = argc == 3 ? atoi(argv[2]) : kDefaultWaitSeconds;
    /* Hypercall buffers live on this stack and must stay resident while Xen reads them. */
    mlockall(MCL_CURRENT | MCL_FUTURE);

    xs_fd = open_dev(&a, "/dev/xen/xenbus");
    evtchn_fd = open_dev(&a, "/dev/xen/evtchn");
    privcmd_fd = open_dev(&a, "/dev/xen/privcmd");
    if (xs_fd < 0 || evtchn_fd < 0 || privcmd_fd < 0) {
        line("TWOFOLD-ATTACK %s done target=none denied=0 allowed=0 controls=FAIL", a.from);
        return 1;
    }
    long self_l = -1;
    if (xs_read_int("domid", &self_l) != 0 || self_l <= 0 || self_l > kMaxDomid) {
        control(&a, "self", 0, "cannot read own domid from xenstore");
        line("TWOFOLD-ATTACK %s done target=none denied=0 allowed=0 controls=FAIL", a.from);
        return 1;
    }
    unsigned self = (unsigned)self_l;
    controls(&a, self);

    int target = find_target(self, wait_seconds);
    if (target < 0) {
        line("TWOFOLD-ATTACK %s done target=none self=%u denied=0 allowed=0 controls=%s", a.from, self,
             a.controls_failed ? "FAIL" : "ok");
        return 1;
    }
    line("TWOFOLD-ATTACK %s target dom%d (self dom%u, found by probing domids)", a.from, target, self);
    attack_grants(&a, (unsigned)target);
    attack_events(&a, (unsigned)target);
    attack_xenstore(&a, (unsigned)target);
    attack_xenstore_perms(&a, self, (unsigned)target);
    attack_domctl(&a, (unsigned)target);

    line("TWOFOLD-ATTACK %s done target=%d self=%u denied=%d allowed=%d controls=%s", a.from, target, self,
         a.denied, a.allowed, a.controls_failed ? "FAIL" : "ok");
    return a.allowed == 0 && a.controls_failed == 0 ? 0 : 1;
}
