# Shared by the messenger's shell tests (sourced): a prosody on 127.0.0.1 from the project's
# config template with a test CA, a private tmux server to type at programs, bounded waits.
# Expects: $template (the prosody config template); sets $work, $port, $domain, $sock.
domain=messages.test
work=$(mktemp -d /tmp/twofold-msgtest-XXXXXX)
sock="twofold-msgtest-$$"
prosody_pid=""
org_cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  if [ -n "$prosody_pid" ]; then kill "$prosody_pid" 2>/dev/null; wait "$prosody_pid" 2>/dev/null || true; fi
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap org_cleanup EXIT

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
in_tmux() {  # session width height command
  tmux -L "$sock" new-session -d -s "$1" -x "$2" -y "$3" "$4"
}

# The organisation: CA, server certificate, prosody with the given accounts (local:password).
start_org_server() {  # local:password...
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$work/data" "$work/certs"
  (
    cd "$work"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
      -subj "/CN=Messenger Test CA" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
      -subj "/CN=$domain" 2>/dev/null
    printf 'subjectAltName=DNS:%s\n' "$domain" > san.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
      -extfile san.ext 2>/dev/null
  )
  sed -e "s#@DOMAIN@#$domain#; s#@PORT@#$port#; s#@INTERFACE@#127.0.0.1#; s#@DATA@#$work/data#" \
      -e "s#@CERTDIR@#$work/certs#; s#@CERT@#$work/server.pem#; s#@KEY@#$work/server.key#" \
      -e "s#@PIDFILE@#$work/prosody.pid#; s#@LOG@#$work/prosody.log#" "$template" > "$work/prosody.cfg.lua"
  local a
  for a in "$@"; do
    prosodyctl --config "$work/prosody.cfg.lua" register "${a%%:*}" "$domain" "${a#*:}" >/dev/null 2>&1 \
      || { echo "prosodyctl register ${a%%:*} failed"; return 1; }
  done
  prosody --config "$work/prosody.cfg.lua" -F > "$work/prosody.out" 2>&1 &
  prosody_pid=$!
  wait_for 20 "Activated service 'c2s'" cat "$work/prosody.log"
}

# A provisioning file for local (device, password, identity from `keygen` output in
# $work/LOCAL.keys) listing the given contacts (local:device:identity_public...).
write_provisioning() {  # local device password contact...
  local me=$1 device=$2 password=$3; shift 3
  local identity_public identity_private
  eval "$(sed 's/ = /=/' "$work/$me.keys")"
  {
    printf '[account]\njid = "%s@%s"\npassword = "%s"\ndevice_id = %s\n' "$me" "$domain" "$password" "$device"
    printf 'identity_public = "%s"\nidentity_private = "%s"\n' "$identity_public" "$identity_private"
    printf '[server]\nhost = "127.0.0.1"\nport = %s\ndomain = "%s"\nca = "ca.pem"\n' "$port" "$domain"
    local c
    for c in "$@"; do
      IFS=: read -r clocal cdevice ckey <<<"$c"
      printf '[[contact]]\njid = "%s@%s"\ndevices = [ { id = %s, identity = "%s" } ]\n' "$clocal" "$domain" "$cdevice" "$ckey"
    done
  } > "$work/$me.toml"
}
public_key_of() { sed -n 's/^identity_public = "\(.*\)"$/\1/p' "$work/$1.keys"; }
