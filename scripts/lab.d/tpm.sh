# The board's TPM 2.0 (docs/security.md, "Sealed storage"): Debian's swtpm on the host, one
# per board run, its state kept in the board's state folder so that what is sealed and the
# dictionary-attack counters survive a power cycle, while the PCRs start from zero at each
# one, as on hardware. dom0 reaches it through a virtio-serial port (guests/src/tpm_relay.c
# says why). Sourced by scripts/lab.

# PCRs the emulated board's firmware extends before Xen runs (the host stands in for a
# measuring boot loader; on a real board U-Boot's measured boot, docs/boards.md). dom0
# extends PCR 12 itself with what it loads later.
tpm_pcr_xen=8 tpm_pcr_dom0=9

tpm_cmd() {  # run tpm2-tool args...: one tpm2-tools command on the board's swtpm (QEMU not attached)
  local run=$1; shift
  timeout 20 "$@" -T "cmd:socat - UNIX-CONNECT:$run/tpm.sock"
}

# What the board's firmware measures, one "pcr file" line each, in extend order.
tpm_boot_measurements() {  # images-dir
  printf '%s %s\n' "$tpm_pcr_xen" "$1/xen"
  if [ "${lab_uboot:-0}" = 1 ]; then
    printf '%s %s\n' "$tpm_pcr_dom0" "$1/dom0-Image" "$tpm_pcr_dom0" "$1/dom0-initramfs.cpio.gz"
  else
    printf '%s %s\n' "$tpm_pcr_dom0" "$1/dom0-Image" "$tpm_pcr_dom0" "$1/dom0-initramfs.cpio"
  fi
}

# The value a PCR holds after extending these sha256 digests into zero, in order.
tpm_expected_pcr() {  # digest...
  python3 - "$@" <<'PY'
import hashlib, sys
pcr = bytes(32)
for d in sys.argv[1:]:
    pcr = hashlib.sha256(pcr + bytes.fromhex(d)).digest()
print(pcr.hex())
PY
}

start_board_tpm() {  # run state-dir images-dir
  local run=$1 state=$2 img=$3 pcr file digest
  need_tools swtpm tpm2_pcrextend
  mkdir -p "$state/tpm"
  swtpm socket --tpm2 --tpmstate "dir=$state/tpm" \
    --server "type=unixio,path=$run/tpm.sock" --ctrl "type=unixio,path=$run/tpm-ctrl.sock" \
    --flags startup-clear --pid "file=$run/swtpm.pid" --log "file=$run/swtpm.log,level=1" \
    --daemon || die "swtpm did not start (log: $run/swtpm.log)"
  : >"$run/tpm-measurements"
  while read -r pcr file; do
    digest=$(sha256sum "$file" | cut -d' ' -f1)
    tpm_cmd "$run" tpm2_pcrextend "$pcr:sha256=$digest" >/dev/null \
      || die "could not extend PCR $pcr of the board's swtpm (log: $run/swtpm.log)"
    echo "$pcr $digest ${file#"$lab_root"/}" >>"$run/tpm-measurements"
  done < <(tpm_boot_measurements "$img")
  echo "$state" >"$run/state-dir"
}

stop_board_tpm() {  # run
  [ -f "$1/swtpm.pid" ] || return 0
  # Power removed: swtpm writes its permanent state as it changes, so a signal loses only what
  # a real TPM loses (PCRs, sessions, loaded objects).
  kill "$(cat "$1/swtpm.pid")" 2>/dev/null || true
  rm -f "$1/swtpm.pid"
}

# QEMU's side: the swtpm data socket as a named virtio-serial port of dom0.
tpm_qemu_args() {  # run
  printf '%s\n' -chardev "socket,id=tpm,path=$1/tpm.sock,reconnect=1" \
    -device virtserialport,chardev=tpm,name=org.twofold.tpm
}
