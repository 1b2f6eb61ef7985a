# lab test's network checks (issue 16; docs/network.md): what each persona reaches through
# dom0 and the carrier network (scripts/lab.d/carrier.sh), as the personas' own witnesses
# report it (guests/net/*-probe, TWOFOLD-NET lines relayed by dom0), what the organisation's
# server received, and, after power-off, the carrier's capture of the board's NIC: the secure
# persona's plaintext marker never appears there, and nothing but WireGuard goes to the gateway.

# The checks from the personas' reports; `unreachable` lines are read beside the `reached`
# ones of the same probe, which show that the path itself works.
check_network() {  # run
  local run=$1 x
  check_log "$run" "dom0 network (data link, filter)" 'TWOFOLD-DOM0 network up: data link eth0 100\.64\.0\.2/24' 'TWOFOLD-DOM0 FAIL network'
  wait_for_log "$run" '\[personal\] TWOFOLD-NET personal probe done' 180 || true
  check_log "$run" "personal PV NIC (xen-netfront)" '\[personal\] TWOFOLD-NET personal link=up eth0=10\.20\.1\.2/30 gw=10\.20\.1\.1 driver=vif'
  check_log "$run" "personal DNS (carrier resolver)" '\[personal\] TWOFOLD-NET personal dns internet\.example=198\.51\.100\.80'
  check_log "$run" "personal reaches internet (NAT)" '\[personal\] TWOFOLD-NET personal internet-http=reached TWOFOLD-INTERNET-HOST'
  check_log "$run" "personal pings internet host" '\[personal\] TWOFOLD-NET personal internet-ping=reached'
  for x in org-server-tcp org-server-ping org-gateway-ping secure-ping dom0-link-ping dom0-link-tcp \
           dom0-secure-link-ping dom0-uplink-ping; do
    check_log "$run" "personal cannot reach $x" "\\[personal\\] TWOFOLD-NET personal $x=unreachable"
  done
  check_log "$run" "personal: no org names" '\[personal\] TWOFOLD-NET personal dns messages\.org\.example=unresolved'

  wait_for_log "$run" '\[secure\] TWOFOLD-NET secure probe done' 300 || true
  check_log "$run" "secure PV NIC, gateway route only" \
    '\[secure\] TWOFOLD-NET secure link=up eth0=10\.20\.2\.2/30 gw=10\.20\.2\.1 driver=vif routes=.*203\.0\.113\.10 via 10\.20\.2\.1 dev eth0' \
    '\[secure\] TWOFOLD-NET secure link=up .*default'
  check_log "$run" "secure device key (on /data)" '\[secure\] TWOFOLD-NET secure enrol public-key=[A-Za-z0-9+/]{43}= address=10\.8\.100\.2/32'
  if grep -q 'enrolled device key' "$run/org-gateway.log" 2>/dev/null; then
    check_result "org gateway enrolled the key" 0 "$(grep -m1 'enrolled device key' "$run/org-gateway.log")"
  else
    check_result "org gateway enrolled the key" 1 "no enrolment in ${run#"$lab_root"/}/org-gateway.log"
  fi
  check_log "$run" "secure DNS through the tunnel" '\[secure\] TWOFOLD-NET secure dns messages\.org\.example=10\.8\.1\.10 handshake=yes'
  check_log "$run" "secure reaches org server (tunnel)" '\[secure\] TWOFOLD-NET secure org-server=reached TWOFOLD-ORG-SERVER'
  for x in internet-ping internet-http personal-ping dom0-link-ping; do
    check_log "$run" "secure cannot reach $x" "\\[secure\\] TWOFOLD-NET secure $x=unreachable"
  done
  for x in killswitch-org-server killswitch-internet; do
    check_log "$run" "kill switch: $x" "\\[secure\\] TWOFOLD-NET secure $x=unreachable"
  done
  for x in bypass-org-server bypass-internet bypass-gateway-tcp; do
    check_log "$run" "dom0 stops $x" "\\[secure\\] TWOFOLD-NET secure $x=unreachable"
  done
  check_log "$run" "secure tunnel again after kill switch" '\[secure\] TWOFOLD-NET secure tunnel-again-org-server=reached TWOFOLD-ORG-SERVER'
  # The organisation's side: the marker arrived, inside the tunnel.
  local got
  got=$(grep -c 'TWOFOLD-NET-PLAINTEXT-MARKER secure' "$run/org-server.log" 2>/dev/null || true)
  if [ "${got:-0}" -ge 1 ]; then
    check_result "org server got secure's marker" 0 "$got line(s): $(grep -m1 'TWOFOLD-NET-PLAINTEXT-MARKER' "$run/org-server.log")"
  else
    check_result "org server got secure's marker" 1 "nothing in ${run#"$lab_root"/}/org-server.log"
  fi
  if grep -q 'bypass\|killswitch' "$run/org-server.log" 2>/dev/null; then
    check_result "org server: nothing around the tunnel" 1 "$(grep -m1 'bypass\|killswitch' "$run/org-server.log")"
  else
    check_result "org server: nothing around the tunnel" 0 "no kill-switch or bypass line arrived"
  fi
}

# After QEMU exited (the capture is complete): the carrier's view of the board's NIC.
check_carrier_capture() {  # run
  local run=$1 pcap=$1/carrier.pcap all gw notwg inner marker wg='udp port 51820 and (udp[8:4] = 0x01000000 or udp[8:4] = 0x02000000 or udp[8:4] = 0x03000000 or udp[8:4] = 0x04000000)'
  need_tools tcpdump
  if [ ! -s "$pcap" ]; then check_result "carrier capture" 1 "no ${pcap#"$lab_root"/}"; return; fi
  count() { tcpdump -nn -r "$pcap" "$@" 2>/dev/null | wc -l; }
  all=$(count) gw=$(count "dst host 203.0.113.10") notwg=$(count "dst host 203.0.113.10 and not ($wg)")
  inner=$(count "net 10.8.0.0/16 or net 10.20.0.0/16")
  marker=$(grep -a -c 'TWOFOLD-NET-PLAINTEXT-MARKER' "$pcap" || true)
  check_result "carrier capture" $([ "$all" -gt 0 ] && echo 0 || echo 1) "$all frames in ${pcap#"$lab_root"/}"
  check_result "capture: WireGuard to the gateway" $([ "$gw" -gt 0 ] && [ "$notwg" = 0 ] && echo 0 || echo 1) \
    "$gw packets to 203.0.113.10, $notwg of them not WireGuard messages"
  check_result "capture: no inner addresses" $([ "$inner" = 0 ] && echo 0 || echo 1) "$inner packets with 10.8/16 or 10.20/16 addresses"
  check_result "capture: no plaintext marker" $([ "${marker:-0}" = 0 ] && echo 0 || echo 1) "${marker:-0} frames hold secure's marker"
}

