/* twofold-notify: the secure persona's content-free notice to dom0 ("something new"), for the
 * strip mark of docs/messaging.md ("Notice without leaks"). The messenger runs it for every
 * message it receives (twofold-messenger ui --on-message).
 *
 * It moves the counter in the persona's own xenstore node data/twofold-notice forward by one
 * (read, add one, write; relative paths are the domain's home). The value is all dom0 reads:
 * a number, never text, so nothing of a message can ride along. dom0's permission guard keeps
 * the node closed to the other persona.
 *
 * Exit status: 0 when written, 1 on any error (reported on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { XS_READ = 2, XS_WRITE = 11, XS_ERROR = 16 };
struct xs_header { uint32_t type, req_id, tx_id, len; };
#define XS_MAX 4096
static const char kNode[] = "data/twofold-notice";

/* One request, one reply: returns the reply's type and copies its payload (NUL-terminated). */
static int transact(int fd, uint32_t type, const char *payload, size_t len, char *reply, size_t reply_size) {
    static uint32_t req_id;
    char out[sizeof(struct xs_header) + XS_MAX];
    if (len > XS_MAX) return -1;
    struct xs_header h = {type, ++req_id, 0, (uint32_t)len};
    memcpy(out, &h, sizeof h);
    memcpy(out + sizeof h, payload, len);
    if (write(fd, out, sizeof h + len) != (ssize_t)(sizeof h + len)) return -1;
    char in[sizeof(struct xs_header) + XS_MAX];
    size_t got = 0;
    struct xs_header r;
    for (;;) {
        ssize_t n = read(fd, in + got, sizeof in - got);
        if (n <= 0) return -1;
        got += (size_t)n;
        if (got < sizeof r) continue;
        memcpy(&r, in, sizeof r);
        if (r.len > XS_MAX) return -1;
        if (got >= sizeof r + r.len) break;
    }
    size_t keep = r.len < reply_size - 1 ? r.len : reply_size - 1;
    memcpy(reply, in + sizeof r, keep);
    reply[keep] = '\0';
    return (int)r.type;
}

int main(int argc, char **argv) {
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: twofold-notify\n  tells dom0 (content-free) that this persona has something new\n");
        return 1;
    }
    int fd = open("/dev/xen/xenbus", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "twofold-notify: /dev/xen/xenbus: %s\n", strerror(errno));
        return 1;
    }
    char reply[64];
    uint64_t count = 0;
    /* A missing node (the first notice of this boot) or junk starts again at zero. */
    if (transact(fd, XS_READ, kNode, sizeof kNode, reply, sizeof reply) == XS_READ) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(reply, &end, 10);
        if (errno == 0 && end != reply && *end == '\0' && v < UINT64_MAX) count = (uint64_t)v;
    }
    char payload[sizeof kNode + 24];
    memcpy(payload, kNode, sizeof kNode);
    int n = snprintf(payload + sizeof kNode, 24, "%" PRIu64, count + 1);
    if (n <= 0) return 1;
    int t = transact(fd, XS_WRITE, payload, sizeof kNode + (size_t)n, reply, sizeof reply);
    close(fd);
    if (t != XS_WRITE) {
        fprintf(stderr, "twofold-notify: write %s: %s\n", kNode, t == XS_ERROR ? reply : "no answer");
        return 1;
    }
    return 0;
}
