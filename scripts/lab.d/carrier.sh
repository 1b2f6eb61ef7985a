# The lab's carrier network (docs/network.md): what is on the other side of the board's
# mobile data link. Two network namespaces on the host, nothing else of the host reachable:
#   twofold-carrier  the carrier: the board's NIC (a tap, moved in once QEMU holds it) with
#                    the carrier gateway 100.64.0.1/24, the "internet" host 198.51.100.80
#                    (HTTP), the public resolver 198.51.100.53 (dnsmasq), and a link to
#   twofold-org      the organisation: its VPN gateway (WireGuard, userspace wireguard-go:
#                    the host kernel may have no wireguard module) at 203.0.113.10:51820,
#                    inside the tunnel 10.8.0.1/16, its messaging server 10.8.1.10:5222 and
#                    resolver 10.8.0.53. No forwarding in the organisation: the tunnel leads
#                    to the organisation's own addresses only.
# Neither namespace has a route to the host's own network. QEMU's filter-dump records every
# frame on the board's NIC (carrier.pcap in the run folder): the carrier's view, which the
# tests search for the secure persona's plaintext. Sinks for the data-path benchmark and the
# fair-sharing test (net-sink.py) sit on the internet host and the organisation's server.
# Sourced by scripts/lab.

carrier_ns=twofold-carrier
org_ns=twofold-org
carrier_tap=tfcarrier0
carrier_board_mac=52:54:00:74:66:02

carrier_in() { ip netns exec "$1" "${@:2}"; }

# Starts one server in a namespace, in its own session, its pid appended to the run's list.
carrier_spawn() {  # run ns log command...
  local run=$1 ns=$2 logf=$3; shift 3
  ip netns exec "$ns" setsid "$@" >>"$logf" 2>&1 </dev/null &
  echo $! >>"$run/carrier.pids"
}

stop_carrier() {  # run
  local pid
  if [ -f "$1/carrier.pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$1/carrier.pids"
    rm -f "$1/carrier.pids"
  fi
  ip netns del "$carrier_ns" 2>/dev/null || true
  ip netns del "$org_ns" 2>/dev/null || true
  ip link del "$carrier_tap" 2>/dev/null || true
}

# Before QEMU: the namespaces, their servers and the tap QEMU opens.
start_carrier() {  # run
  local run=$1
  need_tools ip wireguard-go wg dnsmasq socat
  [ -s "$lab_build/org/gateway.key" ] || die "no organisation gateway key (build/lab/org); run: scripts/lab build"
  # A board that died without 'lab down' leaves its namespaces behind: only one board runs.
  ip netns del "$carrier_ns" 2>/dev/null || true
  ip netns del "$org_ns" 2>/dev/null || true
  ip link del "$carrier_tap" 2>/dev/null || true
  : >"$run/carrier.pids"
  ip netns add "$carrier_ns" && ip netns add "$org_ns" || die "cannot create the carrier's network namespaces"
  carrier_in "$carrier_ns" ip link set lo up
  carrier_in "$org_ns" ip link set lo up
  # The carrier's servers live on its loopback: addresses the board reaches through its
  # gateway, none of them the host's.
  carrier_in "$carrier_ns" ip addr add 198.51.100.80/32 dev lo
  carrier_in "$carrier_ns" ip addr add 198.51.100.53/32 dev lo
  ip link add tfc-org netns "$carrier_ns" type veth peer name tfo-carrier netns "$org_ns" \
    || die "cannot create the carrier-organisation link"
  carrier_in "$carrier_ns" ip addr add 203.0.113.1/24 dev tfc-org
  carrier_in "$carrier_ns" ip link set tfc-org up
  carrier_in "$org_ns" ip addr add 203.0.113.10/24 dev tfo-carrier
  carrier_in "$org_ns" ip link set tfo-carrier up
  carrier_in "$org_ns" ip route add default via 203.0.113.1
  carrier_in "$carrier_ns" sysctl -qw net.ipv4.ip_forward=1
  carrier_in "$org_ns" sysctl -qw net.ipv4.ip_forward=0
  # The organisation's gateway: wireguard-go in the foreground, its UAPI socket in
  # /var/run/wireguard (wg finds it there).
  carrier_spawn "$run" "$org_ns" "$run/org-gateway.log" env WG_PROCESS_FOREGROUND=1 \
    WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go tfgw0
  local i
  for i in $(seq 1 50); do carrier_in "$org_ns" wg show tfgw0 >/dev/null 2>&1 && break; sleep 0.1; done
  carrier_in "$org_ns" wg set tfgw0 private-key "$lab_build/org/gateway.key" listen-port 51820 \
    || die "the organisation's WireGuard gateway did not start: $(tail -3 "$run/org-gateway.log")"
  carrier_in "$org_ns" ip addr add 10.8.0.1/16 dev tfgw0
  carrier_in "$org_ns" ip link set tfgw0 up
  carrier_in "$org_ns" ip addr add 10.8.1.10/32 dev lo
  carrier_in "$org_ns" ip addr add 10.8.0.53/32 dev lo
  # Resolvers: each knows only its own side's names.
  carrier_spawn "$run" "$carrier_ns" "$run/dns-public.log" dnsmasq -k --no-resolv --no-hosts \
    --bind-interfaces --listen-address=198.51.100.53 --user=root --pid-file= --log-queries \
    --log-facility=- --address=/internet.example/198.51.100.80
  carrier_spawn "$run" "$org_ns" "$run/dns-org.log" dnsmasq -k --no-resolv --no-hosts \
    --bind-interfaces --listen-address=10.8.0.53 --user=root --pid-file= --log-queries \
    --log-facility=- --address=/messages.org.example/10.8.1.10
  # The internet host (HTTP, Python's http.server) and the organisation's messaging server (a
  # banner; it also keeps the first line every client sends (org-server.log), which the tests look for).
  mkdir -p "$run/internet-host"
  echo TWOFOLD-INTERNET-HOST >"$run/internet-host/index.html"
  carrier_spawn "$run" "$carrier_ns" "$run/internet-host.log" python3 -m http.server 80 \
    --bind 198.51.100.80 --directory "$run/internet-host"
  carrier_start_messaging "$run"
  carrier_start_bench "$run"
  # The board's NIC: a tap in the host's namespace for QEMU to open; carrier_attach_board
  # moves it into the carrier once QEMU holds it.
  ip tuntap add dev "$carrier_tap" mode tap || die "cannot create the tap $carrier_tap"
}

# The organisation's messaging server (10.8.1.10:5222): for now a banner that keeps the first
# line of every connection in org-server.log, which the tests look for. The next issue's
# XMPP server replaces this function's body (and nothing else here).
carrier_start_messaging() {  # run
  local run=$1
  carrier_spawn "$run" "$org_ns" "$run/org-server.err" socat TCP-LISTEN:5222,bind=10.8.1.10,fork,reuseaddr \
    SYSTEM:"echo TWOFOLD-ORG-SERVER; head -n 1 >>'$run/org-server.log'"
}

# The data-path benchmark and fair-sharing measurements (docs/benchmarks.md; docs/network.md,
# "Fair sharing"): a throughput sink on the internet host (TCP 5201), its flood sink (TCP
# 5202, the personal persona's flood) and one on the organisation's server (TCP 5201, through
# the tunnel), and the orders the personas' witnesses (guests/net/net-bench) fetch: personal's
# from the internet host (lab/personal), secure's from the organisation's lab web server
# (10.8.1.10:8080, lab/secure), written by net_order.
carrier_start_bench() {  # run
  local run=$1
  mkdir -p "$run/internet-host/lab" "$run/org-www/lab"
  carrier_spawn "$run" "$carrier_ns" "$run/sink-internet.log" python3 "$lab_root/scripts/lab.d/net-sink.py" \
    --bind 198.51.100.80 --tcp 5201
  carrier_spawn "$run" "$carrier_ns" "$run/sink-flood.log" python3 "$lab_root/scripts/lab.d/net-sink.py" \
    --bind 198.51.100.80 --tcp 5202
  carrier_spawn "$run" "$org_ns" "$run/sink-org.log" python3 "$lab_root/scripts/lab.d/net-sink.py" \
    --bind 10.8.1.10 --tcp 5201
  carrier_spawn "$run" "$org_ns" "$run/org-www.log" python3 -m http.server 8080 \
    --bind 10.8.1.10 --directory "$run/org-www"
}

# Posts an order for a persona's net-bench witness: a sequence number it has not run yet, then
# the order's words. Written whole (rename), so a witness never reads half an order.
net_order() {  # run persona words...
  local run=$1 who=$2 dir seq; shift 2
  case $who in personal) dir=$run/internet-host/lab ;; secure) dir=$run/org-www/lab ;; *) return 1 ;; esac
  seq=$(( $(cat "$dir/$who.seq" 2>/dev/null || echo 0) + 1 ))
  echo "$seq" >"$dir/$who.seq"
  echo "$seq $*" >"$dir/$who.new" && mv "$dir/$who.new" "$dir/$who"
}

# QEMU arguments: the board's data link NIC and the carrier-side capture.
carrier_qemu_args() {  # run
  # vnet_hdr=off: Debian's QEMU 7.2 filter-dump writes the virtio-net header in front of
  # every frame when the tap has one (seen on the board: tcpdump could not read the capture).
  printf '%s\n' -netdev "tap,id=data,ifname=$carrier_tap,script=no,downscript=no,vnet_hdr=off" \
    -device "virtio-net-device,netdev=data,mac=$carrier_board_mac" \
    -object "filter-dump,id=carriercap,netdev=data,file=$1/carrier.pcap"
}

# After QEMU started: the tap into the carrier, the carrier's gateway address on it, and a
# watcher that enrols the secure persona's device key at the organisation's gateway when the
# persona prints it (as the organisation's device management would).
carrier_attach_board() {  # run
  local run=$1
  ip link set "$carrier_tap" netns "$carrier_ns" || die "cannot move $carrier_tap into $carrier_ns"
  carrier_in "$carrier_ns" ip addr add 100.64.0.1/24 dev "$carrier_tap"
  carrier_in "$carrier_ns" ip link set "$carrier_tap" up
  setsid bash -c "$(declare -f carrier_enrol_watch carrier_in); org_ns=$org_ns; carrier_enrol_watch '$run'" \
    >>"$run/org-gateway.log" 2>&1 </dev/null &
  echo $! >>"$run/carrier.pids"
}

carrier_enrol_watch() {  # run: bounded by the board's life (killed by stop_carrier)
  local run=$1 line key addr done=""
  while sleep 1; do
    line=$(grep -a -o 'TWOFOLD-NET secure enrol public-key=[A-Za-z0-9+/=]* address=[0-9./]*' "$run/serial.log" 2>/dev/null | tail -n 1)
    [ -n "$line" ] || continue
    key=${line#*public-key=}; key=${key%% *}; addr=${line##*address=}
    [ "$key" = "$done" ] && continue
    [[ $key =~ ^[A-Za-z0-9+/]{43}=$ ]] && [[ $addr =~ ^10\.8\.[0-9]+\.[0-9]+/32$ ]] || continue
    if carrier_in "$org_ns" wg set tfgw0 peer "$key" allowed-ips "$addr"; then
      echo "enrolled device key $key for $addr"; done=$key
    fi
  done
}
