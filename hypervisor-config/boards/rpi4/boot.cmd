# twofold: U-Boot script for the Raspberry Pi 4 Model B.
# Compile: hypervisor-config/make-boot-scr rpi4 OUT (mkimage -A arm64 -O linux
# -T script -C none). U-Boot's rpi_arm64 distro boot (boot_targets mmc0 ..., prefixes
# "/ /boot/") finds boot.scr on the SD card's FAT partition and sets devtype, devnum,
# distro_bootpart and prefix; the loads below reuse them.
#
# Addresses: boards/rpi4/memory-map. Xen command line: boards/rpi4/xen-cmdline. dom0
# command line: DOM0_BOOTARGS in hypervisor-config/dom0.conf (the same dom0 as on the
# emulated board). hypervisor-config/tests/check-config fails if they disagree.
# The structure is the one booted in the emulator (boards/qemu-virt/boot.cmd); the
# differences are the addresses, Xen's console and where the device tree comes from.

echo "twofold: boot.scr from ${devtype} ${devnum}:${distro_bootpart} prefix ${prefix}"

setenv tf_xen_addr 0x00200000
setenv tf_xen_max 0x02000000
setenv tf_fdt_addr 0x02600000
setenv tf_fdt_size 0x00100000
setenv tf_dom0_addr 0x03000000
setenv tf_dom0_max 0x03000000
setenv tf_initrd_addr 0x06000000
setenv tf_xsm_addr 0x02200000
setenv tf_xsm_max 0x00200000
setenv tf_initrd_max 0x2a000000

# Every step records a failure in tf_ok and Xen is booted only if all succeeded: U-Boot's
# hush does not end a sourced script on `exit` inside an if (seen here: the script went
# on to booti after a failed load), so no step may rely on stopping the script.
setenv tf_ok yes

# The device tree is the one the Pi firmware loaded (bcm2711-rpi-4-b.dtb with
# config.txt applied: real memory size, enabled UART, GIC). U-Boot's rpi board code
# records where the firmware left it in $fdt_addr (config.txt pins that address). Copy it
# to its slot with room to grow, first, before any image load could land on the original.
if fdt addr ${fdt_addr}; then
  echo "twofold: firmware device tree at ${fdt_addr}"
else
  echo "twofold: ERROR: no device tree from the firmware (config.txt device_tree=)"; setenv tf_ok no
fi
if fdt move ${fdt_addr} ${tf_fdt_addr} ${tf_fdt_size}; then
  echo "twofold: device tree copied to ${tf_fdt_addr}"
else
  echo "twofold: ERROR: cannot copy the device tree to its slot"; setenv tf_ok no
fi
# Use the tree in place: rpi_arm64's environment already says so, stated here because
# the memory map relies on it.
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
  fdt set /chosen xen,xen-bootargs "dom0_mem=1024M,max:1024M dom0_max_vcpus=2 sched=credit2 xsm=flask flask=enforcing console=dtuart dtuart=/soc/serial@7e215040"
  fdt set /chosen xen,dom0-bootargs "console=hvc0 earlycon=xenboot rdinit=/sbin/init"
  fdt mknod /chosen module@3000000
  fdt set /chosen/module@3000000 compatible "xen,linux-zimage" "xen,multiboot-module"
  fdt set /chosen/module@3000000 reg <${tf_dom0_addr} ${tf_dom0_size}>
  fdt mknod /chosen module@6000000
  fdt set /chosen/module@6000000 compatible "xen,linux-initrd" "xen,multiboot-module"
  fdt set /chosen/module@6000000 reg <${tf_initrd_addr} ${tf_initrd_size}>
  fdt mknod /chosen module@2200000
  fdt set /chosen/module@2200000 compatible "xen,xsm-policy" "xen,multiboot-module"
  fdt set /chosen/module@2200000 reg <${tf_xsm_addr} ${tf_xsm_size}>

  echo "twofold: booting Xen (dom0 ${tf_dom0_size} bytes, initramfs ${tf_initrd_size} bytes, xsm policy ${tf_xsm_size} bytes)"
  booti ${tf_xen_addr} - ${tf_fdt_addr}
  echo "twofold: ERROR: booti returned; Xen did not start"
else
  echo "twofold: ERROR: not booting Xen: a step above failed"
fi
