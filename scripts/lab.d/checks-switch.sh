# lab test's checks of the switch order (issue 14, item 5; docs/manager.md, "Foreground"):
# input goes to nobody, then the display presents the new persona, then input goes to it.
# Keys are typed through QMP while the hardware key switches, and the personas' key logs must
# show no key in the wrong persona; after power-off, the board's audit log must show every
# committed switch in its three phases. The analysis is check-switch-order (Python).

# 45 keys, each a distinct Linux key code so each line in a guest's key log names its key:
# digits, the letter rows and some punctuation (qcode:code). Nothing that edits a guest's
# console line beyond plain characters (no Enter, Ctrl, Alt or function keys).
switch_keys="1:2 2:3 3:4 4:5 5:6 6:7 7:8 8:9 9:10 0:11 q:16 w:17 e:18 r:19 t:20 y:21 u:22 i:23
  o:24 p:25 a:30 s:31 d:32 f:33 g:34 h:35 j:36 k:37 l:38 z:44 x:45 c:46 v:47 n:49 m:50
  minus:12 equal:13 bracket_left:26 bracket_right:27 semicolon:39 apostrophe:40 comma:51 dot:52
  slash:53 backslash:43"
switch_keys_before=6     # keys typed before the hardware key (they must reach the old persona)
switch_key_gap=0.06      # seconds between two keys (each held 20 ms): about 2.7 s in all

# One QMP connection: the keys at a steady pace, the GPIO key (system_powerdown) after the
# first few, so the switch happens while keys keep coming.
type_keys_across_switch() {  # run
  local run=$1 i=0 k
  { echo '{"execute":"qmp_capabilities"}'
    for k in $switch_keys; do
      [ "$i" = "$switch_keys_before" ] && echo '{"execute":"system_powerdown"}'
      echo "{\"execute\":\"send-key\",\"arguments\":{\"keys\":[{\"type\":\"qcode\",\"data\":\"${k%%:*}\"}],\"hold-time\":20}}"
      sleep "$switch_key_gap"; i=$((i + 1))
    done
    sleep 1
  } | timeout 30 socat - "UNIX-CONNECT:$run/qmp.sock" >/dev/null 2>&1
}

# Keys typed while the hardware key moves the foreground from persona `from` to `to`. The key
# can be missed by gpio-keys on a loaded host (check_manager); then the stream is typed again
# once, with the other persona's key lines counted from the new start.
check_keys_across_switch() {  # run name from to
  local run=$1 first codes fg out rc attempt last=${switch_keys##*:}
  codes=$(for k in $switch_keys; do printf '%s ' "${k##*:}"; done)
  for attempt in 1 2; do
    first=$(($(wc -l <"$run/serial.log") + 1))
    type_keys_across_switch "$run"
    fg=$(wait_foreground "$run" "$4")
    [ "$fg" = "$4" ] && break
    log "test: the hardware key did not switch to $4 (foreground ${fg:-?}); typing the keys again"
  done
  if [ "$fg" != "$4" ]; then
    check_result "$2" 1 "the hardware key did not switch to $4 (twofold status: ${fg:-?})"
    return
  fi
  # Let the last key lines arrive (the guests' consoles are relayed by dom0).
  wait_for_log "$run" "\\[$4\\] .*TWOFOLD-KEY $4 code=$last value=0" 20 || true
  sleep 1
  out=$(python3 "$lab_root/scripts/lab.d/check-switch-order" keys "$run/serial.log" "$first" "$3" "$4" $codes 2>&1) && rc=0 || rc=1
  check_result "$2" $rc "$out"
}

# After power-off: the board's audit log (copied off its storage disk by check_modem_audit).
check_switch_phases_audit() {  # run
  local run=$1 out rc
  [ -d "$run/audit" ] || debugfs -R "rdump /audit $run" "$run/storage.img" >/dev/null 2>&1 || true
  out=$(python3 "$lab_root/scripts/lab.d/check-switch-order" audit "$run/audit" 2>&1) && rc=0 || rc=1
  check_result "switches in three phases (audit)" $rc "$out"
}

# Both directions, from personal and back: the checks after it (the modem's) expect personal
# in the foreground, so a key that did not bring it back is followed by `twofold switch`.
check_switch_order() {  # run
  check_keys_across_switch "$1" "keys typed across switch to secure" personal secure
  check_keys_across_switch "$1" "keys typed across switch back" secure personal
  [ "$(foreground_of "$(dom0_exec "$1" 30 'twofold status')")" = personal ] || switch_to "$1" personal || true
}
