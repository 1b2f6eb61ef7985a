# Shared helpers for scripts/lab: paths, progress lines, tool checks. Sourced, not run.

lab_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
lab_cache=$lab_root/.cache/lab
lab_build=$lab_root/build/lab
lab_images=$lab_build/images
lab_runs=$lab_root/lab-runs
lab_start=$SECONDS

log() { printf '[lab %4ds] %s\n' $((SECONDS - lab_start)) "$*"; }
warn() { printf 'lab: warning: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

# Every host tool the lab uses, with the Debian package that ships it, so a missing one
# produces an error that says what to install rather than "command not found" mid-build.
declare -A lab_tool_package=(
  [qemu-system-aarch64]=qemu-system-arm [qemu-img]=qemu-utils [cpio]=cpio [modinfo]=kmod
  [depmod]=kmod [mksquashfs]=squashfs-tools [veritysetup]=cryptsetup-bin
  [cryptsetup]=cryptsetup-bin [mkfs.ext4]=e2fsprogs [socat]=socat [zstd]=zstd [xz]=xz-utils
  [dpkg-deb]=dpkg [apt-get]=apt [apt-cache]=apt [gzip]=gzip [cmake]=cmake [ninja]=ninja-build
  [aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu [aarch64-linux-gnu-readelf]=binutils-aarch64-linux-gnu
  [truncate]=coreutils [sha256sum]=coreutils [flock]=util-linux [swtpm]=swtpm
  [tpm2_pcrextend]=tpm2-tools [python3]=python3 [fdtput]=device-tree-compiler
  [ip]=iproute2 [wg]=wireguard-tools [wireguard-go]=wireguard-go [dnsmasq]=dnsmasq-base
  [tcpdump]=tcpdump [erl]=erlang-base [epmd]=erlang-base [openssl]=openssl
)

need_tools() {
  local t missing=()
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t (package ${lab_tool_package[$t]:-unknown})")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    printf 'lab: error: missing host tools: %s\n' "${missing[*]}" >&2
    printf 'lab: install them with: scripts/setup --only lab,arm64\n' >&2
    exit 1
  fi
}

need_arm64_arch() {
  dpkg --print-foreign-architectures | grep -qx arm64 \
    || die "the arm64 architecture is not enabled for apt; run: scripts/setup --only arm64,lab"
}

# Reads hypervisor-config/dom0.conf and xen-cmdline (owned by the hypervisor-config side)
# when present; the defaults below keep the lab usable without them.
load_board_config() {
  DOM0_MEM=512M DOM0_VCPUS=2
  DOM0_BOOTARGS="console=hvc0 earlycon=xenboot rdinit=/sbin/init"
  local conf=$lab_root/hypervisor-config/dom0.conf key value
  if [ -f "$conf" ]; then
    # Read, never sourced: only the keys the lab uses, values without quotes.
    while IFS='=' read -r key value; do
      case $key in
        DOM0_MEM|DOM0_VCPUS|DOM0_BOOTARGS)
          value=${value#\"}; value=${value%\"}; printf -v "$key" '%s' "$value" ;;
      esac
    done <"$conf"
  fi
  XEN_CMDLINE="dom0_mem=$DOM0_MEM,max:$DOM0_MEM dom0_max_vcpus=$DOM0_VCPUS console=dtuart dtuart=/pl011@9000000 bootscrub=0"
  XEN_CMDLINE_SOURCE="scripts/lab default"
  local cmdfile=$lab_root/hypervisor-config/xen-cmdline
  if [ -f "$cmdfile" ]; then
    XEN_CMDLINE=$(grep -vE '^\s*(#|$)' "$cmdfile" | head -1)
    [ -n "$XEN_CMDLINE" ] || die "$cmdfile has no command line"
    XEN_CMDLINE_SOURCE=${cmdfile#"$lab_root"/}
  fi
  # The board's machine flags (CPU, memory, GIC...), one argument a line.
  BOARD_ARGS=(-machine virt,virtualization=on,gic-version=3 -cpu max -smp 2 -m 2048
    -accel tcg,thread=multi -no-reboot -nic none)
  local args=$lab_root/hypervisor-config/boards/qemu-virt/qemu-args line
  if [ -f "$args" ]; then
    BOARD_ARGS=()
    while IFS= read -r line; do
      [[ $line =~ ^[[:space:]]*(#|$) ]] || BOARD_ARGS+=("$line")
    done <"$args"
  fi
}
