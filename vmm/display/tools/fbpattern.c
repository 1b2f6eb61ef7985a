/* fbpattern: fills a guest's framebuffer with its persona's test pattern (fbpattern.h), for the
 * board's end-to-end display test. Plain C, no dependencies: the lab build cross-compiles it
 * with `aarch64-linux-gnu-gcc -static` into each guest image.
 *
 *   fbpattern personal|secure [DEVICE]      (DEVICE defaults to /dev/fb0)
 *
 * Exit 0 when the pattern was drawn; 1 with a message on stderr otherwise (no such device,
 * not a framebuffer, not 32 bpp). Drawing through the mapping is what xen-fbfront's deferred
 * I/O watches, so dom0 gets the update events without anything else from us.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/kd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fbpattern.h"

/* The pixel in the device's own channel layout (xen-fbfront is XRGB, but say what we do). */
static uint32_t encode(uint32_t xrgb, const struct fb_var_screeninfo* var) {
    const uint32_t r = (xrgb >> 16) & 0xFFu;
    const uint32_t g = (xrgb >> 8) & 0xFFu;
    const uint32_t b = xrgb & 0xFFu;
    return (r << var->red.offset) | (g << var->green.offset) | (b << var->blue.offset);
}

/* fbcon would draw its cursor and text over the pattern: tell the console to stay away. */
static void quiet_console(void) {
    const int tty = open("/dev/tty0", O_RDWR | O_CLOEXEC);
    if (tty < 0) return;
    (void)ioctl(tty, KDSETMODE, KD_GRAPHICS);
    close(tty);
}

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3 || (strcmp(argv[1], "personal") != 0 && strcmp(argv[1], "secure") != 0)) {
        fprintf(stderr, "usage: fbpattern personal|secure [DEVICE]\n");
        return 1;
    }
    const enum fbpattern_persona persona = strcmp(argv[1], "secure") == 0 ? FBPATTERN_SECURE : FBPATTERN_PERSONAL;
    const char* device = argc == 3 ? argv[2] : "/dev/fb0";

    const int fd = open(device, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "fbpattern: %s: %s\n", device, strerror(errno));
        return 1;
    }
    struct fb_var_screeninfo var;
    struct fb_fix_screeninfo fix;
    memset(&var, 0, sizeof var);
    memset(&fix, 0, sizeof fix);
    if (ioctl(fd, FBIOGET_VSCREENINFO, &var) != 0 || ioctl(fd, FBIOGET_FSCREENINFO, &fix) != 0) {
        fprintf(stderr, "fbpattern: %s is not a framebuffer device: %s\n", device, strerror(errno));
        close(fd);
        return 1;
    }
    if (var.bits_per_pixel != 32) {
        fprintf(stderr, "fbpattern: %s is %u bpp; only 32 bpp is supported\n", device, var.bits_per_pixel);
        close(fd);
        return 1;
    }
    const size_t first = (size_t)var.yoffset * fix.line_length + (size_t)var.xoffset * 4u;
    if ((size_t)fix.line_length < (size_t)var.xres * 4u ||
        first + (size_t)fix.line_length * var.yres > (size_t)fix.smem_len) {
        fprintf(stderr, "fbpattern: %s: mode %ux%u does not fit its memory (%u bytes, line %u)\n", device, var.xres,
                var.yres, fix.smem_len, fix.line_length);
        close(fd);
        return 1;
    }
    uint8_t* memory = mmap(NULL, fix.smem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (memory == MAP_FAILED) {
        fprintf(stderr, "fbpattern: mapping %s: %s\n", device, strerror(errno));
        close(fd);
        return 1;
    }
    quiet_console();
    for (uint32_t y = 0; y < var.yres; ++y) {
        uint8_t* row = memory + first + (size_t)y * fix.line_length;
        for (uint32_t x = 0; x < var.xres; ++x) {
            const uint32_t pixel = encode(fbpattern_pixel(persona, x, y), &var);
            memcpy(row + (size_t)x * 4u, &pixel, sizeof pixel);
        }
    }
    /* Deferred I/O flushes on its own timer; msync makes the write-back happen now. */
    (void)msync(memory, fix.smem_len, MS_SYNC);
    munmap(memory, fix.smem_len);
    close(fd);
    printf("fbpattern: %s pattern on %s (%ux%u, line %u)\n", argv[1], device, var.xres, var.yres, fix.line_length);
    return 0;
}
