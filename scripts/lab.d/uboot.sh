# The U-Boot boot path of the emulated board: QEMU starts Debian's qemu_arm64 U-Boot
# (package u-boot-qemu), whose distro boot finds /boot/boot.scr on a virtio disk, loads
# Xen, the dom0 kernel and initramfs from that disk and boots Xen with booti, exactly as
# a real board's U-Boot would (compare hypervisor-config/boards/rpi4/boot.cmd).
# The guest-loader path in scripts/lab skips the firmware; this one proves the board
# profile, the boot script and the image layout.
#
# A bash library: `source scripts/lab.d/uboot.sh`, then call the lab_uboot_* functions.
# It works under `set -euo pipefail` and defines no global variables; a function that
# finds a problem says what on stderr and returns non-zero, it never calls exit.
#
#   lab_uboot_prepare IMAGES_DIR OUT_DIR        boot.scr + boot disk OUT_DIR/uboot-disk.img
#   lab_uboot_qemu_args OUT_DIR [DISK...]      QEMU arguments, one per line
#   lab_uboot_test IMAGES_DIR OUT_DIR [MARKER] [TIMEOUT_S] [DISK...]
#                                               prepare, boot unattended, wait for MARKER
#   lab_uboot_boot OUT_DIR [MARKER] [TIMEOUT_S] [DISK...]   the same on a prepared disk
#   lab_uboot_make_scr BOOT_CMD OUT_SCR         compile a U-Boot script with mkimage
#   lab_xen_cmdline / lab_board_file            read hypervisor-config
# IMAGES_DIR holds xen, dom0-Image, dom0-initramfs.cpio.gz and xenpolicy (the FLASK policy
# Xen enforces from boot, a xen,xsm-policy module; scripts/lab build writes them to
# build/lab/images/).

_lab_uboot_err() { printf 'lab uboot: error: %s\n' "$*" >&2; }
_lab_uboot_log() { printf 'lab uboot: %s\n' "$*" >&2; }

# The repository root, from this file's location (no global state to keep in sync).
_lab_uboot_repo() { (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd); }

_lab_uboot_firmware() { printf '%s\n' /usr/lib/u-boot/qemu_arm64/u-boot.bin; }

# Board files live in hypervisor-config/boards/<board>/; the emulated board is qemu-virt.
lab_board_file() {  # BOARD FILE
  local f
  f=$(_lab_uboot_repo)/hypervisor-config/boards/$1/$2
  [ -f "$f" ] || { _lab_uboot_err "board file $f is missing"; return 1; }
  printf '%s\n' "$f"
}

# Xen's command line: the first non-comment line of hypervisor-config/xen-cmdline.
lab_xen_cmdline() {
  local f line
  f=$(_lab_uboot_repo)/hypervisor-config/xen-cmdline
  [ -f "$f" ] || { _lab_uboot_err "$f is missing"; return 1; }
  while IFS= read -r line; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    printf '%s\n' "$line"; return 0
  done <"$f"
  _lab_uboot_err "$f has no command line"; return 1
}

# One value of a KEY=VALUE file (memory-map, dom0.conf), read without sourcing it so
# that nothing leaks into the caller's shell.
_lab_uboot_conf() {  # FILE KEY
  local key value
  while IFS='=' read -r key value; do
    [ "$key" = "$2" ] || continue
    value=${value#\"}; value=${value%\"}
    printf '%s\n' "$value"; return 0
  done <"$1"
  _lab_uboot_err "$1 has no $2"; return 1
}

_lab_uboot_need_tools() {
  local t pkg missing=()
  for t in mkimage:u-boot-tools mkfs.ext4:e2fsprogs qemu-system-aarch64:qemu-system-arm \
           truncate:coreutils dd:coreutils timeout:coreutils; do
    pkg=${t#*:}; t=${t%%:*}
    command -v "$t" >/dev/null 2>&1 || missing+=("$t (package $pkg)")
  done
  [ -f "$(_lab_uboot_firmware)" ] || missing+=("$(_lab_uboot_firmware) (package u-boot-qemu)")
  if [ ${#missing[@]} -gt 0 ]; then
    _lab_uboot_err "missing: ${missing[*]}; install with scripts/setup --only lab"
    return 1
  fi
}

lab_uboot_make_scr() {  # BOOT_CMD OUT_SCR
  [ -f "$1" ] || { _lab_uboot_err "boot script source $1 is missing"; return 1; }
  local out
  if ! out=$(mkimage -A arm64 -O linux -T script -C none -n "twofold $(basename "$(dirname "$1")")" \
               -d "$1" "$2" 2>&1); then
    _lab_uboot_err "mkimage failed on $1: $out"; return 1
  fi
}

# 4 bytes little-endian as printf escapes, for the partition table below.
_lab_uboot_le32() {
  printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) \
    $(($1 >> 16 & 255)) $(($1 >> 24 & 255))
}

# A disk image with an MBR and one bootable Linux partition holding STAGE_DIR as ext4.
# U-Boot's distro boot scans partitions (a whole-disk filesystem without a partition
# table is refused as partition 1). Built without root, loop devices or fdisk: mke2fs
# writes the filesystem at the partition's offset, the 16-byte MBR entry is written here.
_lab_uboot_disk_image() {  # STAGE_DIR OUT_IMG
  local stage=$1 img=$2 first_lba=2048 used_kib fs_mib sectors entry out
  used_kib=$(du -sk "$stage" | cut -f1)
  # Headroom for ext4 metadata (inode tables, directories) on top of the file data.
  fs_mib=$((used_kib * 5 / 4 / 1024 + 16))
  sectors=$((fs_mib * 2048))
  rm -f "$img"
  truncate -s $(((first_lba + sectors) * 512)) "$img"
  # No journal: nothing writes to a boot partition at run time and U-Boot only reads.
  if ! out=$(mkfs.ext4 -q -F -O ^has_journal -L twofold-boot -E "offset=$((first_lba * 512)),root_owner=0:0" \
               -d "$stage" "$img" "${fs_mib}M" 2>&1); then
    _lab_uboot_err "mkfs.ext4 failed: $out"; return 1
  fi
  # Partition entry: active (0x80), CHS fields unused (0xfe 0xff 0xff), type 0x83 Linux,
  # then first LBA and length in sectors.
  entry="\\x80\\xfe\\xff\\xff\\x83\\xfe\\xff\\xff$(_lab_uboot_le32 $first_lba)$(_lab_uboot_le32 $sectors)"
  printf "$entry" | dd of="$img" bs=1 seek=446 conv=notrunc status=none
  printf '\x55\xaa' | dd of="$img" bs=1 seek=510 conv=notrunc status=none
}

# Builds OUT_DIR/boot.scr and OUT_DIR/uboot-disk.img from IMAGES_DIR. Sizes are checked
# against boards/qemu-virt/memory-map here, before the emulator runs, with a message that
# names the image and its slot.
lab_uboot_prepare() {  # IMAGES_DIR OUT_DIR
  [ $# -eq 2 ] || { _lab_uboot_err "usage: lab_uboot_prepare IMAGES_DIR OUT_DIR"; return 2; }
  local images=$1 out=$2 map cmd f key size max
  _lab_uboot_need_tools || return 1
  map=$(lab_board_file qemu-virt memory-map) || return 1
  cmd=$(lab_board_file qemu-virt boot.cmd) || return 1
  for f in xen:XEN_MAX dom0-Image:DOM0_KERNEL_MAX dom0-initramfs.cpio.gz:DOM0_INITRD_MAX \
           xenpolicy:XSM_POLICY_MAX; do
    key=${f#*:}; f=${f%%:*}
    [ -f "$images/$f" ] || { _lab_uboot_err "$images/$f is missing (run scripts/lab build)"; return 1; }
    size=$(stat -c %s "$images/$f")
    max=$(_lab_uboot_conf "$map" "$key") || return 1
    if [ "$size" -gt $((max)) ]; then
      _lab_uboot_err "$f is $size bytes; its slot in $map holds $((max)) ($key)"; return 1
    fi
  done
  mkdir -p "$out"
  rm -rf "$out/uboot-stage"
  mkdir -p "$out/uboot-stage/boot"
  cp "$images/xen" "$images/dom0-Image" "$images/dom0-initramfs.cpio.gz" "$images/xenpolicy" \
    "$out/uboot-stage/boot/"
  lab_uboot_make_scr "$cmd" "$out/uboot-stage/boot/boot.scr" || return 1
  cp "$out/uboot-stage/boot/boot.scr" "$out/boot.scr"
  _lab_uboot_disk_image "$out/uboot-stage" "$out/uboot-disk.img" || return 1
  rm -rf "$out/uboot-stage"
}

# QEMU arguments for the U-Boot path, one per line (read them with mapfile -t): the
# board's machine flags, U-Boot as firmware, the extra raw DISKs, then the boot disk.
# Order matters, as seen on this board: QEMU gives the last virtio-mmio device on the
# command line the lowest transport address, and both U-Boot and Linux number virtio
# disks from the lowest address. The boot disk, given last, is therefore U-Boot's virtio0
# (the only virtio disk distro boot scans) and dom0's /dev/vda; the DISKs follow as
# /dev/vdb, /dev/vdc... in dom0, which must find its storage by filesystem label, not by
# /dev/vda. Console and display flags are the caller's; further virtio block devices
# must go before these arguments, never after.
lab_uboot_qemu_args() {  # OUT_DIR [DISK...]
  local disk=$1/uboot-disk.img args line n=0 extra
  [ -f "$disk" ] || { _lab_uboot_err "$disk is missing (run lab_uboot_prepare)"; return 1; }
  shift
  args=$(lab_board_file qemu-virt qemu-args) || return 1
  while IFS= read -r line; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] || printf '%s\n' "$line"
  done <"$args"
  printf '%s\n' -bios "$(_lab_uboot_firmware)"
  for extra in "$@"; do
    [ -f "$extra" ] || { _lab_uboot_err "disk image $extra is missing"; return 1; }
    printf '%s\n' -drive "if=none,id=disk$n,format=raw,file=$extra" -device "virtio-blk-device,drive=disk$n"
    n=$((n + 1))
  done
  # Read-only: neither U-Boot nor dom0 has a reason to write the boot disk.
  printf '%s\n' -drive "if=none,id=bootdisk,format=raw,readonly=on,file=$disk" \
    -device virtio-blk-device,drive=bootdisk
}

# Prefixes each serial line with seconds since START (an $EPOCHREALTIME value), so the
# kept log shows where boot time goes.
_lab_uboot_stamp() {  # START
  local line start_us=${1//[!0-9]/} us
  while IFS= read -r line || [ -n "$line" ]; do
    us=$((${EPOCHREALTIME//[!0-9]/} - start_us))
    printf '[%4d.%03d] %s\n' $((us / 1000000)) $((us / 1000 % 1000)) "${line//$'\r'/}"
  done
}

# Seconds (from the log's stamps) at which PATTERN first appeared, or nothing.
_lab_uboot_seen_at() {  # LOG PATTERN
  grep -m1 -F -- "$2" "$1" 2>/dev/null | sed -E 's/^\[ *([0-9.]+)\].*/\1/' || true
}

# Boots the board through U-Boot unattended and waits for MARKER on the serial console
# (default "as init process": dom0's kernel started its init, which any dom0 initramfs
# reaches). DISKs are attached before the boot disk (see lab_uboot_qemu_args), e.g. dom0's
# storage image, which dom0 then sees as /dev/vdb. Prints when each boot phase appeared
# and keeps the serial log in OUT_DIR. Returns 0 when the marker was seen within
# TIMEOUT_S seconds (default 180), 1 otherwise (early, if the boot script failed or a
# kernel panicked).
lab_uboot_test() {  # IMAGES_DIR OUT_DIR [MARKER] [TIMEOUT_S] [DISK...]
  [ $# -ge 2 ] || { _lab_uboot_err "usage: lab_uboot_test IMAGES_DIR OUT_DIR [MARKER] [TIMEOUT_S] [DISK...]"; return 2; }
  lab_uboot_prepare "$1" "$2" || return 1
  shift
  lab_uboot_boot "$@"
}

# The boot half of lab_uboot_test, on the boot disk already in OUT_DIR.
lab_uboot_boot() {  # OUT_DIR [MARKER] [TIMEOUT_S] [DISK...]
  [ $# -ge 1 ] || { _lab_uboot_err "usage: lab_uboot_boot OUT_DIR [MARKER] [TIMEOUT_S] [DISK...]"; return 2; }
  local out=$1 marker=${2:-as init process} limit=${3:-180}
  shift $(($# < 3 ? $# : 3))
  [[ $limit =~ ^[1-9][0-9]*$ ]] || { _lab_uboot_err "timeout '$limit' is not whole seconds"; return 2; }
  local log pidfile start qargs=() pipe_pid deadline rc=1 phase at
  lab_uboot_qemu_args "$out" "$@" >/dev/null || return 1
  mapfile -t qargs < <(lab_uboot_qemu_args "$out" "$@")
  log=$out/uboot-serial-$(date -u +%Y%m%dT%H%M%SZ).log
  pidfile=$out/uboot-qemu.pid
  rm -f "$pidfile"
  _lab_uboot_log "booting U-Boot -> boot.scr -> Xen -> dom0 (limit ${limit}s), serial log $log"
  start=$EPOCHREALTIME
  # timeout bounds QEMU even if this shell dies; the pidfile lets us stop it early once
  # the marker is seen (a real dom0 keeps running).
  { timeout -k 5 "$limit" qemu-system-aarch64 "${qargs[@]}" -display none -monitor none \
      -serial stdio -pidfile "$pidfile" </dev/null 2>&1
    echo "lab uboot: qemu exited with status $?"
  } | _lab_uboot_stamp "$start" >"$log" &
  pipe_pid=$!
  deadline=$((SECONDS + limit + 10))
  while [ $SECONDS -lt $deadline ]; do
    if grep -q -F -- "$marker" "$log"; then rc=0; break; fi
    # A boot script that gave up (its last line, after every error it found) falls back
    # to the rest of distro boot and ends at U-Boot's prompt; a panic never prints the
    # marker. Either way, stop now, not at the limit.
    if grep -q -E 'twofold: ERROR: (not booting Xen|booti returned)|SCRIPT FAILED|Kernel panic|\(XEN\) Panic|Hardware Dom0 (halted|shutdown)' "$log" \
        && ! grep -q -F -- "$marker" "$log"; then
      break
    fi
    kill -0 "$pipe_pid" 2>/dev/null || break
    sleep 0.5
  done
  # Stop our QEMU (only the one whose pid it wrote) if it is still running.
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
  fi
  wait "$pipe_pid" 2>/dev/null || true
  rm -f "$pidfile"
  for phase in "U-Boot 20|U-Boot started" "twofold: boot.scr|boot.scr found" \
               "Xen version 4.|Xen started" "Booting Linux on physical CPU|dom0 kernel started" \
               "as init process|dom0 init started" "$marker|marker '$marker'"; do
    at=$(_lab_uboot_seen_at "$log" "${phase%%|*}")
    [ -n "$at" ] && at=${at}s
    printf '  %-40s %s\n' "${phase#*|}" "${at:-not seen}" >&2
  done
  if [ $rc -ne 0 ]; then
    _lab_uboot_err "marker '$marker' not seen; serial log kept at $log"
    tail -n 25 "$log" >&2
  fi
  return $rc
}
