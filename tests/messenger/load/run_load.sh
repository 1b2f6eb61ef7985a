#!/usr/bin/env bash
# The organisation's messaging server as an ejabberd cluster on loopback, and the load test
# against it (issue 17 item 6; docs/messaging.md "How it grows to 100 000 devices").
#   1. a test CA and a server certificate for the domain (openssl), as tests/messenger does
#   2. a private epmd and NODES ejabberd nodes (own config, spool and log directories under a
#      temp dir, own Erlang node names, c2s ports and distribution ports, all on 127.0.0.1)
#   3. nodes 2..NODES join node 1 (join_cluster); every node must list every other
#   4. OFFICERS accounts registered once (import_piefxis on node 1), visible on every node
#   5. twofold-messenger-load with the officers alternating between the nodes; while it runs,
#      each node's session count and resident memory are read
#   6. every node stopped, epmd stopped, the temp dir removed; nothing left running
# The ejabberdctl commands go through ejabberd's own ejabberd_ctl module, called the way
# /usr/sbin/ejabberdctl calls it, but as the invoking user: Debian's wrapper insists on
# root-or-ejabberd and su's to the system account, which owns none of this temp dir.
# Exit status: the load program's (0 PASS, 1 FAIL), 1 if the cluster did not form, 2 on bad
# usage; prints "messenger_load: SKIPPED" and exits 0 only when ejabberd is not installed.
set -euo pipefail

usage() {
  cat <<USAGE
usage: run_load.sh [--nodes N] [--officers N] [--rate R] [--messages M] [--keep] -- LOAD_PROGRAM [LOAD_OPTIONS...]
  --nodes N      ejabberd nodes in the cluster (default 2)
  --officers N   accounts registered and simulated (default 300)
  --rate R       messages a second each officer sends (default 1)
  --messages M   messages each officer sends (default 60)
  --shaper B     ejabberd's per-connection rate limit in bytes/s (default 100000)
  --keep         keep the temp dir (configs, logs) for a look afterwards
LOAD_OPTIONS are passed to the load program after the ones this script sets (see its --help).
USAGE
}
nodes=2 officers=300 rate=1 messages=60 shaper=100000 keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift 2 ;;
    --officers) officers=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --shaper) shaper=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "run_load: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ $# -ge 1 ] || { usage >&2; exit 2; }
load=$(realpath "$1"); shift
[[ $nodes =~ ^[1-9]$ && $officers =~ ^[0-9]+$ && $shaper =~ ^[1-9][0-9]*$ ]] \
  || { echo "run_load: --nodes 1..9, --officers and --shaper numbers" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
say() { echo "messenger_load: $*"; }

# ejabberd as Debian installs it: the Erlang runtime plus the application under ERL_LIBS
# (the same directory /usr/sbin/ejabberdctl exports).
erl_libs=$(sed -n "s/^ERL_LIBS='\(.*\)'$/\1/p" /usr/sbin/ejabberdctl 2>/dev/null || true)
if ! command -v erl >/dev/null || ! command -v epmd >/dev/null || [ -z "$erl_libs" ] \
   || ! compgen -G "$erl_libs/ejabberd-*/ebin/ejabberd.beam" >/dev/null; then
  say "SKIPPED: ejabberd is not installed (scripts/setup installs it)"
  exit 0
fi
for tool in openssl python3; do command -v $tool >/dev/null || { say "FAIL: $tool is missing"; exit 1; }; done

domain=messages.test
work=$(mktemp -d /tmp/twofold-load-XXXXXX)
pids=() epmd_pid="" load_pid=""
cleanup() {
  local status=$?
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
  local n
  for n in "${!pids[@]}"; do kill "${pids[$n]}" 2>/dev/null || true; done
  for n in "${!pids[@]}"; do wait "${pids[$n]}" 2>/dev/null || true; done
  if [ -n "$epmd_pid" ]; then kill "$epmd_pid" 2>/dev/null; wait "$epmd_pid" 2>/dev/null || true; fi
  if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
  exit $status
}
trap cleanup EXIT
# ctest's timeout and ^C end the script through the EXIT trap too.
trap 'exit 143' TERM
trap 'exit 130' INT
show_logs() { local f; for f in "$work"/node*/ejabberd.log; do echo "--- $f"; tail -20 "$f"; done; }

# 1. The organisation's test CA and the server certificate (ejabberd wants cert and key in one PEM).
(
  cd "$work"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
    -subj "/CN=Messenger Load Test CA" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
    -subj "/CN=$domain" 2>/dev/null
  printf 'subjectAltName=DNS:%s\n' "$domain" > san.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
    -extfile san.ext 2>/dev/null
  cat server.crt server.key > server.pem
)

# 2. Ports (free now on 127.0.0.1): epmd, then per node a c2s and a distribution port.
read -r -a ports <<<"$(python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(1 + 2 * int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$nodes")"
epmd_port=${ports[0]}
cookie=$(openssl rand -hex 16)
export HOME="$work/home" ERL_EPMD_PORT=$epmd_port ERL_LIBS=$erl_libs ERL_MAX_PORTS=32000 ERL_MAX_ETS_TABLES=1400
mkdir -p "$HOME"
node_name() { echo "twofold-load$1@localhost"; }
c2s_port() { echo "${ports[$((2 * $1 - 1))]}"; }
dist_port() { echo "${ports[$((2 * $1))]}"; }
loopback_dist=(-kernel inet_dist_use_interface '{127,0,0,1}')
# ejabberdctl COMMAND... against node N.
ctl() {
  local n=$1; shift
  erl -sname "ctl-$$-$RANDOM@localhost" -setcookie "$cookie" "${loopback_dist[@]}" -hidden -noinput \
    -s ejabberd_ctl -extra "$(node_name "$n")" "$@"
}

# +sbwt none...: the schedulers sleep when idle instead of spinning, so the CPU time read below
# is work done, not busy-waiting (and the shared machine is spared the spinning).
epmd -address 127.0.0.1 -port "$epmd_port" &
epmd_pid=$!
t0=$SECONDS
for n in $(seq 1 "$nodes"); do
  dir="$work/node$n"
  mkdir -p "$dir/db"
  sed -e "s#@DOMAIN@#$domain#; s#@IP@#127.0.0.1#; s#@PORT@#$(c2s_port "$n")#; s#@CERT@#$work/server.pem#; s#@CA@#$work/ca.pem#; s#@SHAPER@#$shaper#" \
    "$here/ejabberd.yml.in" > "$dir/ejabberd.yml"
  (
    cd "$dir"
    exec env EJABBERD_CONFIG_PATH="$dir/ejabberd.yml" EJABBERD_LOG_PATH="$dir/ejabberd.log" \
      erl -sname "$(node_name "$n")" -setcookie "$cookie" +K true +P 250000 +sbwt none +sbwtdcpu none +sbwtdio none \
      "${loopback_dist[@]}" \
      -kernel inet_dist_listen_min "$(dist_port "$n")" inet_dist_listen_max "$(dist_port "$n")" \
      -mnesia dir "\"$dir/db\"" -s ejabberd -noinput > "$dir/erl.out" 2>&1
  ) &
  pids[$n]=$!
done
for n in $(seq 1 "$nodes"); do
  deadline=$((SECONDS + 60))
  until ctl "$n" status 2>/dev/null | grep -q "is started"; do
    kill -0 "${pids[$n]}" 2>/dev/null || { say "FAIL: node $n exited"; cat "$work/node$n/erl.out"; show_logs; exit 1; }
    [ $SECONDS -lt $deadline ] || { say "FAIL: node $n did not start in 60 s"; show_logs; exit 1; }
    sleep 1
  done
done
say "$nodes nodes started in $((SECONDS - t0)) s (c2s ports$(for n in $(seq 1 "$nodes"); do printf ' %s' "$(c2s_port "$n")"; done))"

# 3. The cluster: every other node joins node 1, then every node must list all of them.
for n in $(seq 2 "$nodes"); do
  ctl "$n" join_cluster "$(node_name 1)" > "$work/join$n.out" 2>&1 \
    || { say "FAIL: join_cluster on node $n"; cat "$work/join$n.out"; show_logs; exit 1; }
done
for n in $(seq 1 "$nodes"); do
  # Node names with a '-' print as quoted atoms.
  listed=$(ctl "$n" list_cluster 2>&1 | tr -d "'" || true)
  for m in $(seq 1 "$nodes"); do
    grep -qx "$(node_name "$m")" <<<"$listed" \
      || { say "FAIL: cluster did not form: node $n lists '$(echo $listed)', not $(node_name "$m")"; show_logs; exit 1; }
  done
  say "node $n lists the cluster: $(echo $listed)"
done

# 4. The officers' accounts, in one import on node 1 (one ejabberd_ctl call per account costs
# an Erlang VM start, ~1 s each); counted back on the last node, through the cluster.
password=$(openssl rand -hex 12)
{
  echo "<?xml version='1.0' encoding='UTF-8'?>"
  echo "<server-data xmlns='urn:xmpp:pie:0'><host jid='$domain'>"
  for i in $(seq 0 $((officers - 1))); do echo "<user name='officer$i' password='$password'/>"; done
  echo "</host></server-data>"
} > "$work/officers.xml"
ctl 1 import_piefxis "$work/officers.xml" > "$work/import.out" 2>&1 \
  || { say "FAIL: import_piefxis"; cat "$work/import.out"; show_logs; exit 1; }
registered=$(ctl "$nodes" registered_users "$domain" | grep -c '^officer' || true)
[ "$registered" -eq "$officers" ] || { say "FAIL: $registered of $officers accounts visible on node $nodes"; exit 1; }
say "$officers accounts registered (counted on node $nodes)"

# The generator trusts only --ca: with a CA that did not issue the server's certificate, no
# officer may come online (the same program, 3 officers, must FAIL with a refused certificate).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/other-ca.key" \
  -out "$work/other-ca.pem" -days 2 -subj "/CN=Another CA" 2>/dev/null
if "$load" --server "127.0.0.1:$(c2s_port 1)" --domain "$domain" --ca "$work/other-ca.pem" --password "$password" \
     --officers 3 --messages 1 --connect-timeout 20 > "$work/pinning.out" 2>&1 \
   || ! grep -q "server certificate refused" "$work/pinning.out"; then
  say "FAIL: a server certificate from another CA was not refused"; cat "$work/pinning.out"; exit 1
fi
say "a certificate from another CA is refused ($(grep -m1 'certificate refused' "$work/pinning.out"))"

# 5. The load. Each node's resident memory and CPU time (user+system, all its threads) are read
# idle, once every officer is available (the logins' cost) and once the messages are drained
# (the messages' cost); CPU time, unlike latency, does not depend on what else the machine runs.
rss_kib() { ps -o rss= -p "$1" 2>/dev/null | tr -d ' '; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
tck=$(getconf CLK_TCK)
declare -A rss_idle cpu_idle cpu_online
for n in $(seq 1 "$nodes"); do rss_idle[$n]=$(rss_kib "${pids[$n]}"); cpu_idle[$n]=$(cpu_ticks "${pids[$n]}"); done
servers=()
for n in $(seq 1 "$nodes"); do servers+=(--server "127.0.0.1:$(c2s_port "$n")"); done
: > "$work/load.out"  # exists before tail follows it
"$load" "${servers[@]}" --domain "$domain" --ca "$work/ca.pem" --password "$password" \
  --officers "$officers" --rate "$rate" --messages "$messages" "$@" > "$work/load.out" 2>&1 &
load_pid=$!
tail -n +1 -f --pid=$load_pid "$work/load.out" &
tail_pid=$!
wait_line() {  # a line of the load program's output, while it runs (bounded)
  local deadline=$((SECONDS + $2))
  until grep -q "$1" "$work/load.out"; do
    kill -0 $load_pid 2>/dev/null && [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}
cpu_s() { awk -v t="$1" -v k="$tck" 'BEGIN { printf "%.2f", t / k }'; }
if wait_line "^load: available $officers/" 300; then
  declare -A rss_online
  for n in $(seq 1 "$nodes"); do cpu_online[$n]=$(cpu_ticks "${pids[$n]}"); rss_online[$n]=$(rss_kib "${pids[$n]}"); done
  for n in $(seq 1 "$nodes"); do
    local_sessions=$(ctl "$n" connected_users_info 2>/dev/null | grep -c "$(node_name "$n")" || true)
    say "node $n: $local_sessions sessions on this node ($(ctl "$n" connected_users_number 2>/dev/null || echo '?') in the cluster)," \
        "RSS ${rss_idle[$n]} KiB idle -> ${rss_online[$n]} KiB," \
        "CPU for the logins $(cpu_s $((cpu_online[$n] - cpu_idle[$n]))) s"
  done
  # The messages' CPU starts after these ejabberdctl calls, which cost the nodes some too.
  for n in $(seq 1 "$nodes"); do cpu_online[$n]=$(cpu_ticks "${pids[$n]}"); done
  if wait_line "^load: drained" $((messages * 3 + 120)); then
    for n in $(seq 1 "$nodes"); do
      kill -0 "${pids[$n]}" 2>/dev/null || { say "node $n: gone"; continue; }
      say "node $n: RSS after the messages $(rss_kib "${pids[$n]}") KiB, CPU for the messages $(cpu_s $(( $(cpu_ticks "${pids[$n]}") - cpu_online[$n] ))) s"
    done
  fi
fi
set +e
wait $load_pid
status=$?
set -e
load_pid=""
wait $tail_pid 2>/dev/null || true

# 6. Clean shutdown: stop every node, wait for it, then epmd; nothing may be left.
for n in $(seq "$nodes" -1 1); do ctl "$n" stop > /dev/null 2>&1 || say "stop on node $n failed"; done
for n in $(seq 1 "$nodes"); do
  deadline=$((SECONDS + 30))
  while kill -0 "${pids[$n]}" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { say "FAIL: node $n did not stop in 30 s"; exit 1; }
    sleep 0.2
  done
  wait "${pids[$n]}" 2>/dev/null || true
  unset "pids[$n]"
done
kill "$epmd_pid"; wait "$epmd_pid" 2>/dev/null || true; epmd_pid=""
left=$(pgrep -f "$work" || true)
[ -z "$left" ] || { say "FAIL: processes left running: $left"; exit 1; }
say "cluster stopped cleanly, nothing left running"
exit $status
