#!/usr/bin/env bash
# The messenger's screen (twofold-messenger ui) driven as an officer would: keys typed into
# its terminal (a private tmux, 100x25 like a small console), the screen read back with
# tmux capture-pane. The peer at headquarters is a second twofold-messenger (line interface).
# Checks: the typed message reaches the peer decrypted; the screen shows it [delivered]; the
# peer's reply appears on the screen; the peer learns it was read; the conversation list
# counts an unread message in a conversation that is not open; no plaintext on the server.
#   usage: ui_screen.sh TWOFOLD_MESSENGER PROSODY_TEMPLATE
set -euo pipefail
messenger=$(realpath "$1") template=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/org_lib.sh"
fail() { echo "ui: FAIL: $*"; echo "--- screen"; pane officer 2>/dev/null; echo "--- hq"; cat "$work/hq.out" 2>/dev/null; exit 1; }
start_org_server officer:pw-officer hq:pw-hq dispatch:pw-dispatch || fail "prosody did not start"
cd "$work"
for who in officer hq dispatch; do "$messenger" keygen > "$who.keys"; done
write_provisioning officer 1001 pw-officer "hq:2001:$(public_key_of hq)" "dispatch:3001:$(public_key_of dispatch)"
write_provisioning hq 2001 pw-hq "officer:1001:$(public_key_of officer)"
write_provisioning dispatch 3001 pw-dispatch "officer:1001:$(public_key_of officer)"

in_tmux officer 100 25 "$messenger ui --provisioning $work/officer.toml --state $work/officer-state"
in_tmux hq 150 20 "$messenger run --provisioning $work/hq.toml --state $work/hq-state > $work/hq.out 2>&1"
in_tmux dispatch 150 20 "$messenger run --provisioning $work/dispatch.toml --state $work/dispatch-state > $work/dispatch.out 2>&1"
wait_for 20 "officer@$domain  online" pane officer || fail "the screen never showed online"
wait_for 20 "== online" cat hq.out || fail "hq did not come online"
wait_for 20 "== online" cat dispatch.out || fail "dispatch did not come online"
pane officer | grep -qF "> hq" || fail "the conversation list does not open on hq"

type_at officer "status report from the secure screen"
wait_for 20 "<< officer@$domain officer@$domain: status report from the secure screen" cat hq.out \
  || fail "hq did not receive the typed message decrypted"
echo "ui: typed on the screen -> hq decrypted"
wait_for 20 "status report from the secure screen [delivered]" pane officer || fail "the screen does not show [delivered]"
echo "ui: screen shows [delivered]"

type_at hq "/to officer@$domain copy that, stand by"
wait_for 20 "hq: copy that, stand by" pane officer || fail "hq's reply is not on the screen"
echo "ui: hq's reply on the screen"
wait_for 20 "read by officer@$domain" cat hq.out || fail "hq was not told the reply was read"
echo "ui: hq told its reply was read (the conversation was open)"

type_at dispatch "/to officer@$domain dispatch here"
wait_for 20 "dispatch (1)" pane officer || fail "no unread count for dispatch in the list"
pane officer | grep -qF "dispatch here" && fail "a message of a closed conversation is shown"
tmux -L "$sock" send-keys -t officer Down
wait_for 10 "dispatch: dispatch here" pane officer || fail "opening dispatch did not show its message"
echo "ui: unread count in the list, message shown when opened"
grep -rqF -e "status report" -e "copy that" -e "dispatch here" data && fail "plaintext in prosody's store"
echo "ui: PASS (no plaintext in prosody's store)"
pane officer | sed -n '1,8p'
