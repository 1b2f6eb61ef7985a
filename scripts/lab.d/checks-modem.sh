# lab test's checks of the shared modem's non-interference (issue 13, docs/modem.md "Command
# classes", docs/security.md "The shared modem"). Sourced by scripts/lab; test.sh calls
# check_modem_isolation after check_modem. Orders reach a persona's probe by SMS while it is
# in the foreground (guests/src/modem_probe.c: do:at, do:cmgs, do:store, do:sms).

# One order to a persona's probe and its result line: prints the line from "TWOFOLD-AT" on.
modem_order() {  # run persona number order result-regex seconds
  local run=$1 p=$2 result
  # An order the probe never reported reading has no result to wait for (a dead modem path
  # would otherwise cost every order its full wait).
  sms_order "$run" "$p" "$3" "$4" && { wait_for_log "$run" "\\[$p\\] .*TWOFOLD-AT $p $5" "$6" || true; }
  result=$(probe_line "$run" "\\[$p\\] .*TWOFOLD-AT $p $5" | tr -d '\r')
  printf '%s' "$result"
}

# Personal's +CMGS, retried while its sms_per_hour budget (spent by check_modem's budget check)
# refills: prints the reference, or nothing.
personal_reference() {  # run tag
  local run=$1 tag=$2 try line
  for try in 1 2 3 4 5 6; do
    line=$(modem_order "$run" personal "+49155501$((10 + try))$RANDOM" "do:cmgs $tag$try" "cmgs $tag$try mr=" 60)
    if [[ $line == *"-> OK" ]]; then
      sed -n 's/.* mr=\([0-9]*\) .*/\1/p' <<<"$line"
      return 0
    fi
    if [ -z "$line" ]; then
      echo "  (personal's +CMGS $tag$try: no answer; not retried)" >&2
      return 0
    fi
    echo "  (personal's +CMGS $tag$try: $line; waiting for its SMS budget)" >&2
    sleep 30
  done
}

check_modem_isolation() {  # run
  local run=$1 state crsm csim lnd ccfc mmi cpms1 cpms2 mr1 mr2 store sent secure_sms refs1 refs2 rc
  switch_to "$run" personal || true
  # Personal reads the SIM's SMS file, phonebook and last-dialled numbers; tries to forward calls.
  crsm=$(modem_order "$run" personal +4915550101 'do:at crsm AT+CRSM=178,28476,1,4,176' 'at crsm -> ' 60)
  csim=$(modem_order "$run" personal +4915550102 'do:at csim AT+CSIM=10,"00B2010400"' 'at csim -> ' 60)
  lnd=$(modem_order "$run" personal +4915550103 'do:at lnd AT+CRSM=178,28484,1,4,28' 'at lnd -> ' 60)
  ccfc=$(modem_order "$run" personal +4915550104 'do:at ccfc AT+CCFC=0,3,"+4915550199"' 'at ccfc -> ' 60)
  mmi=$(modem_order "$run" personal +4915550105 'do:at mmi ATD*21*4915550199#;' 'at mmi -> ' 60)
  state=$(modem_control "$run" state)
  if [[ $crsm == *"-> +CME ERROR: 3" && $csim == *"-> +CME ERROR: 3" && $lnd == *"-> +CME ERROR: 3" ]] \
     && grep -q '"sim_file_reads":0' <<<"$state"; then
    check_result "personal's read of the SIM SMS file refused" 0 "$crsm; $csim; $lnd; modem: sim_file_reads=0"
  else
    check_result "personal's read of the SIM SMS file refused" 1 "${crsm:-no answer}; ${csim:-no answer}; ${lnd:-no answer}; modem: $(grep -o '"sim_file_reads":[0-9]*' <<<"$state")"
  fi
  if [[ $ccfc == *"-> +CME ERROR: 3" && $mmi == *"-> +CME ERROR: 3" ]] && grep -q '"forwarding":\[\]' <<<"$state"; then
    check_result "personal's call-forwarding attempt refused" 0 "$ccfc; $mmi; modem: no forwarding"
  else
    check_result "personal's call-forwarding attempt refused" 1 "${ccfc:-no answer}; ${mmi:-no answer}; modem: $(grep -o '"forwarding":\[[^]]*\]' <<<"$state")"
  fi

  # Personal's storage counts and message references, before and after the secure persona
  # stores, sends and receives SMS.
  cpms1=$(modem_order "$run" personal +4915550106 'do:at cpms1 AT+CPMS?' 'at cpms1 -> ' 60)
  mr1=$(personal_reference "$run" mra)
  refs1=$(modem_control "$run" state | grep -o '"reference":[0-9]*' | wc -l)
  switch_to "$run" secure || true
  store=$(modem_order "$run" secure +4915550107 'do:store 3' 'store done ' 90)
  sent=$(modem_order "$run" secure +4915550108 'do:sms 2' 'sms done ' 90)
  sms_order "$run" secure +4915550109 hello-secure-isolation && secure_sms=read || secure_sms=missing
  refs2=$(modem_control "$run" state | grep -o '"reference":[0-9]*' | wc -l)
  switch_to "$run" personal || true
  cpms2=$(modem_order "$run" personal +4915550110 'do:at cpms2 AT+CPMS?' 'at cpms2 -> ' 60)
  mr2=$(personal_reference "$run" mrb)
  rc=0
  [[ $store == *"stored=3 "* && $sent == *"sent=2 "* && $secure_sms == read ]] || rc=1
  [ -n "$cpms1" ] && [ "${cpms1#*-> }" = "${cpms2#*-> }" ] && [[ $cpms1 == *"-> OK | +CPMS: "* ]] || rc=1
  check_result "personal's +CPMS? unmoved by secure's SMS" $rc "before: ${cpms1#*-> }; after: ${cpms2#*-> }; secure: ${store:-?}; ${sent:-?}; SMS to secure $secure_sms"
  rc=0
  [ -n "$mr1" ] && [ -n "$mr2" ] && [ "$mr2" = "$(((mr1 + 1) % 256))" ] && [ "$refs2" -ge $((refs1 + 2)) ] || rc=1
  check_result "personal's +CMGS references unmoved by secure's" $rc "personal mr ${mr1:-?} then ${mr2:-?}; the modem sent $((refs2 - refs1)) SMS for secure in between"
}
