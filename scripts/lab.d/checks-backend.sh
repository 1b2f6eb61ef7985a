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
  for b in display vkbd modem; do
    for a in $backend_attempts; do
      grep -qE "^TWOFOLD-BACKEND-ATTACK $p $b $a denied " <<<"$out" || missing="$missing $b/$a"
    done
  done
  for b in display vkbd; do
    grep -qE "^TWOFOLD-BACKEND-ATTACK $p $b own-foreign-map works " <<<"$out" || missing="$missing $b/own-foreign-map"
  done
  for b in display vkbd modem; do
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
  out=$(dom0_exec "$run" 60 'twofold status; for n in display modem; do p=$(pidof twofold-$n-backend); echo "FDS $n pid=$p $(for f in /proc/$p/fd/*; do echo "${f##*/}=$(readlink $f)"; done | tr "\n" " ")"; done' | tr -d '\r') || out=""
  for b in display modem; do
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

# Input is one owner and one writer per persona (issue 14 item 2): the owner (twofold-input-
# backend) holds the keyboard and tablet and no Xen device or xenstore at all, its sockets are
# the focus link and one link per persona (fds 3, 5, 6). Each persona's writer (twofold-vkbd-
# backend, `vkbd/<persona>` in `twofold status`) runs as its own user, was started with its
# persona's current domid, says it restricted its Xen handles to it, reaches xenstore only
# through its proxy (requests, none refused; fds 3, 4, 5 its only sockets) and holds no grant
# device or xenstored connection (restrict_to put /dev/null in their place).
check_input_split() {  # run
  local run=$1 out fds sockets p line pid domid uid cmd_domid requests denied why
  out=$(dom0_exec "$run" 60 'twofold status; o=$(pidof twofold-input-backend); echo "OWNER pid=$o $(for f in /proc/$o/fd/*; do echo "${f##*/}=$(readlink $f)"; done | tr "\n" " ")"; for p in $(pidof twofold-vkbd-backend); do echo "WRITER pid=$p uid=$(awk "/^Uid:/{print \$2}" /proc/$p/status) cmd=$(tr "\0" " " </proc/$p/cmdline) fds=$(for f in /proc/$p/fd/*; do echo "${f##*/}=$(readlink $f)"; done | tr "\n" " ")"; done; grep -E "^twofold-vkbd-" /etc/passwd | cut -d: -f1,3' | tr -d '\r') || out=""
  fds=$(grep -E "^OWNER pid=[0-9]+ " <<<"$out" | head -1)
  sockets=$(tr ' ' '\n' <<<"$fds" | grep -E '^[0-9]+=socket:' | cut -d= -f1 | sort -n | tr '\n' ' ')
  if [ -n "$fds" ] && [ "$sockets" = "3 5 6 " ] && ! grep -q '=/dev/xen/' <<<"$fds"; then
    check_result "input owner: devices and routing, no Xen handle" 0 "sockets=fd ${sockets% }; no /dev/xen/* among $(tr ' ' '\n' <<<"$fds" | grep -c '=/dev/input/') evdev and other descriptors"
  else
    check_result "input owner: devices and routing, no Xen handle" 1 "sockets: ${sockets:-none}; $(grep -o '[0-9]*=/dev/xen/[a-z]*' <<<"$fds" | tr '\n' ' ')${fds:-no owner process}"
  fi
  for p in personal secure; do
    line=$(grep -E "^ *vkbd/$p +[0-9]+ +running" <<<"$out" | head -1)
    pid=$(awk '{print $2}' <<<"$line")
    domid=$(grep -E "^ *$p +(personal|secure) +[a-z]+ +[0-9]+" <<<"$out" | awk '{print $4}' | head -1)
    uid=$(grep -E "^twofold-vkbd-$p:" <<<"$out" | cut -d: -f2)
    fds=$(grep -E "^WRITER pid=${pid:-none} " <<<"$out" | head -1)
    cmd_domid=$(sed -nE 's/.* --domid ([0-9]+).*/\1/p' <<<"$fds")
    requests=$(sed -nE 's/.* xenstore=proxy requests=([0-9]+) denied=([0-9]+).*/\1/p' <<<"$line")
    denied=$(sed -nE 's/.* xenstore=proxy requests=([0-9]+) denied=([0-9]+).*/\2/p' <<<"$line")
    sockets=$(sed -E 's/.* fds=//' <<<"$fds" | tr ' ' '\n' | grep -E '^[0-9]+=socket:' | cut -d= -f1 | sort -n | tr '\n' ' ')
    why=""
    [ -n "$pid" ] || why="no running vkbd/$p in twofold status"
    [ -z "$why" ] && [ -n "$fds" ] || why="${why:-no process $pid}"
    [ -z "$why" ] && [[ $fds == *" uid=$uid "* ]] && [ -n "$uid" ] || why="${why:-not running as twofold-vkbd-$p ($uid)}"
    [ -z "$why" ] && [ -n "$domid" ] && [ "$cmd_domid" = "$domid" ] || why="${why:-started for domain ${cmd_domid:-?}, $p is domain ${domid:-?}}"
    [ -z "$why" ] && [ -n "$requests" ] && [ "$requests" -gt 0 ] && [ "$denied" = 0 ] || why="${why:-proxy requests=${requests:-?} denied=${denied:-?}}"
    [ -z "$why" ] && [ "$sockets" = "3 4 5 " ] || why="${why:-sockets ${sockets:-none}}"
    [ -z "$why" ] && ! grep -qE '=/dev/xen/(xenbus|gntdev)' <<<"$fds" || why="${why:-holds $(grep -oE '[0-9]+=/dev/xen/(xenbus|gntdev)' <<<"$fds" | head -1)}"
    if [ -z "$why" ]; then
      check_result "vkbd writer of $p: its own user and domain only" 0 "pid $pid uid $uid --domid $cmd_domid ($p's domain); proxy requests=$requests denied=0; sockets fd ${sockets% }; no xenbus, no gntdev"
    else
      check_result "vkbd writer of $p: its own user and domain only" 1 "$why"
    fi
  done
}
