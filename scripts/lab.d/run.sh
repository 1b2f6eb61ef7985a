# `lab up`, `down`, `console`, `status`: the running board. One board at a time; its run
# directory (lab-runs/<timestamp>/, git-ignored) holds the sockets, pid files and logs, and
# lab-runs/current points at it while it runs. Sourced by scripts/lab.

up_usage() {
  cat <<USAGE
usage: scripts/lab up [--cpu MODEL] [--uboot] [--no-build] [--state DIR]

Brings build/lab/images up to date (scripts/lab build; ~1 s when nothing changed) and boots
the board in the background:
Xen, dom0 (toolstack, libvirtd, personas), a fresh copy of the storage disk and a fresh TPM
(swtpm) per run, unless --state keeps them.
  serial console   scripts/lab console   (socket lab-runs/current/console.sock)
  serial log       lab-runs/current/serial.log, every line with host time and seconds since QEMU start
  display          VNC on 127.0.0.1 (port printed; virtio-gpu in dom0); virtio keyboard + tablet
  QMP              lab-runs/current/qmp.sock (send-key, screendump, system_powerdown = the
                   GPIO hardware key, which switches personas: twofold-manager grabs it)
  --cpu MODEL      QEMU CPU model instead of the board's (hypervisor-config/boards/qemu-virt/qemu-args)
  --no-build       boot the images as they are, without 'scripts/lab build' first
  --uboot          boot through Debian's qemu_arm64 U-Boot and the board's boot.scr
                   (hypervisor-config, scripts/lab.d/uboot.sh) instead of QEMU's guest-loader
  --state DIR      the board's persistent state: DIR/storage.img (copied from the build the
                   first time, kept afterwards) and DIR/tpm (swtpm's state: sealed objects,
                   dictionary-attack counters); PCRs start from zero at every power-on.
                   Delete DIR to start over.
Stop it with scripts/lab down.
USAGE
}

images_needed=(xen dom0-Image dom0-initramfs.cpio dom0-initramfs.cpio.gz dom0-storage.img xenpolicy)

# The direct path's device tree with the FLASK policy in it. QEMU's guest-loader can only
# describe a kernel or a ramdisk (compatible multiboot,kernel / multiboot,ramdisk), and Xen
# takes a second ramdisk for a ramdisk, not for a policy. So QEMU dumps the device tree it
# would give Xen (its own board plus the guest-loader modules and Xen's command line,
# -machine dumpdtb), fdtput adds the policy as a /chosen module of kind xen,xsm-policy at
# the board's XSM_POLICY_ADDR (hypervisor-config/boards/qemu-virt/memory-map, the slot the
# U-Boot path uses too), and the board boots with that tree (-dtb) and QEMU's generic
# loader puts the policy bytes there. Xen (flask=enforcing) then enforces it from boot.
board_dtb_with_policy() {  # run images qemu-boot-args...: writes run/board.dtb, sets XSM_POLICY_ADDR
  local run=$1 img=$2 map=$lab_root/hypervisor-config/boards/qemu-virt/memory-map out size node
  shift 2
  need_tools fdtput
  XSM_POLICY_ADDR=$(sed -n 's/^XSM_POLICY_ADDR=//p' "$map" | head -1)
  [[ $XSM_POLICY_ADDR =~ ^0x[0-9a-fA-F]+$ ]] || die "$map has no XSM_POLICY_ADDR"
  size=$(stat -c %s "$img/xenpolicy")
  [ "$size" -le $(($(sed -n 's/^XSM_POLICY_MAX=//p' "$map" | head -1))) ] \
    || die "build/lab/images/xenpolicy is $size bytes, larger than XSM_POLICY_MAX in $map"
  rm -f "$run/board.dtb"
  out=$(qemu-system-aarch64 "$@" -machine "dumpdtb=$run/board.dtb" -display none 2>&1) \
    && [ -s "$run/board.dtb" ] || die "QEMU did not dump the board's device tree: $out"
  # /chosen has no #address-cells of its own: two address and two size cells, as QEMU
  # writes the guest-loader modules beside it.
  node=/chosen/module@$(printf '%x' $((XSM_POLICY_ADDR)))
  fdtput -c "$run/board.dtb" "$node" \
    && fdtput -t s "$run/board.dtb" "$node" compatible xen,xsm-policy xen,multiboot-module \
    && fdtput -t x "$run/board.dtb" "$node" reg 0 "$(printf '%x' $((XSM_POLICY_ADDR)))" 0 "$(printf '%x' "$size")" \
    || die "fdtput could not add the xsm policy module to $run/board.dtb"
}

current_run() {  # prints the running board's run dir, or fails
  local run
  run=$(readlink -f "$lab_runs/current" 2>/dev/null) || return 1
  [ -f "$run/qemu.pid" ] && kill -0 "$(cat "$run/qemu.pid")" 2>/dev/null || return 1
  echo "$run"
}

# Copies QEMU's raw serial output to serial.log, one line at a time, prefixed with the host
# wall-clock time and the seconds since QEMU was started (the boot figures come from these).
serial_logger() {  # raw log start_us
  local raw=$1 start_us=$2 line t d
  tail -F -n +1 "$raw" 2>/dev/null | while IFS= read -r line; do
    t=${EPOCHREALTIME/./}; d=$((t - start_us)); line=${line%$'\r'}
    printf '%(%H:%M:%S)T.%03d +%d.%03d %s\n' "${t:0:10}" $(((t / 1000) % 1000)) \
      $((d / 1000000)) $(((d / 1000) % 1000)) "$line"
  done
}

qmp() {  # run json-commands...: prints QMP's replies
  local run=$1; shift
  { echo '{"execute":"qmp_capabilities"}'; printf '%s\n' "$@"; sleep 0.5; } \
    | timeout 10 socat - "UNIX-CONNECT:$run/qmp.sock" 2>/dev/null
}

# Types text in slices of 32 bytes, 0.15 s apart. Xen holds dom0's console input in a ring of
# 128 bytes (SERIAL_RX_SIZE, xen/drivers/char/console.c) and drops what does not fit; QEMU's
# UART takes a whole line at once, so a long line typed in one go lost its tail whenever dom0
# was slow to read (a loaded host, a flood): the line never ended and the console looked stuck.
type_paced() {  # text
  local text=$1 i
  for ((i = 0; i < ${#text}; i += 32)); do
    printf '%s' "${text:i:32}"
    sleep 0.15
  done
}

console_send() {  # run text: types one line on the serial console
  # Held open for a while: QEMU stops reading the socket when the UART's FIFO is full, and
  # whatever is still unread when the client disconnects is lost.
  # Output is read and dropped: a client that does not read stalls the UART (and Xen).
  # The leading Ctrl-U (the tty's line kill) drops whatever half line an earlier, interrupted
  # client left behind.
  { type_paced $'\025\r'"$2"$'\r'; sleep 3; } | timeout 20 socat - "UNIX-CONNECT:$1/console.sock" >/dev/null 2>&1
}

# Xen's debug keys, typed on the serial console: Ctrl-A three times hands the console's input
# to Xen, each key then dumps a part of its state to the serial log, and Ctrl-A three times
# hands the input back to dom0. Works while dom0 itself is stuck.
xen_debug_keys() {  # run keys
  local keys=$2 i
  { printf '\001\001\001'; sleep 1
    for ((i = 0; i < ${#keys}; i++)); do printf '%s' "${keys:i:1}"; sleep 2; done
    printf '\001\001\001'; sleep 2; } | timeout 60 socat - "UNIX-CONNECT:$1/console.sock" >/dev/null 2>&1
}

start_board() {  # run-dir cpu
  local run=$1 cpu=$2 img=$lab_images
  local f
  for f in "${images_needed[@]}"; do
    [ -f "$img/$f" ] || die "build/lab/images/$f is missing; run: scripts/lab build"
  done
  load_board_config
  mkdir -p "$run"
  # What the images were built from, beside what they did.
  [ -f "$img/packages.used" ] && cp "$img/packages.used" "$run/packages.used"
  start_modem_sim "$run"
  start_carrier "$run"
  # The board's state: its storage disk and its TPM. Fresh in the run folder unless a state
  # folder is named (--state), which keeps both from one power cycle to the next.
  local state=${lab_state_dir:-$run}
  mkdir -p "$state"
  if [ ! -f "$state/storage.img" ]; then
    cp --sparse=always "$img/dom0-storage.img" "$state/storage.img"
  elif [ "$state" != "$run" ]; then
    log "board state ${state#"$lab_root"/}: keeping its storage disk and TPM from the last power cycle"
  fi
  [ "$state" = "$run" ] || ln -sfn "$state/storage.img" "$run/storage.img"
  start_board_tpm "$run" "$state" "$img"
  : >"$run/serial.raw"
  local start_us=${EPOCHREALTIME/./}
  echo "$start_us" >"$run/start_us"
  {
    echo "# twofold lab run $(basename "$run"), QEMU started $(date -d "@${start_us:0:10}" '+%Y-%m-%d %H:%M:%S %Z')"
    echo "# xen command line ($XEN_CMDLINE_SOURCE): $XEN_CMDLINE"
  } >"$run/serial.log"
  setsid bash -c "$(declare -f serial_logger); serial_logger '$run/serial.raw' $start_us" \
    >>"$run/serial.log" 2>/dev/null </dev/null &
  echo $! >"$run/logger.pid"
  local i boot=()
  if [ "${lab_uboot:-0}" = 1 ]; then
    # The U-Boot path (hypervisor-config): firmware, boot disk with boot.scr, Xen, dom0
    # kernel and initramfs; our storage disk goes first so it stays dom0's /dev/vda.
    source "$lab_root/scripts/lab.d/uboot.sh"
    lab_uboot_prepare "$img" "$run" || die "U-Boot boot disk preparation failed"
    mapfile -t boot < <(lab_uboot_qemu_args "$run" "$run/storage.img")
    [ ${#boot[@]} -gt 0 ] || die "lab_uboot_qemu_args gave no arguments"
  else
    if [ -n "$cpu" ]; then
      for i in "${!BOARD_ARGS[@]}"; do
        [ "${BOARD_ARGS[$i]}" = -cpu ] && BOARD_ARGS[$((i + 1))]=$cpu
      done
    fi
    boot=("${BOARD_ARGS[@]}"
      -kernel "$img/xen" -append "$XEN_CMDLINE"
      -device "guest-loader,addr=0x49000000,kernel=$img/dom0-Image,bootargs=$DOM0_BOOTARGS"
      -device "guest-loader,addr=0x4c000000,initrd=$img/dom0-initramfs.cpio")
    board_dtb_with_policy "$run" "$img" "${boot[@]}"
    boot+=(-dtb "$run/board.dtb"
      -device "loader,file=$img/xenpolicy,addr=$XSM_POLICY_ADDR,force-raw=on"
      -drive "if=none,id=storage,file=$run/storage.img,format=raw"
      -device virtio-blk-device,drive=storage)
  fi
  # Display and input devices come before the boot arguments: virtio-mmio slots are given
  # out in command-line order, and the U-Boot path relies on its disks' slots.
  # Modern (virtio 1.0) MMIO transports: virtio-gpu and virtio-input are 1.0-only devices
  # and stay invisible to dom0 behind the virt board's default legacy transport.
  local tpm_args carrier_args
  mapfile -t tpm_args < <(tpm_qemu_args "$run")
  mapfile -t carrier_args < <(carrier_qemu_args "$run")
  local qemu=(qemu-system-aarch64 -name twofold-lab -global virtio-mmio.force-legacy=false
    -device virtio-gpu-device -device virtio-keyboard-device -device virtio-tablet-device
    -chardev "socket,id=modem,path=$run/modem.sock,reconnect=1"
    -device virtio-serial-device -device virtconsole,chardev=modem "${tpm_args[@]}"
    "${carrier_args[@]}"
    "${boot[@]}"
    -vnc 127.0.0.1:0,to=99
    -chardev "socket,id=ser0,path=$run/console.sock,server=on,wait=off,logfile=$run/serial.raw"
    -serial chardev:ser0
    -qmp "unix:$run/qmp.sock,server=on,wait=off" -monitor none
    -pidfile "$run/qemu.pid" -daemonize)
  printf '%q ' "${qemu[@]}" >"$run/qemu.cmdline"; echo >>"$run/qemu.cmdline"
  if ! "${qemu[@]}" >"$run/qemu.log" 2>&1; then
    cat "$run/qemu.log" >&2
    stop_logger "$run"; stop_modem_sim "$run"; stop_board_tpm "$run"; stop_carrier "$run"
    die "QEMU failed to start (command in $run/qemu.cmdline)"
  fi
  carrier_attach_board "$run"
  ln -sfn "$(basename "$run")" "$lab_runs/current"
}

# The board's modem (docs/modem.md): twofold-modem-sim on the host, behind a QEMU chardev
# that dom0 sees as its second virtio console, /dev/hvc1, a real tty. Its control socket
# injects calls and SMS (`scripts/lab modem`).
start_modem_sim() {  # run
  [ -x "$lab_sim" ] || die "${lab_sim#"$lab_root"/} is missing; run: scripts/lab build"
  setsid "$lab_sim" --socket "$1/modem.sock" --control "$1/modem-control.sock" \
    >"$1/modem-sim.log" 2>&1 </dev/null &
  echo $! >"$1/modem-sim.pid"
  local deadline=$((SECONDS + 10))
  until [ -S "$1/modem.sock" ] && [ -S "$1/modem-control.sock" ]; do
    [ $SECONDS -lt $deadline ] && kill -0 "$(cat "$1/modem-sim.pid")" 2>/dev/null \
      || die "twofold-modem-sim did not start: $(tail -3 "$1/modem-sim.log")"
    sleep 0.1
  done
}

stop_modem_sim() {  # run
  [ -f "$1/modem-sim.pid" ] || return 0
  kill "$(cat "$1/modem-sim.pid")" 2>/dev/null || true
  rm -f "$1/modem-sim.pid"
}

modem_control() {  # run line: one control line to the running board's modem, prints the reply
  printf '%s\n' "$2" | timeout 10 socat -t 5 - "UNIX-CONNECT:$1/modem-control.sock"
}

lab_modem() {
  case ${1:-} in
    ""|-h|--help)
      cat <<USAGE
usage: scripts/lab modem LINE   (one line to the board's modem simulator; prints its reply)

The board's modem is twofold-modem-sim on the host (docs/modem.md). Lines:
  call NUMBER | answer | busy | hangup | sms NUMBER TEXT | creg 0-5 | csq 0-31|99
  silent on|off | reset | state
e.g. scripts/lab modem 'sms +4915550001 hello'   (goes to the persona the policy routes it to)
USAGE
      [ -n "${1:-}" ]; return ;;
  esac
  need_tools socat
  local run
  run=$(current_run) || die "no board is running; scripts/lab up first"
  modem_control "$run" "$*"
}

stop_logger() {  # run
  [ -f "$1/logger.pid" ] || return 0
  sleep 0.5  # let the logger catch QEMU's last lines
  kill -- -"$(cat "$1/logger.pid")" 2>/dev/null || kill "$(cat "$1/logger.pid")" 2>/dev/null || true
  rm -f "$1/logger.pid"
}

vnc_address() {  # run: QEMU orders the JSON keys as it likes, so read each one on its own
  local reply host service
  reply=$(qmp "$1" '{"execute":"query-vnc"}' | grep '"service"' | head -1)
  host=$(grep -o '"host": *"[^"]*"' <<<"$reply" | sed -E 's/.*"([^"]*)"$/\1/')
  service=$(grep -o '"service": *"[0-9]*"' <<<"$reply" | sed -E 's/.*"([0-9]*)"$/\1/')
  [ -n "$host" ] && [ -n "$service" ] && echo "$host:$service (display :$((service - 5900)))"
}

lab_up() {
  local cpu="" build=1
  while [ $# -gt 0 ]; do
    case $1 in
      --cpu) cpu=$2; shift 2 ;;
      --uboot) lab_uboot=1; shift ;;
      --no-build) build=0; shift ;;
      --state) [ $# -ge 2 ] || die "up: --state needs a folder"; lab_state_dir=$(realpath -m "$2"); shift 2 ;;
      -h|--help) up_usage; return 0 ;;
      *) up_usage >&2; die "up: unknown argument '$1'" ;;
    esac
  done
  need_tools qemu-system-aarch64 socat
  local run
  if run=$(current_run); then die "a board is already running ($run); scripts/lab down first"; fi
  # The README's main command is `scripts/setup && scripts/lab up`: on a fresh clone this
  # builds everything; afterwards every build step is skipped.
  [ $build = 1 ] && lab_build

  mkdir -p "$lab_runs"
  run=$lab_runs/$(date +%Y%m%d-%H%M%S)
  start_board "$run" "$cpu"
  log "up: QEMU running (pid $(cat "$run/qemu.pid")), run dir ${run#"$lab_root"/}"
  log "up: serial log  ${run#"$lab_root"/}/serial.log"
  log "up: console     scripts/lab console"
  log "up: display     VNC $(vnc_address "$run")"
  log "up: QMP         ${run#"$lab_root"/}/qmp.sock"
  log "up: waiting for both personas (scripts/lab status shows progress)"
  if wait_for_log "$run" 'TWOFOLD-(NOT-)?READY secure' 150 && wait_for_log "$run" 'TWOFOLD-(NOT-)?READY personal' 10; then
    grep -hoE 'TWOFOLD-(NOT-)?READY [a-z]+' "$run/serial.log" | sed 's/^/[lab] /'
  else
    warn "the personas did not report within 150 s; see ${run#"$lab_root"/}/serial.log"
  fi
}

wait_for_log() {  # run regex seconds: waits until serial.log has a matching line
  local run=$1 re=$2 deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    grep -qE "$re" "$run/serial.log" 2>/dev/null && return 0
    [ -f "$run/qemu.pid" ] && kill -0 "$(cat "$run/qemu.pid")" 2>/dev/null || {
      sleep 0.6; grep -qE "$re" "$run/serial.log" 2>/dev/null; return; }
    sleep 0.2
  done
  return 1
}

wait_for_exit() {  # run seconds
  local pid deadline=$((SECONDS + $2))
  pid=$(cat "$1/qemu.pid" 2>/dev/null) || return 0
  while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}

down_usage() {
  cat <<USAGE
usage: scripts/lab down [--timeout SECONDS]

Shuts the running board down cleanly: types 'poweroff' on dom0's console; dom0 stops
twofold-manager (which seals the audit log), shuts both personas down through libvirt, then
halts, which halts Xen and ends QEMU. (The GPIO key is the persona switch key; the board
has no separate power key.) Falls back to QMP 'quit' (reported as unclean, exit status 1).
  --timeout SECONDS   how long to wait for each step (default 60)
USAGE
}

# Clean shutdown; returns 0 when QEMU ended by itself, 1 when it had to be killed.
shutdown_board() {  # run timeout
  local run=$1 t=$2 rc=0 try
  # dom0's console sometimes takes no input for a while (docs/lab.md): typed again, bounded,
  # until dom0 says it got the request.
  for try in 1 2 3; do
    console_send "$run" "poweroff"
    wait_for_log "$run" 'TWOFOLD-DOM0 shutdown requested' 20 && break
    kill -0 "$(cat "$run/qemu.pid" 2>/dev/null)" 2>/dev/null || break
    warn "dom0 did not take 'poweroff' in 20 s; typing it again"
  done
  if ! wait_for_exit "$run" "$t"; then
    warn "QEMU still running after 'poweroff'; quitting it (unclean)"
    qmp "$run" '{"execute":"quit"}' >/dev/null
    wait_for_exit "$run" 10 || kill "$(cat "$run/qemu.pid")" 2>/dev/null || true
    rc=1
  fi
  stop_logger "$run"; stop_modem_sim "$run"; stop_board_tpm "$run"; stop_carrier "$run"
  [ "$(readlink -f "$lab_runs/current" 2>/dev/null)" = "$run" ] && rm -f "$lab_runs/current"
  return $rc
}

lab_down() {
  local t=60
  while [ $# -gt 0 ]; do
    case $1 in
      --timeout) t=$2; shift 2 ;;
      -h|--help) down_usage; return 0 ;;
      *) down_usage >&2; die "down: unknown argument '$1'" ;;
    esac
  done
  need_tools socat
  local run
  run=$(current_run) || { rm -f "$lab_runs/current"; log "down: no board is running"; return 0; }
  log "down: powering off from dom0's console"
  if shutdown_board "$run" "$t"; then
    log "down: board powered off cleanly; serial log ${run#"$lab_root"/}/serial.log"
  else
    die "board did not power off by itself; serial log ${run#"$lab_root"/}/serial.log"
  fi
}

lab_console() {
  case ${1:-} in
    -h|--help) echo "usage: scripts/lab console   (attach to dom0's serial console; Ctrl-] detaches)"; return 0 ;;
  esac
  need_tools socat
  local run
  run=$(current_run) || die "no board is running; scripts/lab up first"
  if [ -t 0 ]; then
    echo "lab: attached to ${run#"$lab_root"/}/console.sock; Ctrl-] detaches"
    socat -,raw,echo=0,escape=0x1d "UNIX-CONNECT:$run/console.sock"
    echo
  else
    socat - "UNIX-CONNECT:$run/console.sock"
  fi
}

lab_status() {
  case ${1:-} in
    -h|--help) echo "usage: scripts/lab status   (is a board running; its sockets, display, markers)"; return 0 ;;
  esac
  local run
  if ! run=$(current_run); then echo "lab: no board is running"; return 1; fi
  echo "lab: running, QEMU pid $(cat "$run/qemu.pid"), run dir ${run#"$lab_root"/}"
  echo "lab: console ${run#"$lab_root"/}/console.sock, QMP ${run#"$lab_root"/}/qmp.sock, VNC $(vnc_address "$run")"
  grep -hE 'TWOFOLD-(DOM0|READY|NOT-READY)' "$run/serial.log" | tail -12
}
