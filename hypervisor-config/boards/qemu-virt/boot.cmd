# twofold: U-Boot script for QEMU's virt board, the emulated phone.
# Compile: mkimage -A arm64 -O linux -T script -C none -d boot.cmd boot.scr
# (scripts/lab.d/uboot.sh: lab_uboot_make_scr). Debian's qemu_arm64 U-Boot finds it by
# distro boot (boot_targets ... virtio0 ...; boot_prefixes "/ /boot/") and sets devtype,
# devnum, distro_bootpart and prefix; every load below reuses them, so the files are read
# from wherever boot.scr itself was found.
#
# Addresses: boards/qemu-virt/memory-map. Xen and dom0 command lines: xen-cmdline and
# dom0.conf. hypervisor-config/tests/check-config fails if this file disagrees with them.

echo "twofold: boot.scr from ${devtype} ${devnum}:${distro_bootpart} prefix ${prefix}"

setenv tf_xen_addr 0x40400000
setenv tf_xen_max 0x07c00000
setenv tf_fdt_addr 0x48000000
setenv tf_fdt_size 0x00100000
setenv tf_dom0_addr 0x49000000
setenv tf_dom0_max 0x03000000
setenv tf_initrd_addr 0x4c000000
setenv tf_xsm_addr 0x48800000
setenv tf_xsm_max 0x00800000
setenv tf_initrd_max 0x34000000

# Every step records a failure in tf_ok and Xen is booted only if all succeeded: U-Boot's
# hush does not end a sourced script on `exit` inside an if (seen here: the script went
# on to booti after a failed load), so no step may rely on stopping the script.
setenv tf_ok yes

# The device tree is QEMU's own (it describes exactly the board QEMU emulates, so there
# is no .dtb file to keep in step): U-Boot runs on it at $fdtcontroladdr. Copy it to its
# slot with room to grow rather than edit U-Boot's live control tree.
fdt addr ${fdtcontroladdr}
if fdt move ${fdtcontroladdr} ${tf_fdt_addr} ${tf_fdt_size}; then
  echo "twofold: device tree copied to ${tf_fdt_addr}"
else
  echo "twofold: ERROR: cannot copy the device tree to its slot"; setenv tf_ok no
fi
# booti would otherwise relocate the tree to the top of RAM; keep it in its slot so the
# memory map stays true on both boot paths.
setenv fdt_high 0xffffffffffffffff

# Each image is checked against its slot right after loading: a grown image would
# otherwise silently overwrite the next one and fail much later inside Xen or dom0.
if load ${devtype} ${devnum}:${distro_bootpart} ${tf_xen_addr} ${prefix}xen; then
  if itest 0x${filesize} -gt ${tf_xen_max}; then
    echo "twofold: ERROR: xen is 0x${filesize} bytes, its slot holds ${tf_xen_max}"; setenv tf_ok no
  fi
else
  echo "twofold: ERROR: cannot load ${prefix}xen"; setenv tf_ok no
fi

if load ${devtype} ${devnum}:${distro_bootpart} ${tf_dom0_addr} ${prefix}dom0-Image; then
  if itest 0x${filesize} -gt ${tf_dom0_max}; then
    echo "twofold: ERROR: dom0-Image is 0x${filesize} bytes, its slot holds ${tf_dom0_max}"; setenv tf_ok no
  fi
  setenv tf_dom0_size 0x${filesize}
else
  echo "twofold: ERROR: cannot load ${prefix}dom0-Image"; setenv tf_ok no
fi

# The FLASK policy: Xen enforces it from its first instruction (flask=enforcing on its
# command line); without it Xen would panic, so a missing file stops the boot here.
if load ${devtype} ${devnum}:${distro_bootpart} ${tf_xsm_addr} ${prefix}xenpolicy; then
  if itest 0x${filesize} -gt ${tf_xsm_max}; then
    echo "twofold: ERROR: xenpolicy is 0x${filesize} bytes, its slot holds ${tf_xsm_max}"; setenv tf_ok no
  fi
  setenv tf_xsm_size 0x${filesize}
else
  echo "twofold: ERROR: cannot load ${prefix}xenpolicy"; setenv tf_ok no
fi

if load ${devtype} ${devnum}:${distro_bootpart} ${tf_initrd_addr} ${prefix}dom0-initramfs.cpio.gz; then
  if itest 0x${filesize} -gt ${tf_initrd_max}; then
    echo "twofold: ERROR: dom0-initramfs is 0x${filesize} bytes, its slot holds ${tf_initrd_max}"; setenv tf_ok no
  fi
  setenv tf_initrd_size 0x${filesize}
else
  echo "twofold: ERROR: cannot load ${prefix}dom0-initramfs.cpio.gz"; setenv tf_ok no
fi

if test "${tf_ok}" = yes; then
  # Xen's boot protocol (xen docs/misc/arm/device-tree/booting.txt): one /chosen child per
  # module, typed by compatible, located by reg. One address and one size cell: every
  # address here is below 4 GiB.
  fdt set /chosen \#address-cells <1>
  fdt set /chosen \#size-cells <1>
  fdt set /chosen xen,xen-bootargs "dom0_mem=512M,max:512M dom0_max_vcpus=2 sched=credit2 xsm=flask flask=enforcing console=dtuart dtuart=/pl011@9000000 bootscrub=0"
  fdt set /chosen xen,dom0-bootargs "console=hvc0 earlycon=xenboot rdinit=/sbin/init"
  fdt mknod /chosen module@49000000
  fdt set /chosen/module@49000000 compatible "xen,linux-zimage" "xen,multiboot-module"
  fdt set /chosen/module@49000000 reg <${tf_dom0_addr} ${tf_dom0_size}>
  fdt mknod /chosen module@4c000000
  fdt set /chosen/module@4c000000 compatible "xen,linux-initrd" "xen,multiboot-module"
  fdt set /chosen/module@4c000000 reg <${tf_initrd_addr} ${tf_initrd_size}>
  fdt mknod /chosen module@48800000
  fdt set /chosen/module@48800000 compatible "xen,xsm-policy" "xen,multiboot-module"
  fdt set /chosen/module@48800000 reg <${tf_xsm_addr} ${tf_xsm_size}>

  echo "twofold: booting Xen (dom0 ${tf_dom0_size} bytes, initramfs ${tf_initrd_size} bytes, xsm policy ${tf_xsm_size} bytes)"
  booti ${tf_xen_addr} - ${tf_fdt_addr}
  echo "twofold: ERROR: booti returned; Xen did not start"
else
  echo "twofold: ERROR: not booting Xen: a step above failed"
fi
