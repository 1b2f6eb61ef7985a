/* twofold-keylog PERSONA: the lab's witness of which persona receives typed keys and touches.
 * Waits (bounded) for the keyboard and the absolute pointer that Linux xen-kbdfront creates for
 * the PV keyboard, then prints one line per event on stdout (the persona's console, which dom0
 * relays to the lab's serial log):
 *   TWOFOLD-KEY <persona> code=<linux key code> value=<1 down, 0 up, 2 repeat>
 *   TWOFOLD-PTR <persona> x=<abs x> y=<abs y>       at each report with a position change
 * Buttons of the pointer (BTN_LEFT, code 272) come as TWOFOLD-KEY lines.
 * A persona that never receives input prints nothing after its ready lines. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static const char kKeyboardName[] = "Xen Virtual Keyboard";
static const char kPointerName[] = "Xen Virtual Pointer";
enum { kWaitSeconds = 120, kPointerWaitSeconds = 10 };

static int open_named(const char* wanted) {
    DIR* dir = opendir("/dev/input");
    if (dir == NULL) return -1;
    struct dirent* entry;
    int found = -1;
    while (found < 0 && (entry = readdir(dir)) != NULL) {
        if (strncmp(entry->d_name, "event", 5) != 0) continue;
        char path[300];
        snprintf(path, sizeof path, "/dev/input/%s", entry->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        char name[128] = {0};
        if (ioctl(fd, EVIOCGNAME(sizeof name - 1), name) >= 0 && strcmp(name, wanted) == 0) {
            found = fd;
        } else {
            close(fd);
        }
    }
    closedir(dir);
    return found;
}

static int wait_for(const char* name, int seconds) {
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < seconds * 5; ++tries) {
        fd = open_named(name);
        if (fd < 0) {
            const struct timespec pause = {0, 200 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    return fd;
}

struct position {
    int x, y, changed;
};

/* Prints what one read brought; returns -1 when the device failed. */
static int report(int fd, const char* persona, struct position* pos) {
    struct input_event events[16];
    const ssize_t n = read(fd, events, sizeof events);
    if (n < 0) return errno == EINTR || errno == EAGAIN ? 0 : -1;
    for (size_t i = 0; i < (size_t)n / sizeof events[0]; ++i) {
        const struct input_event* e = &events[i];
        if (e->type == EV_KEY) {
            printf("TWOFOLD-KEY %s code=%u value=%d\n", persona, (unsigned)e->code, e->value);
        } else if (e->type == EV_ABS && e->code == ABS_X) {
            pos->x = e->value;
            pos->changed = 1;
        } else if (e->type == EV_ABS && e->code == ABS_Y) {
            pos->y = e->value;
            pos->changed = 1;
        } else if (e->type == EV_SYN && e->code == SYN_REPORT && pos->changed) {
            printf("TWOFOLD-PTR %s x=%d y=%d\n", persona, pos->x, pos->y);
            pos->changed = 0;
        }
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: twofold-keylog PERSONA\n");
        return 2;
    }
    const char* persona = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    const int keyboard = wait_for(kKeyboardName, kWaitSeconds);
    if (keyboard < 0) {
        printf("TWOFOLD-CHECK %s keyboard=FAIL no '%s' input device in %d s\n", persona, kKeyboardName, kWaitSeconds);
        return 1;
    }
    printf("TWOFOLD-CHECK %s keyboard=ok name='%s'\n", persona, kKeyboardName);
    /* xen-kbdfront creates both devices when it connects; a missing pointer is reported, and
     * the keyboard is still logged. */
    const int pointer = wait_for(kPointerName, kPointerWaitSeconds);
    if (pointer < 0) {
        printf("TWOFOLD-CHECK %s pointer=FAIL no '%s' input device in %d s\n", persona, kPointerName, kPointerWaitSeconds);
    } else {
        printf("TWOFOLD-CHECK %s pointer=ok name='%s'\n", persona, kPointerName);
    }
    struct position pos = {0, 0, 0};
    struct pollfd fds[2] = {{keyboard, POLLIN, 0}, {pointer, POLLIN, 0}};
    const nfds_t count = pointer < 0 ? 1 : 2;
    for (;;) {
        if (poll(fds, count, -1) < 0) {
            if (errno == EINTR) continue;
            perror("twofold-keylog: poll");
            return 1;
        }
        for (nfds_t i = 0; i < count; ++i) {
            if ((fds[i].revents & POLLIN) && report(fds[i].fd, persona, &pos) < 0) {
                perror("twofold-keylog: read");
                return 1;
            }
        }
    }
}
