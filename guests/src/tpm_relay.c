/* twofold-tpm-relay: the emulated board's TPM 2.0, lab hardware only.
 *
 * QEMU 7.2's virt board can carry a TPM only as tpm-tis-device (MMIO), and Debian's arm64
 * kernel does not build that driver (CONFIG_TCG_TIS is off; only the SPI and I2C ones are
 * there). So the lab's TPM is Debian's swtpm on the host, reached through a virtio-serial
 * port, and this relay turns it into a kernel TPM device in dom0 with the kernel's vTPM proxy
 * (tpm_vtpm_proxy): dom0 then has /dev/tpm0 and /dev/tpmrm0 and uses them exactly as a
 * board's SPI TPM (tpm_tis_spi), through the kernel's resource manager and tpm2-tss's device
 * transport. Nothing else in dom0 knows the TPM is emulated.
 *
 * Commands and responses are TPM 2.0 frames (10-byte header, size at bytes 2..5, big
 * endian). The proxy hands over one whole command per read; the serial port is a byte
 * stream, so responses are framed by their header and checked against the size limit
 * before they reach the kernel. TPM2_CC_SET_LOCALITY is the proxy's own command to its
 * backend and is answered here (swtpm's socket interface has no localities).
 *
 * usage: twofold-tpm-relay PORT-DEVICE   (e.g. /dev/vport0p2)
 * Prints "tpm-relay: /dev/tpmN ready" on stderr once the kernel device exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vtpm_proxy.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

enum { header_size = 10, max_frame = 4096 };

static uint32_t frame_size(const unsigned char *h) {
  return (uint32_t)h[2] << 24 | (uint32_t)h[3] << 16 | (uint32_t)h[4] << 8 | (uint32_t)h[5];
}

static uint32_t frame_code(const unsigned char *h) {
  return (uint32_t)h[6] << 24 | (uint32_t)h[7] << 16 | (uint32_t)h[8] << 8 | (uint32_t)h[9];
}

static int write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_exact(int fd, unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: twofold-tpm-relay PORT-DEVICE\n");
    return 2;
  }
  int port = open(argv[1], O_RDWR | O_NOCTTY);
  if (port < 0) {
    fprintf(stderr, "tpm-relay: open %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  int vtpmx = open("/dev/vtpmx", O_RDWR);
  if (vtpmx < 0) {
    fprintf(stderr, "tpm-relay: open /dev/vtpmx: %s (is tpm_vtpm_proxy loaded?)\n", strerror(errno));
    return 1;
  }
  struct vtpm_proxy_new_dev dev;
  memset(&dev, 0, sizeof dev);
  dev.flags = VTPM_PROXY_FLAG_TPM2;
  if (ioctl(vtpmx, VTPM_PROXY_IOC_NEW_DEV, &dev) != 0) {
    fprintf(stderr, "tpm-relay: VTPM_PROXY_IOC_NEW_DEV: %s\n", strerror(errno));
    return 1;
  }
  close(vtpmx);
  int proxy = (int)dev.fd;
  fprintf(stderr, "tpm-relay: /dev/tpm%u ready (backend %s)\n", dev.tpm_num, argv[1]);

  unsigned char cmd[max_frame], rsp[max_frame];
  for (;;) {
    ssize_t n = read(proxy, cmd, sizeof cmd);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      fprintf(stderr, "tpm-relay: proxy closed (%s)\n", n < 0 ? strerror(errno) : "EOF");
      return 1;
    }
    if (n < header_size || frame_size(cmd) != (uint32_t)n) {
      fprintf(stderr, "tpm-relay: malformed command from the kernel (%zd bytes), dropped\n", n);
      continue;
    }
    if (frame_code(cmd) == TPM2_CC_SET_LOCALITY) {
      static const unsigned char ok[header_size] = {0x80, 0x01, 0, 0, 0, header_size, 0, 0, 0, 0};
      if (write_all(proxy, ok, sizeof ok) != 0) return 1;
      continue;
    }
    if (write_all(port, cmd, (size_t)n) != 0 || read_exact(port, rsp, header_size) != 0) {
      fprintf(stderr, "tpm-relay: backend port: %s\n", strerror(errno));
      return 1;
    }
    uint32_t size = frame_size(rsp);
    if (size < header_size || size > sizeof rsp) {
      /* The byte stream has lost its framing; nothing after this can be trusted. */
      fprintf(stderr, "tpm-relay: response of %u bytes from the backend, stopping\n", size);
      return 1;
    }
    if (read_exact(port, rsp + header_size, size - header_size) != 0) {
      fprintf(stderr, "tpm-relay: backend port: %s\n", strerror(errno));
      return 1;
    }
    if (write_all(proxy, rsp, size) != 0) {
      fprintf(stderr, "tpm-relay: proxy write: %s\n", strerror(errno));
      return 1;
    }
  }
}
