# The lab's carrier network (docs/network.md): what is on the other side of the board's
# mobile data link. Two network namespaces on the host, nothing else of the host reachable:
#   twofold-carrier  the carrier: the board's NIC (a tap, moved in once QEMU holds it) with
#                    the carrier gateway 100.64.0.1/24, the "internet" host 198.51.100.80
#                    (HTTP), the public resolver 198.51.100.53 (dnsmasq), and a link to
#   twofold-org      the organisation: its VPN gateway (WireGuard, userspace wireguard-go:
#                    the host kernel may have no wireguard module) at 203.0.113.10:51820,
#                    inside the tunnel 10.8.0.1/16, its messaging server (a 2-node ejabberd
#                    cluster, c2s on 10.8.1.10:5222 and 10.8.1.11:5222) and resolver 10.8.0.53. No forwarding in the organisation: the tunnel leads
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
  local pid t
  # The messaging nodes first, and waited for (bounded): SIGTERM makes an Erlang node stop
  # cleanly, closing its mnesia files, which the next boot's node reopens.
  if [ -f "$1/org-ejabberd.pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$1/org-ejabberd.pids"
    while read -r pid; do
      for t in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    done <"$1/org-ejabberd.pids"
    rm -f "$1/org-ejabberd.pids"
  fi
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
  # The internet host (HTTP, Python's http.server) and the organisation's messaging server
  # (the ejabberd cluster, with the tunnel witness's banner beside it: carrier_start_messaging).
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

# The organisation's messaging server (docs/messaging.md, "On the board"): a cluster of two
# ejabberd nodes from the load test's template (tests/messenger/load/ejabberd.yml.in), node A
# serving c2s on 10.8.1.10:5222 (the address the phone is provisioned with), node B on
# 10.8.1.11:5222 (headquarters logs in there, so every message crosses the cluster). Same
# domain and certificate, the lab organisation's (build/lab/org/messaging), and the accounts
# `scripts/lab build` made. The nodes speak Erlang distribution only on the namespace's
# loopback (their own epmd on 127.0.0.1:4370, distribution ports 4371/4372): nothing of the
# cluster's interconnect is reachable through the tunnel. Their mnesia directories live beside
# the board's state (${lab_state_dir:-run}), so the power cycles of one test share them, as
# the phone's sealed volume is shared; a later boot finds the cluster already formed. Also here:
#   - the tunnel helper's TCP witness, a banner on 10.8.1.10:5250 that keeps the first line of
#     every connection in org-server.log (it was on 5222 before the messaging server took it);
#   - the organisation's enrolment service for the messenger (10.8.1.10:8081, reachable only
#     through the tunnel): it serves the phone's provisioning file once the lab's checks put it
#     there (checks-msg.sh), as device management would enrol the device;
#   - the peer at headquarters, `twofold-messenger run` with its line interface: commands are
#     written to msg-hq.fifo, what it prints goes to msg-hq.out.
org_nodes=(a b)
declare -A org_node_ip=([a]=10.8.1.10 [b]=10.8.1.11) org_node_dist=([a]=4371 [b]=4372)
org_epmd_port=4370
org_node_name() { echo "twofold-org$1@localhost"; }

# ejabberdctl COMMAND... against node a or b, inside the organisation's namespace: ejabberd's
# own ejabberd_ctl module called as /usr/sbin/ejabberdctl calls it, without its su to the
# system account (which owns none of the lab's files), as tests/messenger/load/run_load.sh does.
org_ctl() {  # run node command...
  local run=$1 node=$2; shift 2
  ip netns exec "$org_ns" env HOME="$run/org-ejabberd-home" ERL_EPMD_PORT=$org_epmd_port \
    ERL_LIBS="$(cat "$run/org-ejabberd.libs")" ERL_INETRC="$run/org-ejabberd.inetrc" \
    erl -sname "ctl-$$-$RANDOM@localhost" -setcookie "$(cat "$run/org-ejabberd.cookie")" \
    -kernel inet_dist_use_interface '{127,0,0,1}' -hidden -noinput \
    -s ejabberd_ctl -extra "$(org_node_name "$node")" "$@"
}

carrier_start_messaging() {  # run
  local run=$1 org=$lab_build/org/messaging state=${lab_state_dir:-$1}
  carrier_spawn "$run" "$org_ns" "$run/org-server.err" socat TCP-LISTEN:5250,bind=10.8.1.10,fork,reuseaddr \
    SYSTEM:"echo TWOFOLD-ORG-SERVER; head -n 1 >>'$run/org-server.log'"
  [ -s "$org/officer1.toml" ] && [ -x "$lab_messenger" ] || { warn "no lab messaging organisation (build/lab/org/messaging); run: scripts/lab build"; return 0; }
  need_tools erl epmd openssl
  local libs; libs=$(sed -n "s/^ERL_LIBS='\(.*\)'$/\1/p" /usr/sbin/ejabberdctl 2>/dev/null || true)
  compgen -G "$libs/ejabberd-*/ebin/ejabberd.beam" >/dev/null || die "ejabberd is not installed (scripts/setup lab installs it)"
  echo "$libs" >"$run/org-ejabberd.libs"
  (umask 077; openssl rand -hex 16 >"$run/org-ejabberd.cookie")
  mkdir -p "$run/org-ejabberd-home" "$run/org-enrol/messenger"
  # Host names from /etc/hosts only ("localhost" of the node names): the namespace has no
  # resolver for the host's, and each lookup of it cost an ejabberdctl call seconds.
  echo '{lookup, [file]}.' >"$run/org-ejabberd.inetrc"
  carrier_in "$org_ns" ip addr add 10.8.1.11/32 dev lo
  carrier_spawn "$run" "$org_ns" "$run/org-epmd.log" epmd -address 127.0.0.1 -port $org_epmd_port
  local n dir
  for n in "${org_nodes[@]}"; do
    dir=$state/org-ejabberd-$n
    mkdir -p "$dir/db"
    (umask 077; cat "$org/server.pem" "$org/server.key" >"$dir/server.pem")
    sed -e "s#@DOMAIN@#$msg_domain#; s#@IP@#${org_node_ip[$n]}#; s#@PORT@#5222#; s#@CERT@#$dir/server.pem#" \
        -e "s#@CA@#$org/ca.pem#; s#@SHAPER@#100000#" \
        "$lab_root/tests/messenger/load/ejabberd.yml.in" >"$dir/ejabberd.yml"
    # Its own pid list: stop_carrier waits for these to end, so that a node's mnesia files are
    # closed before the next boot's node opens them.
    ip netns exec "$org_ns" setsid env HOME="$run/org-ejabberd-home" ERL_EPMD_PORT=$org_epmd_port ERL_LIBS="$libs" \
      ERL_INETRC="$run/org-ejabberd.inetrc" \
      ERL_MAX_PORTS=32000 EJABBERD_CONFIG_PATH="$dir/ejabberd.yml" EJABBERD_LOG_PATH="$run/ejabberd-$n.log" \
      erl -sname "$(org_node_name "$n")" -setcookie "$(cat "$run/org-ejabberd.cookie")" +K true \
      +sbwt none +sbwtdcpu none +sbwtdio none -kernel inet_dist_use_interface '{127,0,0,1}' \
      inet_dist_listen_min "${org_node_dist[$n]}" inet_dist_listen_max "${org_node_dist[$n]}" \
      -mnesia dir "\"$dir/db\"" -s ejabberd -noinput >>"$run/ejabberd-$n.out" 2>&1 </dev/null &
    echo $! >>"$run/org-ejabberd.pids"
  done
  local deadline=$((SECONDS + 90))
  for n in "${org_nodes[@]}"; do
    until org_ctl "$run" "$n" status 2>/dev/null | grep -q "is started"; do
      [ $SECONDS -lt $deadline ] || { warn "ejabberd node $n did not start ($run/ejabberd-$n.out)"; break; }
      sleep 1
    done
  done
  # The cluster: node b joins node a once (the join is kept in both nodes' mnesia schema).
  if ! org_ctl "$run" b list_cluster 2>/dev/null | tr -d "'" | grep -qx "$(org_node_name a)"; then
    org_ctl "$run" b join_cluster "$(org_node_name a)" >>"$run/org-ejabberd.err" 2>&1 \
      || warn "join_cluster on node b failed ($run/org-ejabberd.err)"
  fi
  # Accounts: created by the organisation (ejabberdctl register), never in-band; an account
  # that exists from an earlier boot is kept.
  local a
  for a in officer1 hq; do
    org_ctl "$run" a check_account "$a" "$msg_domain" >/dev/null 2>&1 \
      || org_ctl "$run" a register "$a" "$msg_domain" "$(cat "$org/$a.password")" >>"$run/org-ejabberd.err" 2>&1 \
      || warn "ejabberdctl register $a failed ($run/org-ejabberd.err)"
  done
  carrier_spawn "$run" "$org_ns" "$run/org-enrol.log" python3 -m http.server 8081 \
    --bind 10.8.1.10 --directory "$run/org-enrol"
  # Headquarters: online from the start, so its OMEMO bundle is on the server before the phone
  # looks for it. Its provisioning names node b (build.sh). The holder keeps the fifo open
  # between the commands the checks write.
  rm -f "$run/msg-hq.fifo"; mkfifo "$run/msg-hq.fifo"
  ip netns exec "$org_ns" setsid "$lab_messenger" run --provisioning "$org/hq.toml" --state "$state/msg-hq-state" \
    <"$run/msg-hq.fifo" >>"$run/msg-hq.out" 2>&1 &
  echo $! >>"$run/carrier.pids"
  setsid sleep 86400 >"$run/msg-hq.fifo" &
  echo $! >>"$run/carrier.pids"
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
