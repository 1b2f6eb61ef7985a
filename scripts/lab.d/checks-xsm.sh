# lab test's FLASK checks beyond the attack table (check_xsm, test.sh): the policy is Xen's
# boot module and enforced from the first instruction, and nobody in dom0 can turn it off
# or replace it (issue 14, docs/security.md). Sourced by scripts/lab; test.sh calls them.

# Xen booted with flask=enforcing and the policy module the build made, and dom0 checked that
# before it started anything (rc.toolstack's marker carries what xl dmesg said).
check_xsm_boot() {  # run
  local run=$1 cmdline policy_line size sha want_size want_sha marker len
  # Xen does not print its command line at the default log level; it keeps it for `xl info`.
  cmdline=$(dom0_exec "$run" 60 'xl info | grep "^xen_commandline"' | tr -d '\r' | sed -n 's/^xen_commandline *: *//p')
  if [[ " $cmdline " == *" xsm=flask "* && " $cmdline " == *" flask=enforcing "* ]] \
     && ! [[ " $cmdline " =~ \ (flask=(late|permissive|disabled)|xsm=(silo|dummy))\  ]]; then
    check_result "xen boots flask=enforcing" 0 "xl info xen_commandline: $cmdline"
  else
    check_result "xen boots flask=enforcing" 1 "xl info xen_commandline: ${cmdline:-not read}"
  fi
  want_size=$(stat -c %s "$lab_images/xenpolicy" 2>/dev/null || echo none)
  want_sha=$(sha256sum "$lab_images/xenpolicy" 2>/dev/null | cut -d' ' -f1)
  policy_line=$(log_line "$run" '\(XEN\) xsm: Policy len = 0x[0-9a-f]+ start at' | tr -d '\r')
  len=$(sed -n 's/.*Policy len = \(0x[0-9a-f]*\) .*/\1/p' <<<"$policy_line")
  if [ -n "$len" ] && [ "$((len))" = "$want_size" ] && ! log_line "$run" 'Flask: +Access controls disabled until policy' | grep -q .; then
    check_result "xen loaded the boot-module policy" 0 "$policy_line (build/lab/images/xenpolicy: $want_size bytes)"
  else
    check_result "xen loaded the boot-module policy" 1 "${policy_line:-no 'xsm: Policy len' line}; expected $want_size bytes"
  fi
  marker=$(log_line "$run" 'TWOFOLD-DOM0 xsm flask enforcing from boot' | tr -d '\r')
  size=$(sed -n 's/.*boot-module policy of \([0-9]*\) bytes.*/\1/p' <<<"$marker")
  sha=$(sed -n 's/.*expected sha256=\([0-9a-f]*\) .*/\1/p' <<<"$marker")
  if [ -n "$marker" ] && [ "$size" = "$want_size" ] && [ "$sha" = "$want_sha" ] && [[ $marker == *"xsm: Policy len"* ]]; then
    check_result "dom0 checked policy before personas" 0 "${marker#*TWOFOLD-DOM0 }"
  else
    check_result "dom0 checked policy before personas" 1 "${marker:-no marker}; want size $want_size sha256 ${want_sha:0:16}..."
  fi
}

# Root in dom0 tries to switch FLASK to permissive and to load a policy (the build's own, a
# valid one: Xen checks the permission before it reads the policy, so what is refused is the
# act, not the file). Both must fail, FLASK must still say Enforcing, and Xen's log must show
# the two AVC denials.
check_xsm_locked() {  # run
  local run=$1 out
  # Three short lines, not one long one: under load dom0's console has dropped the middle of
  # a long typed line (a board run saw "flask...o T-…-E").
  local o1 o2 o3
  o1=$(dom0_exec "$run" 60 'flask-setenforce 0 2>&1; echo "setenforce-rc=$?"; echo "after-setenforce=$(flask-getenforce)"' | tr -d '\r') || o1=""
  o2=$(dom0_exec "$run" 60 'flask-loadpolicy /usr/share/twofold/xenpolicy-4.17 2>&1; echo "loadpolicy-rc=$?"; echo "after-loadpolicy=$(flask-getenforce)"' | tr -d '\r') || o2=""
  o3=$(dom0_exec "$run" 60 'xl dmesg | grep -E "avc: +denied +\{ (setenforce|load_policy) \}" | tail -n 4' | tr -d '\r') || o3=""
  out=$(printf '%s\n%s\n%s\n' "$o1" "$o2" "$o3")
  echo "dom0 root against FLASK:"; sed 's/^/  /' <<<"$out"
  if grep -qE '^setenforce-rc=[1-9]' <<<"$out" && grep -qx 'after-setenforce=Enforcing' <<<"$out"; then
    check_result "dom0 flask-setenforce 0 denied" 0 "$(grep -E 'setenforce' <<<"$out" | tr '\n' ';')"
  else
    check_result "dom0 flask-setenforce 0 denied" 1 "$(tr '\n' ';' <<<"$out" | cut -c1-300)"
  fi
  # Xen 4.17's flask-loadpolicy exits 0 even when Xen refuses (seen on the board: "Unable to
  # load new Flask policy: Operation not permitted", status 0), so its message and Xen's AVC
  # denial are the evidence, not its exit status.
  if { grep -qE '^loadpolicy-rc=[1-9]' <<<"$out" || grep -q 'Unable to load new Flask policy' <<<"$out"; } \
     && grep -qE 'denied +\{ load_policy \}.*scontext=system_u:system_r:dom0_t' <<<"$out" \
     && grep -qx 'after-loadpolicy=Enforcing' <<<"$out"; then
    check_result "dom0 flask-loadpolicy denied" 0 "$(grep -E 'loadpolicy|load_policy' <<<"$out" | tr '\n' ';')"
  else
    check_result "dom0 flask-loadpolicy denied" 1 "$(tr '\n' ';' <<<"$out" | cut -c1-300)"
  fi
  if grep -qE 'denied +\{ setenforce \}.*scontext=system_u:system_r:dom0_t' <<<"$out" \
     && grep -qE 'denied +\{ load_policy \}.*scontext=system_u:system_r:dom0_t' <<<"$out"; then
    check_result "xsm avc: dom0 setenforce/load_policy" 0 "both AVC denials in xl dmesg"
  else
    check_result "xsm avc: dom0 setenforce/load_policy" 1 "missing AVC denial(s): $(grep avc <<<"$out" | tr '\n' ';')"
  fi
}
