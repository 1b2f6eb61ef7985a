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
