/* Personal persona's binder check: opens the binder device and asks the driver for its
 * protocol version (BINDER_VERSION ioctl), the first call every Android servicemanager makes.
 * Prints one TWOFOLD-CHECK line; exits 0 only when the driver answers with the protocol this
 * userspace was built for. */
#include <errno.h>
#include <fcntl.h>
#include <linux/android/binder.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/dev/binder";
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        printf("TWOFOLD-CHECK personal binder=FAIL open %s: %s\n", path, strerror(errno));
        return 1;
    }
    struct binder_version version = {0};
    if (ioctl(fd, BINDER_VERSION, &version) < 0) {
        printf("TWOFOLD-CHECK personal binder=FAIL ioctl BINDER_VERSION: %s\n", strerror(errno));
        close(fd);
        return 1;
    }
    /* A process must map the receive buffer before it can take part in transactions: check
     * that the driver accepts it too, so "usable" means more than "answers one ioctl". */
    void *map = mmap(NULL, 128 * 1024, PROT_READ, MAP_PRIVATE, fd, 0);
    int mapped = map != MAP_FAILED;
    if (mapped)
        munmap(map, 128 * 1024);
    close(fd);
    if (version.protocol_version != BINDER_CURRENT_PROTOCOL_VERSION || !mapped) {
        printf("TWOFOLD-CHECK personal binder=FAIL protocol=%d expected=%d mmap=%s\n",
               (int)version.protocol_version, BINDER_CURRENT_PROTOCOL_VERSION,
               mapped ? "ok" : strerror(errno));
        return 1;
    }
    printf("TWOFOLD-CHECK personal binder=ok device=%s protocol=%d mmap=ok\n", path,
           (int)version.protocol_version);
    return 0;
}
