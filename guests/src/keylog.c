/* twofold-keylog PERSONA: the lab's witness of which persona receives typed keys. Waits
 * (bounded) for the keyboard that Linux xen-kbdfront creates for the PV keyboard, then prints
 * one line per key event on stdout (the persona's console, which dom0 relays to the lab's
 * serial log):
 *   TWOFOLD-KEY <persona> code=<linux key code> value=<1 down, 0 up, 2 repeat>
 * A persona that never receives a key prints nothing after its ready line. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static const char kKeyboardName[] = "Xen Virtual Keyboard";
enum { kWaitSeconds = 120 };

static int open_keyboard(void) {
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
        if (ioctl(fd, EVIOCGNAME(sizeof name - 1), name) >= 0 && strcmp(name, kKeyboardName) == 0) {
            found = fd;
        } else {
            close(fd);
        }
    }
    closedir(dir);
    return found;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: twofold-keylog PERSONA\n");
        return 2;
    }
    const char* persona = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < kWaitSeconds * 5; ++tries) {
        fd = open_keyboard();
        if (fd < 0) {
            const struct timespec pause = {0, 200 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    if (fd < 0) {
        printf("TWOFOLD-CHECK %s keyboard=FAIL no '%s' input device in %d s\n", persona, kKeyboardName, kWaitSeconds);
        return 1;
    }
    printf("TWOFOLD-CHECK %s keyboard=ok name='%s'\n", persona, kKeyboardName);
    for (;;) {
        struct input_event events[16];
        const ssize_t n = read(fd, events, sizeof events);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("twofold-keylog: read");
            return 1;
        }
        for (size_t i = 0; i < (size_t)n / sizeof events[0]; ++i) {
            if (events[i].type == EV_KEY) {
                printf("TWOFOLD-KEY %s code=%u value=%d\n", persona, (unsigned)events[i].code, events[i].value);
            }
        }
    }
}
