# lab test's checks of the secure persona's sealed storage (docs/security.md, "Sealed
# storage"; issue 15): the first unlock sets the PIN and starts the persona, a second power
# cycle with the same storage disk and TPM finds the data again, wrong PINs count down and
# the last one crypto-erases, and the storage image on the host holds no plaintext.
lab_pin=2468

# Types COMMAND on dom0's console, then INPUT once the command shows its "PIN of the persona"
# prompt (the CLI turns echo off first, so INPUT never reaches the serial log); prints what
# the command printed.
dom0_exec_pin() {  # run seconds command input
  local run=$1 t=$2 id=$RANDOM$RANDOM n0
  n0=$(grep -c 'PIN of the persona' "$run/serial.log" || true)
  local line="echo T-\$((0+$id))-B; $3; echo T-\$((0+$id))-E"
  { type_paced $'\025\r'"$line"$'\r'
    wait_for_log "$run" "T-$id-B" 30 && wait_for_count "$run" 'PIN of the persona' $((n0 + 1)) 30 && {
      type_paced "$4"$'\r'
      wait_for_log "$run" "T-$id-E" "$t"
    }
  } | timeout $((t + 70)) socat - "UNIX-CONNECT:$run/console.sock" >/dev/null 2>&1
  grep -q "T-$id-E" "$run/serial.log" || return 1
  awk -v b="T-$id-B" -v e="T-$id-E" '
    index($0, e) { exit }
    on { $1 = ""; $2 = ""; sub(/^  /, ""); print }
    index($0, b) { on = 1 }' "$run/serial.log"
}

# Boot 1, before anything waits for the secure persona: it is locked until its PIN is given.
keystore_first_unlock() {  # run
  local run=$1 out t0
  wait_for_log "$run" 'TWOFOLD-DOM0 persona secure locked|TWOFOLD-DOM0 persona secure created' 240 || true
  check_log "$run" "dom0 measured policy + secure images (PCR 11)" \
    'TWOFOLD-DOM0 measured into PCR 11: /var/lib/twofold/personas.toml [0-9a-f]{16};.*secure/Image [0-9a-f]{16};.*initramfs' \
    'TWOFOLD-DOM0 FAIL (no TPM|PCR 11)'
  check_log "$run" "secure locked until its PIN" 'TWOFOLD-DOM0 persona secure locked'
  t0=$SECONDS
  out=$(dom0_exec_pin "$run" 240 "twofold secure unlock" "$lab_pin" 2>&1) || true
  if grep -q 'secure: unlocked: /dev/mapper/twofold-secure-xvdb' <<<"$out"; then
    check_result "first unlock sets the PIN, starts secure" 0 "$(grep 'secure:' <<<"$out" | head -1) in $((SECONDS - t0)) s"
  else
    check_result "first unlock sets the PIN, starts secure" 1 "$(tr -s ' \n' ' ' <<<"$out" | cut -c1-300)"
  fi
}

keystore_boot1_checks() {  # run
  local run=$1 out
  check_log "$run" "secure data volume (dom0 holds the key)" \
    '\[secure\] TWOFOLD-CHECK secure data=ok mounted=/dev/xvdb write=ok boots=[0-9]+ ' 'TWOFOLD-CHECK secure data=FAIL'
  out=$(dom0_exec "$run" 60 'cat /sys/block/dm-*/dm/name; twofold secure status') || true
  if grep -q '^twofold-secure-xvdb' <<<"$out" && grep -q '^secure: unlocked' <<<"$out" && grep -q 'tries left: 5' <<<"$out"; then
    check_result "dom0: LUKS2 open in dom0, 5 tries" 0 "$(tr -s ' \n' ' ' <<<"$out" | cut -c1-200)"
  else
    check_result "dom0: LUKS2 open in dom0, 5 tries" 1 "$(tr -s ' \n' ' ' <<<"$out" | cut -c1-300)"
  fi
}

# Boot 2 on the same storage disk and TPM (state in the first run's folder).
keystore_second_boot() {  # run cpu
  local run=$1 cpu=$2 run2=$1/boot2 out first1 first2 i
  if [ -n "${lab_state_dir:-}" ]; then
    # It ends with a crypto-erase: never on a board state the user asked to keep.
    log "test: --state given: the second power cycle (PIN retries, wipe) is skipped"
    return 0
  fi
  log "test: power cycle 2 on the same storage disk and TPM (${run2#"$lab_root"/})"
  lab_state_dir=$run start_board "$run2" "$cpu"
  trap 'shutdown_board "'"$run2"'" 20 >/dev/null 2>&1 || true' EXIT
  wait_for_log "$run2" 'TWOFOLD-DOM0 persona secure locked' 240 || true
  check_log "$run2" "boot 2: secure locked again" 'TWOFOLD-DOM0 persona secure locked'
  out=$(dom0_exec_pin "$run2" 120 "twofold secure unlock" 1111 2>&1) || true
  if grep -q 'wrong PIN (4 tries left) \[wrong-pin\]' <<<"$out"; then
    check_result "boot 2: wrong PIN refused, 4 tries left" 0 "$(grep 'twofold:' <<<"$out" | head -1)"
  else
    check_result "boot 2: wrong PIN refused, 4 tries left" 1 "$(tr -s ' \n' ' ' <<<"$out" | cut -c1-300)"
  fi
  out=$(dom0_exec_pin "$run2" 240 "twofold secure unlock" "$lab_pin" 2>&1) || true
  wait_for_log "$run2" '\[secure\] TWOFOLD-CHECK secure data=' 240 || true
  first1=$(grep -aom1 'TWOFOLD-CHECK secure data=ok .* boots=1 first-boot=[0-9]*' "$run/serial.log" | sed 's/.*first-boot=//')
  # lab_state_dir is unset here: boot 1 started from a fresh storage disk, so it was boots=1.
  first2=$(grep -aom1 'TWOFOLD-CHECK secure data=ok .* boots=2 first-boot=[0-9]*' "$run2/serial.log" | sed 's/.*first-boot=//')
  if grep -q 'secure: unlocked' <<<"$out" && [ -n "$first1" ] && [ "$first1" = "$first2" ]; then
    check_result "boot 2: right PIN, data of boot 1 still there" 0 "boots=2, first-boot=$first2 written in boot 1"
  else
    check_result "boot 2: right PIN, data of boot 1 still there" 1 "unlock: $(tr -s ' \n' ' ' <<<"$out" | cut -c1-150); boot 1 first-boot=${first1:-?}; boot 2: $(grep -aom1 'TWOFOLD-CHECK secure data=.*' "$run2/serial.log" || echo none)"
  fi
  # The retry limit: lock, then five wrong PINs; the fifth crypto-erases.
  dom0_exec "$run2" 90 'twofold secure lock' >/dev/null || true
  for i in 1 2 3 4 5; do
    out=$(dom0_exec_pin "$run2" 120 "twofold secure unlock" "000$i" 2>&1) || true
  done
  if grep -q '\[wiped\]' <<<"$out"; then
    check_result "5th wrong PIN crypto-erases (audited)" 0 "$(grep 'twofold:' <<<"$out" | head -1)"
  else
    check_result "5th wrong PIN crypto-erases (audited)" 1 "last answer: $(tr -s ' \n' ' ' <<<"$out" | cut -c1-300)"
  fi
  out=$(dom0_exec "$run2" 60 'twofold secure status; grep -c "volume.wiped" /var/lib/twofold/audit/audit.log') || true
  if grep -q 'not provisioned' <<<"$out" && grep -qx '[1-9][0-9]*' <<<"$(tail -1 <<<"$out")"; then
    check_result "after the wipe: no key, wipe in the audit log" 0 "$(tr -s ' \n' ' ' <<<"$out" | cut -c1-200)"
  else
    check_result "after the wipe: no key, wipe in the audit log" 1 "$(tr -s ' \n' ' ' <<<"$out" | cut -c1-300)"
  fi
  trap - EXIT
  shutdown_board "$run2" 150 || true
  # The host's view of the board's disk: LUKS2 headers, never the plaintext the persona wrote.
  local luks plain
  luks=$(grep -ac $'LUKS\xba\xbe' "$run/storage.img" || true)
  plain=$(grep -ac 'TWOFOLD-PLAINTEXT-MARKER' "$run/storage.img" || true)
  if [ "${luks:-0}" -gt 0 ] && [ "${plain:-0}" -eq 0 ]; then
    check_result "storage image: LUKS2, no plaintext marker" 0 "LUKS headers: $luks blocks, marker: 0"
  else
    check_result "storage image: LUKS2, no plaintext marker" 1 "LUKS headers: ${luks:-0}, plaintext marker found ${plain:-0} times"
  fi
}
