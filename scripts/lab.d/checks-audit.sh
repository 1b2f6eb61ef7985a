# The audit log on a full disk (issue 14, item 6; docs/audit.md, "Retention and a full
# disk"): another dom0 writer fills the board's storage disk; switching goes on, every
# switch is still recorded in the log's preallocated room, and the log still verifies. The
# filler is removed afterwards so the later checks run on a normal disk.
audit_records() {  # run: the record count `twofold status` reports
  dom0_exec "$1" 60 'twofold status | grep "^audit:"' | sed -n 's/^audit: \([0-9][0-9]*\) records.*/\1/p' | head -1
}

check_audit_full_disk() {  # run
  local run=$1 out before after avail fg1 fg2 verify
  before=$(audit_records "$run")
  out=$(dom0_exec "$run" 240 'dd if=/dev/zero of=/var/lib/twofold/disk-filler bs=1M 2>&1 | tail -1; sync; df -k /var/lib/twofold | tail -1') || out=""
  # df's "Available" is the field before "Use%" (console lines end in CR).
  avail=$(tr -d '\r' <<<"$out" | awk '/\/var\/lib\/twofold$/ { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+%$/) a = $(i - 1) } END { print a }')
  dom0_exec "$run" 60 'twofold switch secure' >/dev/null || true
  fg1=$(wait_foreground "$run" secure)
  dom0_exec "$run" 60 'twofold switch personal' >/dev/null || true
  fg2=$(wait_foreground "$run" personal)
  after=$(audit_records "$run")
  verify=$(dom0_exec "$run" 60 'twofold audit verify --public-key /var/lib/twofold/audit-signing-key.pem.pub /var/lib/twofold/audit | head -1') || verify=""
  dom0_exec "$run" 60 'rm -f /var/lib/twofold/disk-filler; sync' >/dev/null || true
  local detail="free ${avail:-?} KiB after the filler; switches: ${fg1:-?} then ${fg2:-?}; audit records ${before:-?} -> ${after:-?}; $(grep -o 'INTACT.*\|TAMPERED.*' <<<"$verify" | head -1 | cut -c1-120)"
  if [[ "$avail" =~ ^[0-9]+$ && "$avail" -lt 1024 && "$fg1" = secure && "$fg2" = personal \
        && "$before" =~ ^[0-9]+$ && "$after" =~ ^[0-9]+$ && "$after" -ge $((before + 2)) ]] && grep -q INTACT <<<"$verify"; then
    check_result "full disk: switching goes on, every switch audited" 0 "$detail"
  else
    check_result "full disk: switching goes on, every switch audited" 1 "$detail"
  fi
}
