# lab test's taken-over-backend table (issue 14, item 2): twofold-backend-attack in dom0 runs
# each attempt in a child with what a backend serving one persona has (its Xen handles,
# restricted to that persona by Platform::restrict_to, the backend's user and its seccomp
# filter) and tries to reach the other persona: map its frame, map its grant, bind, offer and
# signal event channels, read and write its xenstore nodes, reopen the Xen devices. Every
# cross attempt must be denied; the display's own-persona foreign map must still work; and
# the control run of each attempt (same user and filter, no restriction) must reach the other
# persona at least once per backend, so the table shows a denial that is the restriction's.
# Sourced by scripts/lab; test.sh calls check_backend_attack.

check_backend_attack() {  # run
  local run=$1 p other out line bad missing a b
  local attempts="foreign-map grant-map evtchn-bind-interdomain evtchn-alloc-unbound evtchn-notify xenstore-read xenstore-list
    xenstore-write xenstore-perms xenstore-reconnect privcmd-reopen gntdev-reopen"
  for p in personal secure; do
    [ $p = personal ] && other=secure || other=personal
    out=$(dom0_exec "$run" 240 "twofold-backend-attack --as $p --target $other" | tr -d '\r') || out=""
    echo "taken-over backend table ($p's backends -> $other; every attempt must be denied):"
    grep -E "^TWOFOLD-BACKEND-ATTACK $p " <<<"$out" | grep -v ' done \| targets: ' \
      | awk '{ from=$2; be=$3; what=$4; verdict=$5; $1=$2=$3=$4=$5=""; sub(/^ +/, ""); split($0, part, " \\| control \\(no restriction\\): ");
               printf "  %-8s %-7s %-24s %-7s %s\n", from, be, what, verdict, substr(part[1], 1, 90)
               if (part[2] != "") printf "  %50s control: %s\n", "", substr(part[2], 1, 80) }'
    grep -E "^TWOFOLD-BACKEND-ATTACK $p targets: " <<<"$out" | sed 's/^/  /'
    line=$(grep -E "^TWOFOLD-BACKEND-ATTACK $p done " <<<"$out" | tail -1)
    bad=$(grep -E "^TWOFOLD-BACKEND-ATTACK $p [a-z]+ [a-z-]+ (ALLOWED|ERROR|BROKEN) " <<<"$out" | cut -d' ' -f3-5 | tr '\n' ';' || true)
    missing=""
    for b in display input modem; do
      for a in $attempts; do
        grep -qE "^TWOFOLD-BACKEND-ATTACK $p $b $a denied " <<<"$out" || missing="$missing $b/$a"
      done
    done
    grep -qE "^TWOFOLD-BACKEND-ATTACK $p display own-foreign-map works " <<<"$out" || missing="$missing display/own-foreign-map"
    if [[ $line == *" allowed=0 errors=0 own=ok controls=ok"* ]] && [ -z "$bad" ] && [ -z "$missing" ]; then
      check_result "taken-over $p backends -> $other all denied" 0 "${line#TWOFOLD-BACKEND-ATTACK }"
    else
      check_result "taken-over $p backends -> $other all denied" 1 "${line:-no done line}${bad:+ not denied: $bad}${missing:+ missing:$missing}"
    fi
  done
}
