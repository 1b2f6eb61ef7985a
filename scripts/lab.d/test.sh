# `lab test`: build, boot unattended, check, shut down, print boot figures. Every check is
# read from the run's timestamped serial log (dom0 relays the personas' consoles into it) or
# asked of dom0 through its serial console. Sourced by scripts/lab.

test_usage() {
  cat <<USAGE
usage: scripts/lab test [--no-build] [--skip-dom0-binaries] [--lock FILE] [--state DIR] [--timeout SECONDS] [--cpu MODEL] [--uboot]

Builds the images (skipped steps are free), boots the board in a fresh run directory,
and checks unattended, printing PASS/FAIL per check and a final 'lab: N passed, N failed':
  Xen up; dom0 up; dom0's storage, toolstack and libvirtd up; libvirt lists both personas
  running; each persona's readiness marker; the personal persona's binder device
  (BINDER_VERSION ioctl) and PV frontends; the secure persona's dm-verity root, dm-crypt data
  volume, absence of camera/GPS/Wi-Fi/Bluetooth/USB drivers and devices and of network (its
  own report, and dom0's view of its devices in xenstore); dom0's display; a clean shutdown
  (poweroff on dom0's console -> manager stops -> personas shut down -> dom0 halts -> QEMU
  exits); with twofold-manager: `twofold status`, a switch by the GPIO hardware key and by
  `twofold switch`, each with a QMP screen dump kept in the run folder, keys typed through
  QMP across a hardware-key switch in each direction (none in the wrong persona), and
  `twofold audit verify` of the board's audit log (after power-off: every switch in its
  three phases, checks-switch.sh).
Then prints boot time per phase from the serial log's host timestamps. Exit status 0 only
when every check passed; the serial log is kept in lab-runs/<timestamp>/ either way.
  --no-build            use build/lab/images as they are
  --skip-dom0-binaries  passed to 'lab build'
  --lock FILE           passed to 'lab build' (a lock other than guests/packages.lock)
  --state DIR           keep the board's storage disk and TPM in DIR across runs ('lab up --help')
  --timeout SECONDS     bound for the boot up to both personas ready (default 180)
  --cpu MODEL           QEMU CPU model instead of the board's
  --uboot               boot through U-Boot and the board's boot.scr (see 'lab up --help')
USAGE
}

test_pass=0 test_fail=0
check_result() {  # name ok(0/1) detail
  if [ "$2" = 0 ]; then
    printf 'PASS  %-34s %s\n' "$1" "$3"; test_pass=$((test_pass + 1))
  else
    printf 'FAIL  %-34s %s\n' "$1" "$3"; test_fail=$((test_fail + 1))
  fi
}
# A check of something an open issue has not delivered yet: a PASS counts as one; otherwise
# it is printed as GAP with the issue, kept out of both counts, and listed in the summary so
# nobody reads the run as having proved it.
test_gaps=()
check_gap() {  # issue name ok(0/1) detail
  if [ "$3" = 0 ]; then check_result "$2" 0 "$4"; return; fi
  printf 'GAP   %-34s (issue %s: not working yet) %s\n' "$2" "$1" "$4"; test_gaps+=("$2 (issue $1)")
}

# First serial-log line matching an extended regex (without the timestamps), or nothing.
log_line() { grep -m1 -E "$2" "$1/serial.log" 2>/dev/null | cut -d' ' -f3- || true; }
# Seconds since QEMU start of the first matching line, or nothing.
log_time() { grep -m1 -E "$2" "$1/serial.log" 2>/dev/null | cut -d' ' -f2 | tr -d + || true; }

check_log() {  # run name regex [fail-regex]: PASS when regex is seen (and fail-regex is not)
  local line bad=""
  line=$(log_line "$1" "$3")
  [ -n "${4:-}" ] && bad=$(log_line "$1" "$4")
  if [ -n "$line" ] && [ -z "$bad" ]; then check_result "$2" 0 "$line"
  else check_result "$2" 1 "${bad:-not seen: /$3/}"; fi
}

# dom0's serial console sometimes takes no input for a while after heavy guest I/O (seen after
# the modem flood: up to 90 s, dom0 and Xen idle meanwhile; cause not found, docs/lab.md). Waits,
# bounded, until a no-op round trip works; prints how long that took.
wait_dom0_console() {  # run seconds
  local t0=$SECONDS
  while [ $((SECONDS - t0)) -lt "$2" ]; do
    if dom0_exec "$1" 15 true >/dev/null; then echo $((SECONDS - t0)); return 0; fi
  done
  return 1
}

# Types a command on dom0's console and prints its output: the lines between its begin and
# end markers (computed by the shell, so the echoed command line never matches them). The
# console connection stays open until the end marker shows (QEMU drops input that the UART
# has not taken yet when the client disconnects) and its output is read and dropped: a
# client that does not read stalls QEMU's UART, and with it Xen's console and dom0.
# The line is typed in paced slices (type_paced, run.sh: Xen's 128-byte console input ring).
# Should a line still go unanswered for $console_echo_wait s, the client disconnects and types
# it again, Ctrl-U first (the tty's line kill drops a half-received line). A line that did
# arrive in full may then run twice: the commands the tests type are queries or idempotent
# (`twofold switch X`).
console_echo_wait=15
dom0_exec() {  # run seconds command
  local run=$1 t=$2 id=$RANDOM$RANDOM deadline attempt=1 hold
  local line="echo T-\$((0+$id))-B; $3; echo T-\$((0+$id))-E"
  deadline=$((SECONDS + t))
  while :; do
    hold=$((deadline - SECONDS)); [ "$hold" -gt 0 ] || hold=1
    { type_paced $'\025\r'"$line"$'\r'
      wait_for_log "$run" "T-$id-B" "$((hold < console_echo_wait ? hold : console_echo_wait))" \
        && wait_for_log "$run" "T-$id-E" "$((deadline - SECONDS))"
    } | timeout $((hold + 5)) socat - "UNIX-CONNECT:$run/console.sock" >/dev/null 2>&1
    grep -q "T-$id-B" "$run/serial.log" && break
    [ $SECONDS -lt "$deadline" ] || return 1
    attempt=$((attempt + 1)); echo "$3" >>"$run/console-retries"
    echo "  (dom0 console: no answer to '$3' in ${console_echo_wait} s; typing it again, attempt $attempt)" >&2
  done
  # The connection was held until the end marker showed or the time was up.
  grep -q "T-$id-E" "$run/serial.log" || return 1
  awk -v b="T-$id-B" -v e="T-$id-E" '
    index($0, e) { exit }
    on { $1 = ""; $2 = ""; sub(/^  /, ""); print }
    index($0, b) { on = 1 }' "$run/serial.log"
}

print_figures() {  # run
  local run=$1 name re t prev=0 both=""
  echo "boot figures (seconds since QEMU start, from the serial log's host timestamps):"
  while IFS='|' read -r name re; do
    t=$(log_time "$run" "$re")
    if [ -z "$t" ]; then printf '  %-24s %8s\n' "$name" "-"; continue; fi
    awk -v n="$name" -v t="$t" -v p="$prev" 'BEGIN { printf "  %-24s %8.2f  (+%.2f)\n", n, t, t - p }'
    prev=$t
  done <<'PHASES'
Xen up|\(XEN\) Xen version
dom0 kernel|Booting Linux on physical CPU|\] Linux version
dom0 init|TWOFOLD-DOM0 init
dom0 storage|TWOFOLD-DOM0 storage mounted
Xen toolstack up|TWOFOLD-DOM0 xen toolstack up
libvirtd up|TWOFOLD-DOM0 toolstack-up libvirtd
personal created|TWOFOLD-DOM0 persona personal created
secure created|TWOFOLD-DOM0 persona secure created
PHASES
  local tp ts
  tp=$(log_time "$run" 'TWOFOLD-READY personal'); ts=$(log_time "$run" 'TWOFOLD-READY secure')
  printf '  %-24s %8s\n' "personal ready" "${tp:--}" "secure ready" "${ts:--}"
  if [ -n "$tp" ] && [ -n "$ts" ]; then
    both=$(printf '%s\n%s\n' "$tp" "$ts" | sort -g | tail -1)
    printf '  %-24s %8s   (goal: < 30 s)\n' "both personas ready" "$both"
  fi
  FIGURE_BOTH=$both
}

# The manager on the board: status, a switch by the GPIO hardware key and one by the CLI,
# each visible in `twofold status`, on the screen (QMP screen dumps, kept in the run folder,
# checked for the foreground persona's pattern and indicator) and in where typed keys go;
# then the audit log, which must verify intact.
foreground_of() { sed -n 's/^foreground: \([a-z-]*\).*/\1/p' <<<"$1" | head -1; }
wait_foreground() {  # run persona: polls `twofold status` (bounded); prints what it saw last
  local t0=$SECONDS fg=""
  while [ $((SECONDS - t0)) -lt 40 ]; do
    fg=$(foreground_of "$(dom0_exec "$1" 30 'twofold status')")
    [ "$fg" = "$2" ] && break
    sleep 1
  done
  echo "$fg"
}
check_screen() {  # run name file persona
  local out rc=0
  screendump "$1" "$3"
  sleep 1
  out=$(python3 "$lab_root/vmm/display/tools/check-screendump" "$1/$3" "$4" 2>&1) || rc=1
  check_result "$2" $rc "$3: $(tr '\n' ' ' <<<"$out" | cut -c1-200)"
}
# A touch on the board's tablet (QMP input-send-event: a position, then the left button down
# and up) reaches persona only, at the position the input backend scales it to: the tablet's
# 0..32767 onto the guests' --width/--height from backends.toml (docs/input.md).
check_touch() {  # run name x y persona other
  local w h gx gy before_other after_other
  read -r w h < <(grep -oE '"--(width|height)", "[0-9]+"' "$lab_root/guests/dom0/rootfs/etc/twofold/backends.toml" \
    | grep -oE '[0-9]+' | head -2 | paste -sd' ')
  gx=$(($3 * (w - 1) / 32767)); gy=$(($4 * (h - 1) / 32767))
  before_other=$(grep -cE "\[$6\] .*TWOFOLD-(PTR $6 |KEY $6 code=272 )" "$1/serial.log" || true)
  qmp "$1" "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":[{\"type\":\"abs\",\"data\":{\"axis\":\"x\",\"value\":$3}},{\"type\":\"abs\",\"data\":{\"axis\":\"y\",\"value\":$4}}]}}" \
    '{"execute":"input-send-event","arguments":{"events":[{"type":"btn","data":{"down":true,"button":"left"}}]}}' \
    '{"execute":"input-send-event","arguments":{"events":[{"type":"btn","data":{"down":false,"button":"left"}}]}}' >/dev/null
  local missed=0
  wait_for_log "$1" "\[$5\] .*TWOFOLD-PTR $5 x=$gx y=$gy" 20 && wait_for_log "$1" "\[$5\] .*TWOFOLD-KEY $5 code=272 value=0" 20 \
    || missed=1
  after_other=$(grep -cE "\[$6\] .*TWOFOLD-(PTR $6 |KEY $6 code=272 )" "$1/serial.log" || true)
  report_exclusive "$2" $missed "$before_other" "$after_other" \
    "tablet ($3,$4) -> $5 at ($gx,$gy) of ${w}x$h, button down/up; nothing at $6" "the touch also reached $6" \
    "$5 saw no position ($gx,$gy) with a button release: $(grep -E "\[$5\] .*TWOFOLD-(PTR|CHECK $5 pointer)" "$1/serial.log" | tail -n 3 | tr -d '\r' | tr '\n' ';')"
}
# The verdict on input meant for one persona: it did not miss it (missed 0), and the other
# persona's matching lines did not grow meanwhile.
report_exclusive() {  # name missed other-lines-before other-lines-after pass-detail leaked-detail missing-detail
  if [ "$2" != 0 ]; then
    check_result "$1" 1 "$7"
  elif [ "$4" = "$3" ]; then
    check_result "$1" 0 "$5"
  else
    check_result "$1" 1 "$6"
  fi
}
check_key() {  # run name qmp-key code persona other: the key reaches persona and not other
  local before_other after_other missed=0
  before_other=$(grep -c "\[$6\] .*TWOFOLD-KEY $6 code=$4 " "$1/serial.log" || true)
  qmp "$1" "{\"execute\":\"send-key\",\"arguments\":{\"keys\":[{\"type\":\"qcode\",\"data\":\"$3\"}]}}" >/dev/null
  wait_for_log "$1" "\[$5\] .*TWOFOLD-KEY $5 code=$4 value=0" 20 || missed=1
  after_other=$(grep -c "\[$6\] .*TWOFOLD-KEY $6 code=$4 " "$1/serial.log" || true)
  report_exclusive "$2" $missed "$before_other" "$after_other" \
    "key $3 (code $4) reached $5 only" "key $3 (code $4) also reached $6" "key $3 (code $4) never reached $5"
}
# The resident memory of dom0's control plane and backends on the board: a figure for
# docs/benchmarks.md (issue 4's goal is measured by the manager benchmark), not a check.
# VmRSS counts shared library pages in every process that maps them; Pss shares them out.
print_dom0_memory() {  # run
  local out
  out=$(dom0_exec "$1" 30 'for n in twofold-manager twofold-libvirt-broker libvirtd twofold-display-backend twofold-input-backend twofold-vkbd-backend twofold-modem-backend; do for p in $(pidof $n); do echo "RSS $n $(grep VmRSS /proc/$p/status) $(grep ^Pss: /proc/$p/smaps_rollup)"; done; done' | tr -d '\r') || out=""
  awk '$1 == "RSS" && $4 ~ /^[0-9]+$/ && $7 ~ /^[0-9]+$/ {
         printf "%s%s %.1f (Pss %.1f)", sep, $2, $4 / 1024, $7 / 1024; sep = ", "; rss += $4; pss += $7 }
       END { if (rss) printf "; MiB; Pss total %.1f MiB\n", pss / 1024; else print "not read" }' <<<"$out" \
    | sed 's/^/dom0 memory (VmRSS): /'
}

check_manager() {  # run
  local run=$1 out fg
  out=$(dom0_exec "$run" 60 'twofold status') || out=""
  fg=$(foreground_of "$out")
  if grep -qE '^personal +personal +running' <<<"$out" && grep -qE '^secure +secure +running' <<<"$out" && [ "$fg" = personal ]; then
    check_result "twofold status (manager)" 0 "foreground=$fg; $(grep -E '^(personal|secure) ' <<<"$out" | tr -s ' ' | tr '\n' ';')"
  else
    check_result "twofold status (manager)" 1 "$(tr -s ' \n' ' ' <<<"$out" | cut -c1-300)"
  fi
  print_dom0_memory "$run"
  if grep -qE '^display +[0-9]+ +running' <<<"$out" && grep -qE '^input +[0-9]+ +running' <<<"$out" \
     && grep -qE '^modem +[0-9]+ +running' <<<"$out"; then
    check_result "backends running (status)" 0 "$(grep -E '^(display|input|modem) ' <<<"$out" | tr -s ' ' | tr '\n' ';')"
  else
    check_result "backends running (status)" 1 "$(tr -s ' \n' ' ' <<<"$out" | cut -c1-300)"
  fi
  # The manager reaches libvirt only through twofold-libvirt-broker (docs/manager.md): running,
  # under its own user, with a seccomp filter (Seccomp: 2 is filter mode).
  local broker confinement
  broker=$(grep -oE '^libvirt: xen:///system via broker \(pid [0-9]+\)' <<<"$out" | grep -oE '[0-9]+\)$' | tr -d ')' || true)
  if [ -n "$broker" ]; then
    confinement=$(dom0_exec "$run" 30 "grep -E '^(Uid|Seccomp):' /proc/$broker/status; grep '^twofold-libvirt:' /etc/passwd | cut -d: -f3" | tr -d '\r')
  fi
  if [ -n "$broker" ] && awk '/^Uid:/ { uid = $2 } /^Seccomp:/ { sc = $2 } /^[0-9]+$/ { want = $1 }
       END { exit !(uid != "" && uid == want && sc == 2) }' <<<"$confinement"; then
    check_result "libvirt broker confined (status)" 0 "$(grep -E '^libvirt: ' <<<"$out"); $(tr '\n\t' '; ' <<<"$confinement" | tr -s ' ')"
  else
    check_result "libvirt broker confined (status)" 1 "$(grep -E '^libvirt: ' <<<"$out" || echo 'no libvirt line in twofold status'); ${confinement:-}"
  fi
  wait_for_log "$run" '\[personal\] .*TWOFOLD-CHECK personal fb=' 60 || true
  wait_for_log "$run" '\[secure\] .*TWOFOLD-CHECK secure fb=' 60 || true
  check_log "$run" "personal draws on its PV framebuffer" '\[personal\] .*TWOFOLD-CHECK personal fb=drawn' 'personal fb=FAIL'
  check_log "$run" "secure draws on its PV framebuffer" '\[secure\] .*TWOFOLD-CHECK secure fb=drawn' 'secure fb=FAIL'
  sleep 2
  check_screen "$run" "screen shows personal" screen-1-personal.ppm personal
  check_key "$run" "typed key reaches personal only" a 30 personal secure
  check_touch "$run" "touch reaches personal only" 8192 24576 personal secure

  log "test: pressing the GPIO hardware key (QMP system_powerdown)"
  qmp "$run" '{"execute":"system_powerdown"}' >/dev/null
  fg=$(wait_foreground "$run" secure)
  if [ "$fg" != secure ] && ! dom0_exec "$run" 30 'grep -c "hardware key: press" /var/log/twofold/manager.log' \
       | tr -d '\r' | grep -qx '[1-9][0-9]*'; then
    # QEMU pulses the GPIO line for 100 ms; on a loaded host gpio-keys can sample the line
    # after the pulse and report nothing. The manager saw no press at all: press once more.
    log "test: the manager saw no key press (QEMU's pulse ended before gpio-keys sampled it); pressing again"
    qmp "$run" '{"execute":"system_powerdown"}' >/dev/null
    fg=$(wait_foreground "$run" secure)
  fi
  check_result "hardware key switches to secure" "$([ "$fg" = secure ] && echo 0 || echo 1)" "twofold status: foreground=${fg:-?}"
  check_screen "$run" "screen shows secure after the key" screen-2-secure.ppm secure
  check_key "$run" "typed key reaches secure only" b 48 secure personal
  check_touch "$run" "touch reaches secure only" 24576 8192 secure personal

  out=$(dom0_exec "$run" 60 'twofold switch personal') || out=""
  fg=$(wait_foreground "$run" personal)
  check_result "twofold switch personal" "$([ "$fg" = personal ] && grep -q '^foreground: personal' <<<"$out" && echo 0 || echo 1)" \
    "$(tr -s ' \n' ' ' <<<"$out" | cut -c1-200); status foreground=${fg:-?}"
  check_screen "$run" "screen shows personal after the CLI" screen-3-personal.ppm personal
  check_switch_order "$run"   # checks-switch.sh

  out=$(dom0_exec "$run" 60 'twofold audit verify --public-key /var/lib/twofold/audit-signing-key.pem.pub /var/lib/twofold/audit') || out=""
  if grep -q INTACT <<<"$out"; then
    check_result "audit log verifies on the board" 0 "$(grep INTACT <<<"$out" | head -1)"
  else
    check_result "audit log verifies on the board" 1 "$(tr -s ' \n' ' ' <<<"$out" | cut -c1-300)"
  fi
  check_audit_full_disk "$run"   # checks-audit.sh
}

# The modem (issue 6, docs/modem.md "On the board"): twofold-modem-sim on the host is the
# board's modem on dom0's /dev/hvc1; each persona has its virtual modem on its own /dev/hvc1
# through the modem backend. The personas' probes (guests/src/modem_probe.c) report what
# they see and take orders by SMS, so every order reaches only the persona the policy routes
# it to (incoming_default = "foreground" on this board).
seen_count() {  # run persona regex: how many of that persona's relayed lines match
  grep -cE "\[$2\] .*($3)" "$1/serial.log" || true
}
switch_to() {  # run persona
  dom0_exec "$1" 60 "twofold switch $2" >/dev/null || true
  [ "$(wait_foreground "$1" "$2")" = "$2" ]
}
probe_line() {  # run regex: the first matching line, from its TWOFOLD- marker on (no shell prompt)
  log_line "$1" "$2" | sed -E 's/.*(TWOFOLD-(AT|SMS) )/\1/'
}
re_quote() { sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$1"; }
sms_order() {  # run persona number text: an SMS the simulator delivers; waits until persona read it
  modem_control "$1" "sms $3 $4" >/dev/null
  wait_for_log "$1" "\\[$2\\] .*TWOFOLD-SMS $2 index=[0-9]+ from=$(re_quote "$3") text=$(re_quote "$4")[[:space:]]*\$" 40
}
wait_for_count() {  # run regex count seconds: waits until serial.log has count matching lines
  local deadline=$((SECONDS + $4))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(grep -cE "$2" "$1/serial.log" || true)" -ge "$3" ] && return 0
    sleep 0.5
  done
  return 1
}
check_modem() {  # run
  local run=$1 p out rc n_ring_secure n_nc_personal ping_base ping_flood
  wait_for_log "$run" '\[personal\] .*TWOFOLD-CHAT personal chat=' 90 || true
  check_log "$run" "chat (Debian ppp) through mediator" '\[personal\] .*TWOFOLD-CHAT personal chat=ok' 'TWOFOLD-CHAT personal chat=FAIL'
  for p in personal secure; do
    wait_for_log "$run" "\\[$p\\] .*TWOFOLD-AT $p (ready|init=FAIL)" 90 || true
    check_log "$run" "$p virtual modem answers" "\\[$p\\] .*TWOFOLD-AT $p ready cgmi=" "TWOFOLD-AT $p init=FAIL"
    # Evidence for a modem line that never came up (seen once, on a heavily loaded host): both
    # ends of the persona's console/1 in xenstore, and what the modem backend logged of it.
    if ! grep -qE "\\[$p\\] .*TWOFOLD-AT $p ready cgmi=" "$run/serial.log"; then
      dom0_exec "$run" 60 "id=\$(virsh -c xen:///system domid $p); xenstore-ls -f /local/domain/\$id/device/console; xenstore-ls -f /local/domain/0/backend/console/\$id; grep \"console \$id/1\" /var/log/twofold/manager.log" \
        >"$run/modem-$p-xenstore.txt" 2>&1 || true
      echo "  ($p's modem line in xenstore and the backend's log: ${run#"$lab_root"/}/modem-$p-xenstore.txt)"
    fi
  done

  # Foreground personal: an SMS and a call reach personal, and nothing of them reaches secure.
  if sms_order "$run" personal +4915550001 hello-personal \
     && [ "$(seen_count "$run" secure 'hello-personal|4915550001')" = 0 ]; then
    check_result "SMS to the foreground (personal)" 0 "$(probe_line "$run" '\[personal\] .*TWOFOLD-SMS personal .*hello-personal')"
  else
    check_result "SMS to the foreground (personal)" 1 "personal read it: $(seen_count "$run" personal 'TWOFOLD-SMS personal .*hello-personal'), secure saw it: $(seen_count "$run" secure 'hello-personal|4915550001') (dom0's console relay: ${run#"$lab_root"/}/relay-state.txt)"
    # Every later modem check reads the personas' relayed console lines: when none arrive,
    # the relay's own state (xenconsoled's logs, the tail processes, /var/log's room) says why.
    dom0_exec "$run" 60 'df -k /var/log /var/lib/twofold; ls -la /var/log/xen/console; ps -o pid,stat,args | grep -E "xenconsoled|tail -n|twofold-(modem|manager)" | grep -v grep; for f in /var/log/xen/console/guest-*.log; do echo "== $f"; tail -n 5 "$f"; done; tail -n 20 /var/log/twofold/manager.log' \
      >"$run/relay-state.txt" 2>&1 || true
  fi
  modem_control "$run" 'call +4915550002' >/dev/null
  wait_for_log "$run" '\[personal\] .*TWOFOLD-AT personal urc \+CLIP: "\+4915550002"' 20 && rc=0 || rc=1
  modem_control "$run" hangup >/dev/null
  wait_for_log "$run" '\[personal\] .*TWOFOLD-AT personal urc NO CARRIER' 20 || rc=1
  [ "$(seen_count "$run" secure 'RING|4915550002|NO CARRIER')" = 0 ] || rc=1
  check_result "incoming call rings personal only" $rc "personal RING lines: $(seen_count "$run" personal 'urc RING'), secure: $(seen_count "$run" secure 'urc RING|4915550002')"

  # Foreground secure: the secure persona dials; the personal persona sees no trace of it.
  switch_to "$run" secure || check_result "modem: switch to secure" 1 "twofold switch secure did not take"
  sms_order "$run" secure +4915550003 'do:dial +4930123456' || true
  wait_for_log "$run" '\[secure\] .*TWOFOLD-AT secure calls=' 30 || true
  out=$(modem_control "$run" state)
  if log_line "$run" '\[secure\] .*TWOFOLD-AT secure dial \+4930123456 -> OK' | grep -q . \
     && log_line "$run" '\[secure\] .*TWOFOLD-AT secure calls=1' | grep -q . \
     && grep -q '"number":"+4930123456"' <<<"$out"; then
    check_result "secure dials (modem has the call)" 0 "$(grep -o '"calls":\[[^]]*\]' <<<"$out")"
  else
    check_result "secure dials (modem has the call)" 1 "secure: $(probe_line "$run" '\[secure\] .*TWOFOLD-AT secure (dial|calls)'); modem: $(cut -c1-200 <<<"$out")"
  fi
  n_nc_personal=$(seen_count "$run" personal 'urc NO CARRIER')
  switch_to "$run" personal || check_result "modem: switch to personal" 1 "twofold switch personal did not take"
  if sms_order "$run" personal +4915550005 do:clcc \
     && wait_for_log "$run" '\[personal\] .*TWOFOLD-AT personal calls=[0-9]+ \(' 30 \
     && log_line "$run" '\[personal\] .*TWOFOLD-AT personal calls=0 \(OK\)' | grep -q . \
     && [ "$(seen_count "$run" personal '4930123456|do:dial')" = 0 ]; then
    check_result "personal sees no trace of the call" 0 "personal +CLCC during secure's call: $(probe_line "$run" '\[personal\] .*TWOFOLD-AT personal calls=')"
  else
    check_result "personal sees no trace of the call" 1 "$(probe_line "$run" '\[personal\] .*TWOFOLD-AT personal calls='); lines naming the number: $(seen_count "$run" personal '4930123456|do:dial')"
  fi
  modem_control "$run" hangup >/dev/null   # the remote party hangs up secure's call
  if wait_for_log "$run" '\[secure\] .*TWOFOLD-AT secure urc NO CARRIER' 20 && sleep 2 \
     && [ "$(seen_count "$run" personal 'urc NO CARRIER')" = "$n_nc_personal" ]; then
    check_result "hang-up reaches secure only" 0 "$(probe_line "$run" '\[secure\] .*TWOFOLD-AT secure urc NO CARRIER')"
  else
    check_result "hang-up reaches secure only" 1 "secure NO CARRIER lines: $(seen_count "$run" secure 'urc NO CARRIER'), personal: $(seen_count "$run" personal 'urc NO CARRIER') (was $n_nc_personal)"
  fi

  # Foreground secure again: an incoming call and an SMS follow it, personal is never told.
  switch_to "$run" secure || true
  n_ring_secure=$(seen_count "$run" secure 'urc RING')
  modem_control "$run" 'call +4915550004' >/dev/null
  # RING only: caller id (+CLIP) is the supplementary family, not granted to secure here.
  wait_for_count "$run" '\[secure\] .*TWOFOLD-AT secure urc RING' $((n_ring_secure + 1)) 20 && rc=0 || rc=1
  modem_control "$run" hangup >/dev/null
  sms_order "$run" secure +4915550006 hello-secure || rc=1
  [ "$(seen_count "$run" personal '4915550004|4915550006|hello-secure')" = 0 ] || rc=1
  check_result "call and SMS routed to secure" $rc "secure RING lines $n_ring_secure -> $(seen_count "$run" secure 'urc RING'); personal lines naming them: $(seen_count "$run" personal '4915550004|4915550006|hello-secure')"

  # The policy's sms_per_hour bounds what a persona can send (docs/modem.md, "SMS send
  # budget"); each persona's budget is its own. Secure (in the foreground) sends two, then
  # personal tries five more than its budget at once.
  local budget sms_secure sms_personal
  # The persona's own name only (its [[persona.network]] tables have names too).
  budget=$(awk '/^\[/ { top = ($0 == "[[persona]]") } /^\[\[persona\]\]/ { p = "" } /^name = / && top { p = $3 } /^sms_per_hour/ && p == "\"personal\"" { print $3 }' \
    "$lab_root/policy/lab-board.toml")
  sms_order "$run" secure +4915550010 'do:sms 2' || true
  wait_for_log "$run" '\[secure\] .*TWOFOLD-AT secure sms done' 60 || true
  switch_to "$run" personal || true
  sms_order "$run" personal +4915550011 "do:sms $((budget + 5))" || true
  wait_for_log "$run" '\[personal\] .*TWOFOLD-AT personal sms done' 300 || true
  switch_to "$run" secure || true
  sms_secure=$(log_line "$run" '\[secure\] .*TWOFOLD-AT secure sms done' | sed 's/.*sms done //' | tr -d '\r')
  sms_personal=$(log_line "$run" '\[personal\] .*TWOFOLD-AT personal sms done' | sed 's/.*sms done //' | tr -d '\r')
  # Sending takes a while under emulation: one more send may have been refilled meanwhile.
  if [[ $sms_secure == "n=2 sent=2 refused=0 other=0 "* ]] \
     && awk -v s="$sms_personal" -v b="$budget" 'BEGIN { split(s, f, /[ =]/); n = f[2] + 0; sent = f[4] + 0; refused = f[6] + 0; other = f[8] + 0
          exit !(b > 0 && n == b + 5 && sent >= b && sent <= b + 2 && sent + refused == n && other == 0) }'; then
    check_result "SMS sends within the persona's budget" 0 "personal (sms_per_hour = $budget): $sms_personal; secure: $sms_secure"
  else
    check_result "SMS sends within the persona's budget" 1 "personal (sms_per_hour = ${budget:-?}): ${sms_personal:-none}; secure: ${sms_secure:-none}"
  fi

  # A flood from personal does not stall secure: secure's AT+CGMI round trips, alone and
  # while personal writes hostile bytes as fast as its ring takes them.
  # A stall is what it catches (the per-command deadline extension held the line for
  # minutes); under TCG on a loaded 2-core host a served ping has taken up to 3 s (board runs
  # of 2026-12-06), so the bound is 5 s, not the 2 s an idle machine keeps.
  sms_order "$run" secure +4915550007 'do:ping 5' || true
  wait_for_log "$run" '\[secure\] .*TWOFOLD-AT secure ping done' 30 || true
  ping_base=$(log_line "$run" '\[secure\] .*TWOFOLD-AT secure ping done' | sed 's/.*ping done //' | tr -d '\r')
  sms_order "$run" secure +4915550008 'do:ping 40' || true
  switch_to "$run" personal || true
  sms_order "$run" personal +4915550009 'do:flood 10' || true
  wait_for_log "$run" '\[personal\] .*TWOFOLD-AT personal flood done' 90 || true
  wait_for_count "$run" '\[secure\] .*TWOFOLD-AT secure ping done' 2 60 || true
  local flooded_done t_ping0 t_ping1 t_flood0 t_flood1 flood
  flooded_done=$(grep -E '\[secure\] .*TWOFOLD-AT secure ping done' "$run/serial.log" | sed -n 2p | tr -d '\r' || true)
  ping_flood=${flooded_done##*ping done }
  t_ping1=$(cut -d' ' -f2 <<<"$flooded_done" | tr -d +)
  t_ping0=$(log_time "$run" '\[secure\] .*TWOFOLD-AT secure ping start seconds=40')
  t_flood0=$(log_time "$run" '\[personal\] .*TWOFOLD-AT personal flood start')
  t_flood1=$(log_time "$run" '\[personal\] .*TWOFOLD-AT personal flood done')
  flood=$(log_line "$run" '\[personal\] .*TWOFOLD-AT personal flood done' | sed 's/.*flood done //' | tr -d '\r')
  echo "modem flood figures: secure AT+CGMI alone: ${ping_base:-?}; during personal's flood: ${ping_flood:-?}; flood: ${flood:-?} (t ${t_flood0:-?}-${t_flood1:-?} s, pings ${t_ping0:-?}-${t_ping1:-?} s)"
  if [ -n "$t_ping0" ] && [ -n "$t_ping1" ] && [ -n "$t_flood0" ] && [ -n "$t_flood1" ] \
     && awk -v a="$t_ping0" -v b="$t_flood0" -v c="$t_flood1" -v d="$t_ping1" 'BEGIN { exit !(a < b && b + 10 <= d) }' \
     && [[ $flood == *"after=OK"* ]] \
     && awk -v s="$ping_flood" 'BEGIN { split(s, f, /[ =]/); n=f[2]+0; ok=f[4]+0; mx=f[10]+0; exit !(n > 20 && ok == n && mx < 5000) }'; then
    check_result "personal flood does not stall secure" 0 "secure during flood: $ping_flood; personal: $flood"
  else
    check_result "personal flood does not stall secure" 1 "secure during flood: ${ping_flood:-none}; personal: ${flood:-none}; times ping ${t_ping0:-?}-${t_ping1:-?} flood ${t_flood0:-?}-${t_flood1:-?}"
  fi

  local waited
  if waited=$(wait_dom0_console "$run" 240); then
    if [ "$waited" -gt 0 ]; then log "test: dom0's console answered again after ${waited} s (docs/lab.md, known issues)"; fi
  else
    check_result "dom0 console after the flood" 1 "no answer on dom0's serial console for 240 s"
  fi
}

# The modem's audit records, read from the board's storage disk after power-off (debugfs), not
# through dom0's console: after the flood the console can be slow to take input (docs/lab.md).
check_modem_audit() {  # run
  local run=$1 log calls secure_calls sms refuse summaries hashed clear
  debugfs -R "rdump /audit $run" "$run/storage.img" >/dev/null 2>&1 || true
  log=$(cat "$run"/audit/audit-*.log 2>/dev/null || true)
  if [ -z "$log" ]; then check_result "modem audit records, numbers hashed" 1 "no audit log on the storage disk"; return; fi
  calls=$(grep -c '"kind":"modem.call"' <<<"$log" || true)
  secure_calls=$(grep '"kind":"modem.call"' <<<"$log" | grep -c '"persona":"secure"' || true)
  sms=$(grep -c '"kind":"modem.sms"' <<<"$log" || true)
  refuse=$(grep -c '"kind":"modem.refuse"' <<<"$log" || true)
  summaries=$(grep '"kind":"modem.refuse"' <<<"$log" | grep -c '"reason":"suppressed"' || true)
  hashed=$(grep -c '"number":"hmac-sha256:[0-9a-f]\{32\}"' <<<"$log" || true)
  clear=$(grep -cE '4930123456|491555000[0-9]|491700000001' <<<"$log" || true)
  local detail="modem.call $calls (secure $secure_calls), modem.sms $sms, modem.refuse $refuse (suppressed summaries $summaries), hashed numbers $hashed, numbers in clear $clear"
  if [ "$calls" -gt 0 ] && [ "$secure_calls" -gt 0 ] && [ "$sms" -gt 0 ] && [ "$refuse" -gt 0 ] \
     && [ "$summaries" -gt 0 ] && [ "$hashed" -gt 0 ] && [ "$clear" = 0 ]; then
    check_result "modem audit records, numbers hashed" 0 "$detail"
  else
    check_result "modem audit records, numbers hashed" 1 "$detail"
  fi
}

screendump() {  # run file: QMP screen dump kept as a test artefact
  qmp "$1" "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"$1/$2\"}}" >/dev/null
}

# FLASK (issue 7, docs/security.md): Xen enforces policy/xsm, each persona runs with its
# label, and xsm-attack inside each persona found every attempt on the other one denied
# while its own PV paths work; Xen's log shows the AVC denials.
xsm_attempts="grant-map grant-copy evtchn-alloc-unbound evtchn-bind-interdomain evtchn-status
  xenstore-read xenstore-list xenstore-write xenstore-perms domctl-getdomaininfo domctl-pause"
check_xsm() {  # run
  local run=$1 out rc p other a line bad missing
  check_xsm_boot "$run"   # checks-xsm.sh
  # The serial console ends lines with CR LF: drop the CR before comparing whole lines.
  out=$(dom0_exec "$run" 90 'flask-getenforce; xl list -Z | tail -n +2 | tr -s " "' | tr -d '\r') && rc=0 || rc=1
  if [ $rc = 0 ] && grep -qx Enforcing <<<"$out" \
     && grep -qE '(^| )personal [0-9]+ .*system_u:system_r:personal_t([^a-z_]|$)' <<<"$out" \
     && grep -qE '(^| )secure [0-9]+ .*system_u:system_r:secure_t([^a-z_]|$)' <<<"$out"; then
    check_result "xsm enforcing, personas labelled" 0 "$(tr '\n' ';' <<<"$out")"
  else
    check_result "xsm enforcing, personas labelled" 1 "flask-getenforce/xl list -Z: $(tr '\n' ';' <<<"$out")"
  fi
  for p in personal secure; do
    wait_for_log "$run" "\\[$p\\] .*TWOFOLD-ATTACK $p done" 120 || true
  done
  echo "attack table (from -> the other persona; every cross attempt must be denied):"
  # The persona's console shell may print its prompt in front of a line: cut up to the marker.
  grep -hE '\[(personal|secure)\] .*TWOFOLD-ATTACK ' "$run/serial.log" | sed 's/.*TWOFOLD-ATTACK /TWOFOLD-ATTACK /' \
    | awk '{ from=$2; what=$3; verdict=$4; $1=$2=$3=$4=""; sub(/^ +/, ""); printf "  %-9s %-24s %-7s %s\n", from, what, verdict, $0 }'
  for p in personal secure; do
    [ $p = personal ] && other=secure || other=personal
    line=$(log_line "$run" "\\[$p\\] .*TWOFOLD-ATTACK $p done")
    bad=$(grep -E "\\[$p\\] .*TWOFOLD-ATTACK $p [^ ]+ (ALLOWED|FAIL) " "$run/serial.log" | sed 's/.*TWOFOLD-ATTACK //' | tr '\n' ';' || true)
    missing=""
    for a in $xsm_attempts; do
      grep -qE "\\[$p\\] .*TWOFOLD-ATTACK $p $a denied " "$run/serial.log" || missing="$missing $a"
    done
    if [[ $line == *" allowed=0 controls=ok"* ]] && [[ $line != *"target=none"* ]] && [ -z "$bad" ] && [ -z "$missing" ]; then
      check_result "xsm $p -> $other all denied" 0 "$line"
    else
      check_result "xsm $p -> $other all denied" 1 "${line:-no done line}${bad:+ not denied: $bad}${missing:+ missing:$missing}"
    fi
  done
  # dom0's XenstorePermissionGuard closing a node a persona opened to every other domain
  # (issue 14 item 4), within the guest's 5 s bound, whatever the manager is doing meanwhile.
  for p in personal secure; do
    line=$(log_line "$run" "\\[$p\\] .*TWOFOLD-ATTACK $p xenstore-default-perms ")
    check_result "xenstore default entry closed ($p)" "$([[ $line == *"default-perms closed "* ]]; echo $?)" "${line:-no line}"
  done
  out=$(dom0_exec "$run" 90 'xl dmesg | grep "avc:  denied"') && rc=0 || rc=1
  local ps sp
  ps=$(grep -cE 'scontext=system_u:[a-z_]+:personal_t[a-z_]* tcontext=system_u:[a-z_]+:secure_t' <<<"$out" || true)
  sp=$(grep -cE 'scontext=system_u:[a-z_]+:secure_t[a-z_]* tcontext=system_u:[a-z_]+:personal_t' <<<"$out" || true)
  echo "xl dmesg avc denials: $(grep -c 'avc:' <<<"$out" || true) in all, personal->secure $ps, secure->personal $sp; e.g.:"
  { grep -E 'personal_t.*secure_t|secure_t.*personal_t' <<<"$out" || true; } | head -6 | sed 's/^/  /'
  if [ $rc = 0 ] && [ "$ps" -gt 0 ] && [ "$sp" -gt 0 ]; then
    check_result "xsm avc denials in xl dmesg" 0 "personal->secure $ps, secure->personal $sp"
  else
    check_result "xsm avc denials in xl dmesg" 1 "personal->secure ${ps:-0}, secure->personal ${sp:-0}"
  fi
}

# The board's TPM (scripts/lab.d/tpm.sh): dom0 has a TPM 2.0 device, and its boot PCRs hold
# exactly what the board's firmware measured (Xen, dom0's kernel and initramfs): the
# measurement chain a sealed secret is bound to.
check_tpm() {  # run
  local run=$1 pcr want got out rc detail="" bad=0
  check_log "$run" "dom0 TPM 2.0 (/dev/tpmrm0)" 'TWOFOLD-DOM0 tpm tpm0 TPM 2\.0 ready' 'TWOFOLD-DOM0 FAIL no TPM'
  out=$(dom0_exec "$run" 60 "for p in $tpm_pcr_xen $tpm_pcr_dom0; do echo PCR\$p=\$(cat /sys/class/tpm/tpm0/pcr-sha256/\$p); done" | tr -d '\r') && rc=0 || rc=1
  for pcr in $tpm_pcr_xen $tpm_pcr_dom0; do
    # shellcheck disable=SC2046
    want=$(tpm_expected_pcr $(awk -v p="$pcr" '$1 == p { print $2 }' "$run/tpm-measurements"))
    got=$(sed -n "s/^PCR$pcr=//p" <<<"$out" | tr 'A-F' 'a-f')
    [ "$got" = "$want" ] || bad=1
    detail+="PCR $pcr ${got:0:16}... (expected ${want:0:16}...); "
  done
  [ $rc = 0 ] || bad=1
  check_result "TPM PCRs = firmware measurements" "$bad" "$detail$(wc -l <"$run/tpm-measurements") images measured"
}

# The serial log's first line of a dom0 RCU stall (docs/lab.md, "Known issues"); fails when none.
rcu_stall_line() {  # run
  grep -a -m1 'rcu_sched detected stalls\|timer wakeup didn.t happen' "$1/serial.log"
}

lab_test() {
  local build=1 build_args=() timeout=180 cpu=""
  while [ $# -gt 0 ]; do
    case $1 in
      --no-build) build=0; shift ;;
      --skip-dom0-binaries) build_args+=("$1"); shift ;;
      --lock) build_args+=("$1" "$2"); shift 2 ;;
      --state) [ $# -ge 2 ] || die "test: --state needs a folder"; lab_state_dir=$(realpath -m "$2"); shift 2 ;;
      --timeout) timeout=$2; shift 2 ;;
      --cpu) cpu=$2; shift 2 ;;
      --uboot) lab_uboot=1; shift ;;
      -h|--help) test_usage; return 0 ;;
      *) test_usage >&2; die "test: unknown argument '$1'" ;;
    esac
  done
  need_tools qemu-system-aarch64 socat
  [ $build = 1 ] && lab_build "${build_args[@]}"
  local run
  if run=$(current_run); then die "a board is already running ($run); scripts/lab down first"; fi
  mkdir -p "$lab_runs"
  run=$lab_runs/test-$(date +%Y%m%d-%H%M%S)
  log "test: booting (serial log ${run#"$lab_root"/}/serial.log)"
  start_board "$run" "$cpu"
  # Whatever happens below, never leave an emulator running behind a failed test.
  trap 'shutdown_board "'"$run"'" 20 >/dev/null 2>&1 || true' EXIT

  # The secure persona starts only once its PIN opens its data volume (checks-keystore.sh).
  keystore_first_unlock "$run"
  wait_for_log "$run" 'TWOFOLD-(NOT-)?READY secure' "$timeout" || true
  wait_for_log "$run" 'TWOFOLD-(NOT-)?READY personal' 20 || true
  log "test: boot phase over, checking"

  check_log "$run" "xen up" '\(XEN\) Xen version 4\.17'
  check_log "$run" "dom0 up" 'TWOFOLD-DOM0 init' 'Kernel panic'
  check_log "$run" "dom0 storage disk" 'TWOFOLD-DOM0 storage mounted'
  check_log "$run" "dom0 xen toolstack" 'TWOFOLD-DOM0 xen toolstack up'
  check_log "$run" "dom0 libvirtd (libxl driver)" 'TWOFOLD-DOM0 toolstack-up libvirtd'
  check_log "$run" "dom0 bring-up without failures" 'TWOFOLD-DOM0 init' 'TWOFOLD-DOM0 FAIL'

  local out rc
  out=$(dom0_exec "$run" 120 'virsh -c xen:///system list --all') && rc=0 || rc=1
  if [ $rc = 0 ] && grep -qE ' personal +running' <<<"$out" && grep -qE ' secure +running' <<<"$out"; then
    check_result "libvirt lists both running" 0 "$(grep -E 'personal|secure' <<<"$out" | tr -s ' ' | tr '\n' ';')"
  else
    check_result "libvirt lists both running" 1 "virsh list: $(tr -s ' ' <<<"$out" | tr '\n' ';')"
  fi

  check_log "$run" "personal ready" '\[personal\] TWOFOLD-READY personal'
  check_log "$run" "personal binder (BINDER_VERSION)" '\[personal\] TWOFOLD-CHECK personal binder=ok' 'binder=FAIL'
  check_log "$run" "personal PV fb+kbd frontends" '\[personal\] TWOFOLD-CHECK personal pv-frontends=vfb vkbd'
  check_log "$run" "secure ready" '\[secure\] TWOFOLD-READY secure'
  check_log "$run" "secure dm-verity read-only root" '\[secure\] TWOFOLD-CHECK secure root=ok verity=verified mount=read-only'
  keystore_boot1_checks "$run"
  check_log "$run" "secure no forbidden devices" '\[secure\] TWOFOLD-CHECK secure forbidden=none'
  check_log "$run" "secure network: granted NIC only" '\[secure\] TWOFOLD-CHECK secure network=granted-only'
  # dom0's own view (xenstore), independent of what the guest says about itself.
  # dom0 reports devices once the manager has plumbed them, possibly after the readiness lines.
  wait_for_log "$run" 'TWOFOLD-DOM0 persona secure devices' 60 || true
  wait_for_log "$run" 'TWOFOLD-DOM0 persona personal devices' 10 || true
  check_log "$run" "secure devices per xenstore" 'TWOFOLD-DOM0 persona secure devices: vbd=2 vif=1 vfb=1 vkbd=1 console=1 vusb=0 pci=0 9pfs=0 vdispl=0 vsnd=0 qusb=0'
  check_log "$run" "personal devices per xenstore" 'TWOFOLD-DOM0 persona personal devices: vbd=0 vif=1 vfb=1 vkbd=1 console=1 vusb=0 pci=0 9pfs=0 vdispl=0 vsnd=0 qusb=0'

  out=$(dom0_exec "$run" 90 'ls /dev/dri/ /dev/input/; dmesg | grep -iE "virtio|drm" | tail -n 4') && rc=0 || rc=1
  if [ $rc = 0 ] && grep -q card0 <<<"$out"; then
    check_result "dom0 display (virtio-gpu)" 0 "$(tr -s ' \n' ' ' <<<"$out")"
  else
    check_result "dom0 display (virtio-gpu)" 1 "$(tr -s ' \n' ' ' <<<"$out")"
  fi
  check_xsm "$run"
  check_xsm_locked "$run"   # checks-xsm.sh
  check_backend_attack "$run"   # checks-backend.sh
  check_backend_xenstore_proxy "$run"   # checks-backend.sh
  check_input_split "$run"              # checks-backend.sh
  check_tpm "$run"
  qmp "$run" "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"$run/screen.ppm\"}}" >/dev/null
  sleep 1
  if [ -s "$run/screen.ppm" ] && [ "$(head -c 2 "$run/screen.ppm")" = P6 ]; then
    check_result "QMP screendump" 0 "$(head -2 "$run/screen.ppm" | tail -1) pixels in ${run#"$lab_root"/}/screen.ppm"
  else
    check_result "QMP screendump" 1 "no PPM written"
  fi

  check_manager "$run"
  check_modem "$run"
  check_modem_isolation "$run"   # checks-modem.sh
  check_network "$run"           # checks-net.sh
  check_messaging "$run"         # checks-msg.sh
  if rcu_stall_line "$run" >/dev/null; then
    # For the next diagnosis (docs/lab.md, "Known issues"): what Xen's scheduler and timers
    # hold while a dom0 vCPU misses its wakeups.
    log "test: dom0 RCU stall seen; Xen's run queues, timer queues and vCPU states (debug keys r a q) go to the serial log"
    xen_debug_keys "$run" raq
  fi

  log "test: powering off from dom0's console"
  trap - EXIT
  local clean=0
  shutdown_board "$run" 150 || clean=1
  check_log "$run" "power-off seen by dom0" 'TWOFOLD-DOM0 shutdown requested'
  check_log "$run" "manager stopped first" 'TWOFOLD-DOM0 twofold-manager stopped'
  check_log "$run" "personal shut down" 'TWOFOLD-DOM0 persona personal stopped'
  check_log "$run" "secure shut down" 'TWOFOLD-DOM0 persona secure stopped'
  check_log "$run" "dom0 halted Xen" '\(XEN\) Hardware Dom0 (halted|shutdown)'
  check_result "QEMU exited by itself" "$clean" "$([ $clean = 0 ] && echo "after power-off" || echo "had to be killed")"
  check_modem_audit "$run"
  check_switch_phases_audit "$run"   # checks-switch.sh
  check_carrier_capture "$run"       # checks-net.sh

  # dom0 saved its logs (libvirt, libxl, hotplug, guest consoles) on the storage disk.
  command -v debugfs >/dev/null && debugfs -R "rdump /dom0-logs $run" "$run/storage.img" >/dev/null 2>&1
  if [ -d "$run/dom0-logs" ]; then
    echo "dom0 logs: ${run#"$lab_root"/}/dom0-logs/"
  fi
  print_figures "$run"
  keystore_second_boot "$run" "$cpu"
  check_messaging_after_reboot "$run"   # checks-msg.sh
  # A dom0 vCPU that stops getting timer wakeups stalls whatever runs on it (docs/lab.md, "Known
  # issues"); the checks that fail then all trace back to it, so it is named once here.
  local stall
  if stall=$(rcu_stall_line "$run"); then
    echo "dom0 kernel: RCU stall, first at $(cut -d' ' -f2 <<<"$stall") s: $(grep -a -m1 'Possible timer handling issue\|rcu_sched kthread timer wakeup' "$run/serial.log" | cut -d' ' -f3- | tr -d '\r')"
  fi
  if [ -s "$run/console-retries" ]; then
    echo "dom0 console: $(wc -l <"$run/console-retries") command(s) typed again after ${console_echo_wait} s without an answer: $(paste -sd'|' "$run/console-retries")"
  else
    echo "dom0 console: every command answered on the first try"
  fi
  echo "serial log: ${run#"$lab_root"/}/serial.log"
  echo "lab: $test_pass passed, $test_fail failed${test_gaps:+, ${#test_gaps[@]} not working yet: $(IFS=';'; echo "${test_gaps[*]}")}"
  [ "$test_fail" -eq 0 ]
}
