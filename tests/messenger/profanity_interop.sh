#!/usr/bin/env bash
# Interop with an independent OMEMO client from Debian: profanity 0.13 (libsignal-protocol-c,
# its own XMPP stack) against twofold-messenger, both on a prosody started here on 127.0.0.1.
# profanity has no batch mode, so it runs in a private tmux server and is typed at, as a
# person would. Checks: profanity -> twofold decrypted, twofold -> profanity decrypted, and
# profanity's delivery receipt reaches twofold.
#   usage: profanity_interop.sh TWOFOLD_MESSENGER PROSODY_TEMPLATE
set -euo pipefail
messenger=$(realpath "$1") template=$(realpath "$2")
for tool in profanity prosody prosodyctl tmux openssl; do
  command -v "$tool" >/dev/null || { echo "interop: $tool is missing (scripts/setup installs it)"; exit 1; }
done
work=$(mktemp -d /tmp/twofold-interop-XXXXXX)
sock="twofold-interop-$$"
prosody_pid=""
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  [ -n "$prosody_pid" ] && kill "$prosody_pid" 2>/dev/null && wait "$prosody_pid" 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "interop: FAIL: $*"; echo "--- twofold"; cat "$work/alice.out" 2>/dev/null; echo "--- profanity"; tmux -L "$sock" capture-pane -p -t dave 2>/dev/null | grep -v '^\s*$' | tail -15; exit 1; }
# Polls for a fixed string in a command's output (bounded).
wait_for() {  # seconds, needle, command...
  local deadline=$(( $(date +%s) + $1 )) needle=$2; shift 2
  until "$@" 2>/dev/null | grep -qF -- "$needle"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}
pane() { tmux -L "$sock" capture-pane -p -t "$1"; }
type_at() { tmux -L "$sock" send-keys -t "$1" "$2" Enter; }

domain=messages.test
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cd "$work"
mkdir -p data certs home
# The organisation's CA and the server's certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
  -subj "/CN=Interop Test CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
  -subj "/CN=$domain" 2>/dev/null
printf 'subjectAltName=DNS:%s\n' "$domain" > san.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
  -extfile san.ext 2>/dev/null
sed -e "s#@DOMAIN@#$domain#; s#@PORT@#$port#; s#@INTERFACE@#127.0.0.1#; s#@DATA@#$work/data#" \
    -e "s#@CERTDIR@#$work/certs#; s#@CERT@#$work/server.pem#; s#@KEY@#$work/server.key#" \
    -e "s#@PIDFILE@#$work/prosody.pid#; s#@LOG@#$work/prosody.log#" "$template" > prosody.cfg.lua
prosodyctl --config "$work/prosody.cfg.lua" register alice "$domain" pw-alice >/dev/null 2>&1
prosodyctl --config "$work/prosody.cfg.lua" register dave "$domain" pw-dave >/dev/null 2>&1
prosody --config "$work/prosody.cfg.lua" -F > prosody.out 2>&1 &
prosody_pid=$!
wait_for 20 "Activated service 'c2s'" cat prosody.log || fail "prosody did not start"

# profanity: log in, generate its OMEMO identity.
env_prof=(env HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share")
tmux -L "$sock" new-session -d -s dave -x 220 -y 50 "${env_prof[*]} profanity"
wait_for 20 "Type '/help'" pane dave || fail "profanity did not start"
# tls trust: profanity is not the client under test; twofold's own CA pinning is tested in
# messenger_prosody_test (server_certificate_from_another_ca_is_refused).
type_at dave "/connect dave@$domain server 127.0.0.1 port $port tls trust"
wait_for 10 "password" pane dave || fail "profanity did not ask for the password"
type_at dave "pw-dave"
wait_for 20 "logged in successfully" pane dave || fail "profanity did not log in"
type_at dave "/omemo gen"
identity="$work/home/.local/share/profanity/omemo/dave_at_$domain/identity.txt"
wait_for 30 "identity_key_public" cat "$identity" || fail "profanity generated no OMEMO identity"
dave_device=$(sed -n 's/^device_id=//p' "$identity")
dave_key=$(sed -n 's/^identity_key_public=//p' "$identity")

# The organisation enrols dave's profanity device: alice's provisioning lists exactly it.
eval "$("$messenger" keygen | sed 's/ = /=/')"
cat > alice.toml <<TOML
[account]
jid = "alice@$domain"
password = "pw-alice"
device_id = 1001
identity_public = "$identity_public"
identity_private = "$identity_private"
[server]
host = "127.0.0.1"
port = $port
domain = "$domain"
ca = "ca.pem"
[[contact]]
jid = "dave@$domain"
devices = [ { id = $dave_device, identity = "$dave_key" } ]
TOML
tmux -L "$sock" new-session -d -s alice -x 200 -y 50 \
  "$messenger run --provisioning $work/alice.toml --state $work/alice-state > $work/alice.out 2>&1"
wait_for 20 "== online" cat alice.out || fail "twofold-messenger did not come online"

# profanity -> twofold. Blind trust on profanity's side (its trust store is not under test).
type_at dave "/omemo trustmode blind"
type_at dave "/msg alice@$domain"
type_at dave "/omemo start"
sleep 3
type_at dave "hello from profanity"
wait_for 20 "<< dave@$domain dave@$domain: hello from profanity" cat alice.out \
  || fail "twofold did not decrypt profanity's message"
echo "interop: profanity -> twofold: decrypted"

# twofold -> profanity, with profanity's receipt.
tmux -L "$sock" send-keys -t alice "/to dave@$domain hello from twofold" Enter
wait_for 20 "hello from twofold" pane dave || fail "profanity did not show twofold's message"
echo "interop: twofold -> profanity: decrypted"
wait_for 20 "delivered to dave@$domain" cat alice.out || fail "no delivery receipt from profanity"
echo "interop: profanity's delivery receipt reached twofold"
grep -rqF "hello from" data && fail "plaintext in prosody's store"
echo "interop: PASS (no plaintext in prosody's store)"
