/* dom0's power-key watcher: waits for KEY_POWER on any input device that has it (on the
 * virt board, the gpio-keys device that QMP system_powerdown presses) and then runs the
 * given command, normally /sbin/poweroff, so init shuts the personas and dom0 down cleanly. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { max_devices = 32 };

static int has_power_key(int fd)
{
    unsigned char keys[KEY_MAX / 8 + 1];
    memset(keys, 0, sizeof keys);
    if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof keys), keys) < 0)
        return 0;
    return (keys[KEY_POWER / 8] >> (KEY_POWER % 8)) & 1;
}

static int open_power_keys(struct pollfd *fds)
{
    int count = 0;
    DIR *dir = opendir("/dev/input");
    if (!dir)
        return 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) && count < max_devices) {
        if (strncmp(entry->d_name, "event", 5) != 0)
            continue;
        char path[300];
        snprintf(path, sizeof path, "/dev/input/%s", entry->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (has_power_key(fd)) {
            fds[count].fd = fd;
            fds[count].events = POLLIN;
            ++count;
            printf("powerkey: watching %s\n", path);
        } else {
            close(fd);
        }
    }
    closedir(dir);
    return count;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: twofold-powerkey COMMAND [ARGS...]\n");
        return 2;
    }
    struct pollfd fds[max_devices];
    int count = 0;
    /* gpio_keys is loaded in the background while the toolstack starts: wait up to 120 s. */
    for (int tries = 0; tries < 600 && count == 0; ++tries) {
        count = open_power_keys(fds);
        if (count == 0)
            usleep(200000);
    }
    if (count == 0) {
        fprintf(stderr, "powerkey: no input device has KEY_POWER\n");
        return 1;
    }
    fflush(stdout);
    for (;;) {
        if (poll(fds, (nfds_t)count, -1) < 0)
            continue;
        for (int i = 0; i < count; ++i) {
            if (!(fds[i].revents & POLLIN))
                continue;
            struct input_event ev;
            if (read(fds[i].fd, &ev, sizeof ev) != (ssize_t)sizeof ev)
                continue;
            if (ev.type == EV_KEY && ev.code == KEY_POWER && ev.value == 1) {
                printf("powerkey: KEY_POWER pressed, running %s\n", argv[1]);
                fflush(stdout);
                execv(argv[1], argv + 1);
                perror("powerkey: exec");
                return 1;
            }
        }
    }
}
