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
here=$(cd "$(dirname "$0")" && pwd)
. "$here/org_lib.sh"
fail() { echo "interop: FAIL: $*"; echo "--- twofold"; cat "$work/alice.out" 2>/dev/null; echo "--- profanity"; pane dave 2>/dev/null | grep -v '^\s*$' | tail -15; exit 1; }
start_org_server alice:pw-alice dave:pw-dave || fail "prosody did not start"
cd "$work"

# profanity: log in, generate its OMEMO identity.
env_prof=(env HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share")
in_tmux dave 220 50 "${env_prof[*]} profanity"
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
"$messenger" keygen > alice.keys
write_provisioning alice 1001 pw-alice "dave:$dave_device:$dave_key"
in_tmux alice 200 50 \
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
type_at alice "/to dave@$domain hello from twofold"
wait_for 20 "hello from twofold" pane dave || fail "profanity did not show twofold's message"
echo "interop: twofold -> profanity: decrypted"
wait_for 20 "delivered to dave@$domain" cat alice.out || fail "no delivery receipt from profanity"
echo "interop: profanity's delivery receipt reached twofold"
grep -rqF "hello from" data && fail "plaintext in prosody's store"
echo "interop: PASS (no plaintext in prosody's store)"
