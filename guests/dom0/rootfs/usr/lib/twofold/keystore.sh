# Sourced by rc.toolstack (mark, fail, wait_for come from there). The measured boot's dom0
# part (docs/security.md, "Sealed storage"): the firmware measured Xen into PCR 8 and dom0's
# kernel and initramfs into PCR 9 (the lab's host does it for the emulated board); dom0
# measures the persona policy and the secure persona's kernel and initramfs into PCR 11
# before the manager reads any of them. The secure root needs no measurement of its own:
# dm-verity checks it against the root hash on the kernel command line, which is in the policy.
keystore_measure() {
  if ! wait_for 30 test -c /dev/tpmrm0; then
    fail "no TPM (/dev/tpmrm0) after 30 s: nothing measured, the secure persona stays locked"
    return 1
  fi
  files="/var/lib/twofold/personas.toml ${TWOFOLD_MEASURED_SECURE:-/var/lib/twofold/personas/secure/Image /var/lib/twofold/personas/secure/initramfs.cpio.gz}"
  # shellcheck disable=SC2086 # a list of paths
  if out=$(twofold-keystore measure --pcr 11 $files 2>&1); then
    mark "measured into PCR 11: $(echo "$out" | sed 's/^PCR 11 += sha256 \([0-9a-f]\{16\}\)[0-9a-f]* \(.*\)$/\2 \1/' | tr '\n' ';')"
  else
    fail "PCR 11 measurement failed: $(echo "$out" | tr '\n' ' ')"
    return 1
  fi
}

# A persona whose encrypted volume dom0 has not opened yet waits for `twofold secure unlock`.
persona_locked() {  # name
  [ "$1" = secure ] && [ ! -e "/dev/mapper/twofold-$1-xvdb" ] && grep -q '^encrypted = true' /var/lib/twofold/personas.toml
}

# dom0's own keys (docs/sealed-storage.md, "dom0's keys"): the audit log's Ed25519 signing key
# and the modem backend's number-hashing key are derived at every boot from dom0's secret,
# which the TPM releases only to the measured Xen + dom0 (PCR 8, 9). They live in dom0's
# tmpfs; the persistent disk holds only the audit public key, for verifiers. A dom0 that
# cannot unseal its secret (changed measurements, no TPM) gets throw-away keys for this boot:
# its audit records then fail verification against the pinned public key, and its number
# hashes match no earlier boot's.
keystore_dom0_keys() {
  keys=/run/twofold/keys pub=/var/lib/twofold/audit-signing-key.pem.pub
  mkdir -p /run/twofold && (umask 077 && mkdir -p "$keys") || { fail "cannot create $keys"; return 1; }
  ok=1
  if out=$(twofold-keystore dom0-key --purpose audit-signing --out "$keys/audit-signing-key.pem" \
             --public-out "$keys/audit-signing-key.pem.pub" 2>&1) &&
     out2=$(twofold-keystore dom0-key --purpose modem-number --out "$keys/modem-number-key" 2>&1); then
    if [ -s "$pub" ] && ! cmp -s "$pub" "$keys/audit-signing-key.pem.pub"; then
      mv "$pub" "$pub.retired-$(date +%s)"
      mark "dom0 keys: the audit public key changed; the old one is kept as $pub.retired-*"
    fi
    cp "$keys/audit-signing-key.pem.pub" "$pub.new" && mv "$pub.new" "$pub"
    mark "dom0 keys derived from dom0's sealed secret: $keys/audit-signing-key.pem (public $(sha256sum "$pub" | cut -c1-16)), $keys/modem-number-key"
  else
    ok=0
    fail "dom0 keys: dom0's secret not released ($(echo "$out ${out2:-}" | tr '\n' ' ')): throw-away keys for this boot"
    rm -f "$keys/audit-signing-key.pem" "$keys/audit-signing-key.pem.pub"
    (umask 077 && head -c 32 /dev/urandom >"$keys/modem-number-key")
  fi
  # Plaintext keys an older dom0 kept on the persistent disk.
  for old in /var/lib/twofold/modem-number-key /var/lib/twofold/audit-signing-key.pem; do
    if [ -e "$old" ]; then
      shred -u "$old" 2>/dev/null || rm -f "$old"
      mark "dom0 keys: removed the plaintext key $old"
    fi
  done
  [ "$ok" = 1 ]
}
