# lab test's taken-over-backend table (issue 14, item 2): twofold-backend-attack in dom0 runs
# each attempt in a child with what a backend serving one persona has (its Xen handles,
# restricted to that persona by Platform::restrict_to, the backend's user and its seccomp
# filter) and tries to reach the other persona: map its frame, map its grant, bind, offer and
# signal event channels, read and write its xenstore nodes (on the cut connection, and through
# the manager's xenstore proxy, which the attack program plays for each child: admitting the
# child's persona, or both in the control run, as today's backends' proxies do), reopen the
# Xen devices. The child's own-persona read through the proxy must work. Every
# cross attempt must be denied; the display's own-persona foreign map must still work; and
# the control run of each attempt (same user and filter, no restriction) must reach the other
# persona at least once per backend, so the table shows a denial that is the restriction's.
# Sourced by scripts/lab; test.sh calls check_backend_attack.

backend_attempts="foreign-map grant-map evtchn-bind-interdomain evtchn-alloc-unbound evtchn-notify xenstore-read xenstore-list
  xenstore-write xenstore-perms xenstore-reconnect proxy-read proxy-list proxy-write proxy-watch proxy-perms privcmd-reopen gntdev-reopen"

# The rows a persona's table lacks ("display/foreign-map ..."); succeeds (status 0) when any.
missing_rows() {  # persona output
  local p=$1 out=$2 missing="" a b
  for b in display input modem; do
    for a in $backend_attempts; do
      grep -qE "^TWOFOLD-BACKEND-ATTACK $p $b $a denied " <<<"$out" || missing="$missing $b/$a"
    done
  done
  grep -qE "^TWOFOLD-BACKEND-ATTACK $p display own-foreign-map works " <<<"$out" || missing="$missing display/own-foreign-map"
  for b in display input modem; do
    grep -qE "^TWOFOLD-BACKEND-ATTACK $p $b own-proxy-read works " <<<"$out" || missing="$missing $b/own-proxy-read"
  done
  printf '%s' "$missing"
  [ -n "$missing" ]
}

check_backend_attack() {  # run
  local run=$1 p other out line bad missing
  for p in personal secure; do
    [ $p = personal ] && other=secure || other=personal
    # The table goes to a file first and is printed once the attempts are over: the kernel's
    # seccomp audit lines and Xen's avc lines of the attempts share the serial console and
    # split a row printed meanwhile (run test-20261207-090020 lost input/evtchn-alloc-unbound
    # that way). A row still split by a later console line is read from the file once more.
    out=$(dom0_exec "$run" 240 "twofold-backend-attack --as $p --target $other >/run/backend-attack-$p.txt 2>&1; sleep 1; cat /run/backend-attack-$p.txt" | tr -d '\r') || out=""
    missing_rows "$p" "$out" >/dev/null \
      && out=$(printf '%s\n%s\n' "$out" "$(dom0_exec "$run" 60 "cat /run/backend-attack-$p.txt" | tr -d '\r')" | awk '!seen[$0]++')
    echo "taken-over backend table ($p's backends -> $other; every attempt must be denied):"
    grep -E "^TWOFOLD-BACKEND-ATTACK $p " <<<"$out" | grep -v ' done \| targets: ' \
      | awk '{ from=$2; be=$3; what=$4; verdict=$5; $1=$2=$3=$4=$5=""; sub(/^ +/, ""); split($0, part, " \\| control \\(no restriction\\): ");
               printf "  %-8s %-7s %-24s %-7s %s\n", from, be, what, verdict, substr(part[1], 1, 90)
               if (part[2] != "") printf "  %50s control: %s\n", "", substr(part[2], 1, 80) }'
    grep -E "^TWOFOLD-BACKEND-ATTACK $p targets: " <<<"$out" | sed 's/^/  /'
    line=$(grep -E "^TWOFOLD-BACKEND-ATTACK $p done " <<<"$out" | tail -1)
    bad=$(grep -E "^TWOFOLD-BACKEND-ATTACK $p [a-z]+ [a-z-]+ (ALLOWED|ERROR|BROKEN) " <<<"$out" | cut -d' ' -f3-5 | tr '\n' ';' || true)
    missing=$(missing_rows "$p" "$out" || true)
    if [[ $line == *" allowed=0 errors=0 own=ok controls=ok"* ]] && [ -z "$bad" ] && [ -z "$missing" ]; then
      check_result "taken-over $p backends -> $other all denied" 0 "${line#TWOFOLD-BACKEND-ATTACK }"
    else
      check_result "taken-over $p backends -> $other all denied" 1 "${line:-no done line}${bad:+ not denied: $bad}${missing:+ missing:$missing}"
    fi
  done
}

# The backends reach xenstore only through the manager's proxy (issue 14, item 2): `twofold
# status` counts each one's proxied requests (the personas' vfb, vkbd and console/1 came up
# through them, checked above) with none refused, and no backend holds a xenstored connection
# of its own: /dev/xen/xenbus is not among its descriptors, and its only sockets are fd 3 and
# fd 4 (the focus link and the xenstore link the manager handed over at spawn).
check_backend_xenstore_proxy() {  # run
  local run=$1 out b line fds sockets requests denied
  out=$(dom0_exec "$run" 60 'twofold status; for n in display input modem; do p=$(pidof twofold-$n-backend); echo "FDS $n pid=$p $(for f in /proc/$p/fd/*; do echo "${f##*/}=$(readlink $f)"; done | tr "\n" " ")"; done' | tr -d '\r') || out=""
  for b in display input modem; do
    line=$(grep -E "^ *$b +[0-9]+ +running" <<<"$out" | head -1)
    fds=$(grep -E "^FDS $b pid=[0-9]+ " <<<"$out" | head -1)
    requests=$(sed -nE 's/.* xenstore=proxy requests=([0-9]+) denied=([0-9]+).*/\1/p' <<<"$line")
    denied=$(sed -nE 's/.* xenstore=proxy requests=([0-9]+) denied=([0-9]+).*/\2/p' <<<"$line")
    sockets=$(tr ' ' '\n' <<<"$fds" | grep -E '^[0-9]+=socket:' | cut -d= -f1 | sort -n | tr '\n' ' ')
    if [ -n "$requests" ] && [ "$requests" -gt 0 ] && [ "$denied" = 0 ] && [ "$sockets" = "3 4 " ] \
       && ! grep -q xenbus <<<"$fds"; then
      check_result "$b backend: xenstore only through the manager's proxy" 0 "requests=$requests denied=$denied sockets=fd ${sockets% }; no /dev/xen/xenbus"
    else
      check_result "$b backend: xenstore only through the manager's proxy" 1 "status: $(tr -s ' ' <<<"${line:-no line}"); sockets: ${sockets:-none}; $(grep -o '[0-9]*=/dev/xen/xenbus' <<<"$fds" | head -1)"
    fi
  done
}
