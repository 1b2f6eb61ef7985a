# `lab build`: pinned .debs -> unpacked trees -> dom0 initramfs and guest images.
# Every step records a stamp of its inputs and is skipped when they did not change, so a
# second build with a warm cache takes seconds. Sourced by scripts/lab.

build_usage() {
  cat <<USAGE
usage: scripts/lab build [--skip-dom0-binaries] [--force] [--lock FILE]

Downloads the pinned arm64 packages (guests/packages.lock) into .cache/lab/debs/, unpacks
them (dpkg-deb -x, nothing runs on the host), cross-builds the project's dom0 binaries
(build/aarch64) and installs them into the dom0 root, builds the guest-side probes and the
lab's own hardware (the modem simulator, build/lab-host/), and writes build/lab/images/:
  xen                     the Xen arm64 image
  dom0-Image              dom0 kernel          dom0-initramfs.cpio(.gz)  dom0 root
  personal-Image          personal kernel      personal-initramfs.cpio.gz
  secure-Image            secure kernel        secure-initramfs.cpio.gz
  secure-root.img         dm-verity protected squashfs root + hash tree (secure-root.verity)
  secure-data.img         data volume (empty; dom0 formats it LUKS2 at the first PIN, docs/sealed-storage.md)
  personal.xml secure.xml libvirt domain definitions (also inside dom0)
  --skip-dom0-binaries  do not run the aarch64 CMake build (use what build/aarch64 has)
  --force               rebuild every step
  --lock FILE           use FILE instead of guests/packages.lock
A pinned version that has left the Debian archive (security updates replace the kernel every
few weeks) and is not cached is replaced by the archive's current version for this build: the
build says so and goes on, and images/packages.used (copied into each run folder) records the
versions used. 'scripts/lab pin' makes that the committed pin.
USAGE
}

lock_file() { echo "${lab_lock:-$lab_root/guests/packages.lock}"; }
# The versions this build uses (the lock's, or what replaced a vanished pin); 'lab up' and
# 'lab test' copy it into the run folder.
used_lock_file() { echo "$lab_images/packages.used"; }

# "image pkg:arch version" lines for one image (or all when no image is given), as used.
lock_entries() {
  grep -vE '^\s*(#|$)' "$(used_lock_file)" | { if [ -n "${1:-}" ]; then awk -v i="$1" '$1 == i'; else cat; fi; }
}

deb_path() {  # pkg:arch version -> cached .deb path (apt-get download's naming)
  local pkg=${1%%:*} arch=${1##*:} ver=${2//:/%3a}
  echo "$lab_cache/debs/${pkg}_${ver}_${arch}.deb"
}

# "pkg:arch version" for every version of the given packages that the archive's lists hold.
archive_versions() {  # pkg:arch...
  apt-cache madison "$@" 2>/dev/null | awk -F' [|] ' '{
      name = $1; gsub(/ /, "", name); sub(/:.*/, "", name)
      ver = $2; gsub(/ /, "", ver); n = split($3, w, " "); arch = w[n - 1]
      if (arch == "arm64" || arch == "all") print name ":arm64 " ver }' | sort -u
}

# Debian's security archive keeps only the newest build of a package, so a pin can vanish
# under a user who changed nothing (the kernel, every few weeks). A pinned version that is
# neither cached nor in the archive is replaced, for this build only, by the archive's
# current one: the images of such an image are re-resolved from their roots (a kernel update
# also renames the ABI package), every pin still to be had is kept, and each replacement is
# named. `lab pin` stays the deliberate update of the committed lock.
resolve_used_versions() {
  local lock used tmp spec ver image
  lock=$(lock_file); used=$(used_lock_file)
  [ -f "$lock" ] || die "no ${lock#"$lab_root"/}; run: scripts/lab pin"
  mkdir -p "$lab_images"
  local unknown=()
  while read -r _ spec ver; do
    [ -f "$(deb_path "$spec" "$ver")" ] || unknown+=("$spec $ver")
  done < <(grep -vE '^\s*(#|$)' "$lock" | sort -u -k2,3)
  if [ ${#unknown[@]} -eq 0 ]; then cp "$lock" "$used"; return 0; fi

  need_arm64_arch
  local avail gone=()
  avail=$(archive_versions "${unknown[@]%% *}")
  for spec in "${unknown[@]}"; do grep -qxF "$spec" <<<"$avail" || gone+=("$spec"); done
  if [ ${#gone[@]} -gt 0 ] && [ -z "${lab_did_update:-}" ]; then
    # A fresh machine's lists may be old or empty: ask the archive before replacing anything.
    lab_did_update=1
    log "debs: apt-get update (${#gone[@]} pinned versions are not in the local package lists)"
    apt-get update -q >/dev/null 2>&1 || warn "apt-get update failed; going on with the lists there are"
    avail=$(archive_versions "${unknown[@]%% *}")
    gone=()
    for spec in "${unknown[@]}"; do grep -qxF "$spec" <<<"$avail" || gone+=("$spec"); done
  fi
  if [ ${#gone[@]} -eq 0 ]; then cp "$lock" "$used"; return 0; fi

  local g
  for g in "${gone[@]}"; do warn "pinned ${g% *} ${g#* } is no longer in the Debian archive"; done
  tmp=$(mktemp)
  {
    echo "# Versions used by this build: ${lock#"$lab_root"/} with ${#gone[@]} vanished pin(s) replaced"
    echo "# by the archive's current versions on $(date -u '+%Y-%m-%d %H:%M UTC'). Run 'scripts/lab pin'"
    echo "# and commit guests/packages.lock to make the replacement the pin."
  } >"$tmp"
  local roots closure pinned line name new was replaced=0
  for image in dom0 personal secure; do
    if ! grep -vE '^\s*(#|$)' "$lock" | awk -v i="$image" '$1 == i { print $2 " " $3 }' \
         | grep -qxF -f <(printf '%s\n' "${gone[@]}"); then
      grep -vE '^\s*(#|$)' "$lock" | awk -v i="$image" '$1 == i' >>"$tmp"
      continue
    fi
    mapfile -t roots < <(grep -vE '^\s*(#|$)' "$lab_root/guests/$image/packages")
    mapfile -t closure < <(resolve_closure "${roots[@]}")
    [ ${#closure[@]} -gt 0 ] || die "could not resolve $image's packages from the archive (apt-cache depends gave nothing)"
    pinned=$(grep -vE '^\s*(#|$)' "$lock" | awk -v i="$image" '$1 == i { print $2 " " $3 }' \
               | grep -vxF -f <(printf '%s\n' "${gone[@]}") || true)
    while read -r name new; do
      line=$(awk -v n="$name" '$1 == n' <<<"$pinned")
      if [ -n "$line" ]; then
        echo "$image $line" >>"$tmp"
      else
        echo "$image $name $new" >>"$tmp"
        was=$(printf '%s\n' "${gone[@]}" | awk -v n="$name" '$1 == n { print $2 }' | head -1)
        if [ -n "$was" ]; then
          log "debs: $image: $name $new from the archive (replaces the vanished pin $was)"
        else
          log "debs: $image: $name $new from the archive (new in its closure: a renamed package, e.g. a kernel ABI bump)"
        fi
        replaced=$((replaced + 1))
      fi
    done < <(candidate_versions "${closure[@]}")
  done
  mv "$tmp" "$used"
  log "debs: ${#gone[@]} pin(s) vanished, $replaced package version(s) taken from the archive; used versions in ${used#"$lab_root"/}"
}

download_debs() {
  mkdir -p "$lab_cache/debs"
  resolve_used_versions
  local missing=() spec ver
  while read -r _ spec ver; do
    [ -f "$(deb_path "$spec" "$ver")" ] || missing+=("$spec=$ver")
  done < <(lock_entries | sort -u -k2,3)
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | grep -v '^$' | sort -u)
  [ ${#missing[@]} -eq 0 ] && { log "debs: all packages cached"; return 0; }
  log "debs: downloading ${#missing[@]} packages"
  local out rc=0
  out=$(cd "$lab_cache/debs" && apt-get download -q "${missing[@]}" 2>&1) || rc=$?
  if [ $rc -ne 0 ]; then
    printf '%s\n' "$out" >&2
    die "apt-get download failed (versions from ${lab_images#"$lab_root"/}/packages.used)"
  fi
  log "debs: $(ls "$lab_cache/debs" | wc -l) packages cached ($(du -sh "$lab_cache/debs" | cut -f1))"
}

# Unpacks one image's packages into a fresh tree; stamped by the image's lock entries.
unpack_image_debs() {  # image dest
  local image=$1 dest=$2 stamp=$2.stamp want spec ver
  want=$(lock_entries "$image" | sha256sum | cut -d' ' -f1)
  [ -z "$lab_force" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  log "unpack: $image ($(lock_entries "$image" | wc -l) packages)"
  rm -rf "$dest"; mkdir -p "$dest"
  while read -r _ spec ver; do
    dpkg-deb -x "$(deb_path "$spec" "$ver")" "$dest"
  done < <(lock_entries "$image")
  echo "$want" >"$stamp"
}

# True (0) when the step's stamp differs from the hash of its inputs; the caller then runs
# the step and calls stamp_done. Inputs are files, directories or literal strings.
stamp_inputs_hash() {
  local x
  for x in "$@"; do
    if [ -d "$x" ]; then find "$x" -type f -print0 | sort -z | xargs -0 -r sha256sum
    elif [ -f "$x" ]; then sha256sum "$x"
    else printf '%s\n' "$x"; fi
  done | sha256sum | cut -d' ' -f1
}
step_needed() {  # name inputs...
  local name=$1; shift
  step_hash=$(stamp_inputs_hash "$@")
  step_stamp=$lab_build/stamps/$name
  [ -n "$lab_force" ] && return 0
  [ -f "$step_stamp" ] && [ "$(cat "$step_stamp")" = "$step_hash" ] && return 1
  return 0
}
stamp_done() { mkdir -p "$lab_build/stamps"; echo "$step_hash" >"$step_stamp"; }

# Prints the module files (relative to /lib/modules/VER) for the names listed in a modules
# file, each after its dependencies (read with modinfo -F depends), without duplicates.
resolve_modules() {  # moddir listfile
  local moddir=$1 list=$2 f rel key
  declare -gA mod_index=() mod_done=()
  while IFS= read -r f; do
    rel=${f#"$moddir"/}; key=${f##*/}; key=${key%.ko}; key=${key//-/_}
    mod_index[$key]=$rel
  done < <(find "$moddir/kernel" -name '*.ko')
  local name
  while read -r name; do visit_module "$moddir" "$name"; done < <(grep -vE '^\s*(#|$)' "$list")
}
visit_module() {
  local moddir=$1 key=${2//-/_} rel dep
  [ -n "${mod_done[$key]:-}" ] && return 0
  mod_done[$key]=1
  rel=${mod_index[$key]:-}
  [ -n "$rel" ] || die "kernel module '$2' is not in $moddir (built in, or renamed by a kernel update?)"
  for dep in $(modinfo -F depends "$moddir/$rel" | tr ',' ' '); do visit_module "$moddir" "$dep"; done
  echo "$rel"
}

# Copies the listed modules (with dependencies) into a staging root and writes the load order
# to /etc/twofold/modules.order; depmod lets the kernel's on-demand module requests work.
install_modules() {  # debroot stage listfile [order-file-name]
  local debroot=$1 stage=$2 list=$3 order=${4:-modules.order} kver moddir rel
  moddir=$(find "$debroot/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -1)
  kver=$(basename "$moddir")
  mkdir -p "$stage/etc/twofold" "$stage/lib/modules/$kver"
  resolve_modules "$moddir" "$list" >"$stage/etc/twofold/$order"
  while read -r rel; do
    mkdir -p "$stage/lib/modules/$kver/$(dirname "$rel")"
    cp "$moddir/$rel" "$stage/lib/modules/$kver/$rel"
  done <"$stage/etc/twofold/$order"
  cp "$moddir"/modules.builtin* "$moddir/modules.order" "$stage/lib/modules/$kver/" 2>/dev/null || true
  depmod -b "$stage" "$kver" 2>/dev/null || warn "depmod failed for $kver"
}

# Every dynamically linked ELF file in the root must find its libraries inside the root.
# Libraries missing there are copied from the host's arm64 multiarch directory when Debian's
# packages put them there (the project's own binaries link against them); a copied library
# has NEEDED entries of its own, so passes repeat until one copies nothing. Anything else is
# a build error that names the file and the library.
check_elf_libraries() {  # stage
  local stage=$1 f lib found missing=() copied pass
  for pass in 1 2 3 4 5 6; do
    missing=(); copied=0
    while IFS= read -r f; do
      while read -r lib; do
        found=""
        for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib usr/lib usr/lib/aarch64-linux-gnu/libvirt usr/lib/aarch64-linux-gnu/gconv usr/lib/xen-4.17/lib/aarch64-linux-gnu; do
          [ -e "$stage/$d/$lib" ] && { found=1; break; }
        done
        [ -n "$found" ] && continue
        if [ -e "/usr/lib/aarch64-linux-gnu/$lib" ]; then
          cp -L "/usr/lib/aarch64-linux-gnu/$lib" "$stage/usr/lib/aarch64-linux-gnu/$lib"
          copied=1
        else
          missing+=("${f#"$stage"} needs $lib")
        fi
      done < <(aarch64-linux-gnu-readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    done < <(find "$stage" -type f \( -perm -u+x -o -name '*.so*' \) ! -name '*.ko' -size +1k \
               -exec sh -c 'for f; do [ "$(head -c 4 "$f" | tail -c 3)" = ELF ] && echo "$f"; done' _ {} + )
    [ ${#missing[@]} -gt 0 ] && break
    [ "$copied" = 0 ] && return 0
  done
  [ ${#missing[@]} -eq 0 ] && die "libraries of $(basename "$stage") still changing after $pass passes"
  printf '  %s\n' "${missing[@]}" | sort -u | head -20 >&2
  die "libraries missing from the image root $(basename "$stage"): add the package to guests/*/packages and run scripts/lab pin"
}

make_cpio() {  # stage output.cpio.gz
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$2.tmp"
  mv "$2.tmp" "$2"
}

# The project's dom0 programs: cross-built in build/aarch64 (incremental) and installed into
# their own staging root, which is an input of the dom0 step, so a changed program restages
# dom0 and an unchanged one costs only ninja's no-op check.
build_dom0_binaries() {
  local dir=$lab_root/build/aarch64 log=$lab_build/aarch64-build.log bins=$lab_build/stage/dom0-bins
  if [ "$local_skip_bins" = 0 ]; then
    log "dom0 binaries: cmake build of build/aarch64 (log: ${log#"$lab_root"/})"
    if ! { cmake -S "$lab_root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
             -DCMAKE_TOOLCHAIN_FILE="$lab_root/cmake/toolchain-aarch64-linux-gnu.cmake" \
           && cmake --build "$dir" -j "$(nproc)"; } >"$log" 2>&1; then
      tail -20 "$log" >&2
      die "the aarch64 build failed (full log: $log); fix it or use: scripts/lab build --skip-dom0-binaries"
    fi
  fi
  rm -rf "$bins"; mkdir -p "$bins"
  if [ -f "$dir/cmake_install.cmake" ]; then
    DESTDIR=$bins cmake --install "$dir" --prefix /usr --strip >"$lab_build/aarch64-install.log" 2>&1 \
      || { cat "$lab_build/aarch64-install.log" >&2; die "cmake --install of build/aarch64 failed"; }
  fi
  log "dom0 binaries: $(find "$bins" -type f | wc -l) project files staged"
}

# Lab hardware that runs on the host beside QEMU: the modem simulator behind the board's
# serial line (docs/modem.md). A host build of that one target, incremental like build/aarch64.
# The organisation's side of the messenger runs on the host too: `twofold-messenger keygen`
# enrols devices, and `twofold-messenger run` is the peer at headquarters (carrier.sh).
lab_sim=$lab_root/build/lab-host/tests/modem-simulator/twofold-modem-sim
lab_messenger=$lab_root/build/lab-host/guests/secure/messenger/twofold-messenger
build_lab_host_tools() {
  local dir=$lab_root/build/lab-host log=$lab_build/lab-host-build.log
  log "lab hardware: twofold-modem-sim, twofold-messenger (host build in ${dir#"$lab_root"/}, log: ${log#"$lab_root"/})"
  if ! { cmake -S "$lab_root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTWOFOLD_BUILD_BENCHMARKS=OFF \
         && cmake --build "$dir" -j "$(nproc)" --target twofold-modem-sim twofold-messenger; } >"$log" 2>&1; then
    tail -20 "$log" >&2
    die "the host build of twofold-modem-sim / twofold-messenger failed (full log: $log)"
  fi
}

lab_cflags=(-std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -Werror -Wconversion -static)
build_probes() {
  step_needed probes "$lab_root/guests/src" "$lab_root/vmm/display/tools" "${lab_cflags[*]}" || return 0
  log "probes: cross-compiling guests/src/*.c and the display test pattern (static arm64)"
  mkdir -p "$lab_build/bin"
  aarch64-linux-gnu-gcc "${lab_cflags[@]}" -o "$lab_build/bin/binder-probe" "$lab_root/guests/src/binder_probe.c"
  aarch64-linux-gnu-gcc "${lab_cflags[@]}" -o "$lab_build/bin/twofold-powerkey" "$lab_root/guests/src/powerkey.c"
  aarch64-linux-gnu-gcc "${lab_cflags[@]}" -o "$lab_build/bin/twofold-keylog" "$lab_root/guests/src/keylog.c"
  aarch64-linux-gnu-gcc "${lab_cflags[@]}" -I "$lab_root/vmm/display/tools" -o "$lab_build/bin/fbpattern" \
    "$lab_root/vmm/display/tools/fbpattern.c"
  aarch64-linux-gnu-gcc "${lab_cflags[@]}" -o "$lab_build/bin/xsm-attack" "$lab_root/guests/src/xsm_attack.c"
  aarch64-linux-gnu-gcc "${lab_cflags[@]}" -o "$lab_build/bin/twofold-notify" "$lab_root/guests/src/notify.c"
  aarch64-linux-gnu-gcc "${lab_cflags[@]}" -o "$lab_build/bin/twofold-modem-probe" "$lab_root/guests/src/modem_probe.c"
  aarch64-linux-gnu-gcc "${lab_cflags[@]}" -o "$lab_build/bin/twofold-tpm-relay" "$lab_root/guests/src/tpm_relay.c"
  stamp_done
}

# The busybox applets the images' scripts use, linked at build time: the secure persona's
# root is read-only, so `busybox --install` cannot add them at run time there, and the
# kernel runs /sbin/poweroff when Xen asks a guest to shut down.
busybox_applets=(sh ash cat cp cut date dd dmesg echo find grep head kill ln ls mkdir mknod
  mount mv rm sed seq sleep sync tail touch tr umount uname wc stat tee test true false stty
  ip nc nslookup ping timeout wget awk chmod)
busybox_sbin_applets=(init poweroff reboot halt insmod modprobe switch_root mke2fs)

# A busybox userland: the static busybox, its init, and the standard directories.
stage_busybox() {  # debroot stage
  local a
  mkdir -p "$2"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,var/log}
  cp "$1/bin/busybox" "$2/bin/busybox"
  for a in "${busybox_applets[@]}"; do ln -sf busybox "$2/bin/$a"; done
  for a in "${busybox_sbin_applets[@]}"; do ln -sf ../bin/busybox "$2/sbin/$a"; done
}

# Copies the named programs from a package tree with the libraries of that tree (all of
# them: the secure closure is small, and the ELF check proves nothing is missing).
stage_programs() {  # debroot stage programs...
  local debroot=$1 stage=$2 p; shift 2
  for p in "$@"; do mkdir -p "$stage/$(dirname "$p")"; cp -a "$debroot/$p" "$stage/$p"; done
  mkdir -p "$stage/lib" "$stage/usr/lib"
  cp -a "$debroot/lib/aarch64-linux-gnu" "$stage/lib/"
  cp -a "$debroot/lib/ld-linux-aarch64.so.1" "$stage/lib/"
  [ -d "$debroot/usr/lib/aarch64-linux-gnu" ] && cp -a "$debroot/usr/lib/aarch64-linux-gnu" "$stage/usr/lib/"
  rm -rf "$stage/usr/lib/aarch64-linux-gnu/gconv"
}

kernel_of() { find "$1/boot" -name 'vmlinuz-*' | head -1; }

# The lab organisation's VPN gateway key pair (scripts/lab.d/carrier.sh runs the gateway):
# made once, kept in build/lab/org/. The private key never enters an image; the public key
# goes into the secure persona's verified root (its VPN profile).
lab_org_keys=$lab_build/org
build_org_keys() {
  [ -s "$lab_org_keys/gateway.key" ] && [ -s "$lab_org_keys/gateway.pub" ] && return 0
  need_tools wg
  mkdir -p "$lab_org_keys"; chmod 700 "$lab_org_keys"
  (umask 077; wg genkey >"$lab_org_keys/gateway.key")
  wg pubkey <"$lab_org_keys/gateway.key" >"$lab_org_keys/gateway.pub"
  log "org: new VPN gateway key pair in ${lab_org_keys#"$lab_root"/}"
}

# The lab organisation's messaging (docs/messaging.md, "On the board"), made once beside the
# gateway key in build/lab/org/messaging: a CA (P-256), the server's certificate for
# messages.org.example, and an account with a password and an OMEMO identity for the officer's
# phone (officer1, device 1001) and for the peer at headquarters (hq, device 2001), each
# listing the other as its only contact. officer1.toml reaches the phone's sealed volume
# through the organisation's enrolment service (carrier.sh), never the image; only the CA's
# certificate goes into the secure root (the pin: the client trusts no other CA).
lab_org_msg=$lab_org_keys/messaging
msg_domain=messages.org.example
build_org_messaging() {
  # (An hq.toml from before the cluster, naming the single server, is made again.)
  [ -s "$lab_org_msg/officer1.toml" ] && grep -q '^host = "10.8.1.11"$' "$lab_org_msg/hq.toml" 2>/dev/null && return 0
  need_tools openssl
  [ -x "$lab_messenger" ] || die "no host twofold-messenger ($lab_messenger)"
  rm -rf "$lab_org_msg"; mkdir -p "$lab_org_msg"; chmod 700 "$lab_org_msg"
  ( cd "$lab_org_msg" && umask 077 &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
      -days 3650 -subj "/CN=Lab Organisation Messaging CA" &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
      -subj "/CN=$msg_domain" &&
    printf 'subjectAltName=DNS:%s\n' "$msg_domain" >san.ext &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 3650 \
      -extfile san.ext ) >"$lab_build/org-messaging.log" 2>&1 || die "openssl: cannot make the lab organisation's CA ($lab_build/org-messaging.log)"
  chmod 644 "$lab_org_msg/ca.pem"
  local who
  for who in officer1 hq; do
    (umask 077; "$lab_messenger" keygen >"$lab_org_msg/$who.keys" && openssl rand -hex 16 >"$lab_org_msg/$who.password") \
      || die "cannot enrol $who (twofold-messenger keygen)"
  done
  # The phone logs in on the cluster's node a, headquarters on node b (carrier.sh).
  org_provisioning officer1 1001 /etc/twofold/org-ca.pem hq 2001 HQ 10.8.1.10 >"$lab_org_msg/officer1.toml"
  org_provisioning hq 2001 "$lab_org_msg/ca.pem" officer1 1001 "Officer 1" 10.8.1.11 >"$lab_org_msg/hq.toml"
  log "org: messaging CA, server certificate, accounts officer1 (the phone) and hq in ${lab_org_msg#"$lab_root"/}"
}
org_key_of() { sed -n 's/^identity_public = "\(.*\)"$/\1/p' "$lab_org_msg/$1.keys"; }
org_provisioning() {  # local device ca-path peer peer-device peer-name server-address
  printf '# Provisioned by the lab organisation (scripts/lab.d/build.sh) for %s@%s.\n' "$1" "$msg_domain"
  printf '[account]\njid = "%s@%s"\npassword = "%s"\ndevice_id = %s\n' "$1" "$msg_domain" "$(cat "$lab_org_msg/$1.password")" "$2"
  grep '^identity_' "$lab_org_msg/$1.keys"
  printf '\n[server]\nhost = "%s"\nport = 5222\ndomain = "%s"\nca = "%s"\n' "$7" "$msg_domain" "$3"
  printf '\n[[contact]]\njid = "%s@%s"\nname = "%s"\ndevices = [ { id = %s, identity = "%s" } ]\n' \
    "$4" "$msg_domain" "$6" "$5" "$(org_key_of "$4")"
}

# The console fonts the messaging checks render expected text with (checks-msg.sh,
# msg-screen.py), the ones the secure kernel's fbcon draws with: its VGA 8x16 table copied
# out of the kernel image (located with Debian's console-setup-linux Uni2-VGA16, which
# differs from it in a few glyphs), and console-setup's Uni2-TerminusBold32x16, the same
# glyphs as the kernel's TER16x32. Host-side only.
lab_fonts=$lab_cache/fonts
lab_font_names=(kernel-vga8x16.psf Uni2-TerminusBold32x16.psf.gz)
build_lab_fonts() {
  local f tmp kernel
  if [ ! -s "$lab_fonts/Uni2-VGA16.psf.gz" ] || [ ! -s "$lab_fonts/Uni2-TerminusBold32x16.psf.gz" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download -q console-setup-linux >/dev/null 2>&1) || { rm -rf "$tmp"; die "apt-get download console-setup-linux failed"; }
    dpkg-deb -x "$tmp"/console-setup-linux_*.deb "$tmp/root"
    mkdir -p "$lab_fonts"
    for f in Uni2-VGA16.psf.gz Uni2-TerminusBold32x16.psf.gz; do cp "$tmp/root/usr/share/consolefonts/$f" "$lab_fonts/"; done
    rm -rf "$tmp"
  fi
  kernel=$(kernel_of "$lab_build/debroot/secure")
  python3 "$lab_root/scripts/lab.d/msg-screen.py" extract-font "$kernel" "$lab_fonts/Uni2-VGA16.psf.gz" \
    "$lab_fonts/kernel-vga8x16.psf" >"$lab_build/fonts.log" 2>&1 || die "fonts: $(cat "$lab_build/fonts.log")"
  log "fonts: $(cat "$lab_build/fonts.log")"
}

build_personal() {
  local debroot=$lab_build/debroot/personal stage=$lab_build/stage/personal
  step_needed personal "$debroot.stamp" "$lab_root/guests/personal" "$lab_root/guests/net" "$lab_build/stamps/probes" \
    "$lab_root/scripts/lab.d/build.sh" || { log "personal: up to date"; return 0; }
  log "personal: staging busybox, binder module and probe"
  rm -rf "$stage"; stage_busybox "$debroot" "$stage"
  cp -a "$lab_root/guests/personal/rootfs/." "$stage/"
  install -m 0755 "$lab_build/bin/binder-probe" "$stage/usr/bin/binder-probe"
  install -m 0755 "$lab_build/bin/twofold-keylog" "$lab_build/bin/fbpattern" "$stage/usr/bin/"
  install -m 0755 "$lab_build/bin/xsm-attack" "$stage/usr/bin/xsm-attack"
  install -m 0755 "$lab_build/bin/twofold-modem-probe" "$stage/usr/bin/"
  # Its network setup and the lab's network witness (docs/network.md).
  install -m 0755 "$lab_root/guests/net/net-setup" "$lab_root/guests/net/personal-probe" \
    "$lab_root/guests/net/net-bench" "$stage/usr/sbin/"
  # ppp's chat: the real AT client from Debian the lab runs on this persona's virtual modem.
  # It needs only libc, so only libc comes along (check_elf_libraries proves it).
  install -D -m 0755 "$debroot/usr/sbin/chat" "$stage/usr/sbin/chat"
  mkdir -p "$stage/lib/aarch64-linux-gnu"
  cp -L "$debroot/lib/aarch64-linux-gnu/libc.so.6" "$stage/lib/aarch64-linux-gnu/"
  cp -L "$debroot/lib/ld-linux-aarch64.so.1" "$stage/lib/"
  install_modules "$debroot" "$stage" "$lab_root/guests/personal/modules"
  check_elf_libraries "$stage"
  make_cpio "$stage" "$lab_images/personal-initramfs.cpio.gz"
  cp "$(kernel_of "$debroot")" "$lab_images/personal-Image"
  sed "s|@PERSONA_DIR@|/var/lib/twofold/personas/personal|g" "$lab_root/guests/personal/domain.xml" \
    >"$lab_images/personal.xml"
  log "personal: initramfs $(du -h "$lab_images/personal-initramfs.cpio.gz" | cut -f1)"
  stamp_done
}

secure_tools=(sbin/veritysetup sbin/cryptsetup sbin/dmsetup)
# The `linux` terminfo entry (ncurses-base, Architecture: all, which the lock's pkg:arm64
# entries do not describe): from this pinned .deb, downloaded once into the package cache.
ncurses_base_version=6.4-4
secure_terminfo() {  # root
  local deb=$lab_cache/debs/ncurses-base_${ncurses_base_version}_all.deb tmp
  if [ ! -s "$deb" ]; then
    (cd "$lab_cache/debs" && apt-get download -q "ncurses-base:all=$ncurses_base_version" >/dev/null 2>&1) \
      || die "apt-get download ncurses-base=$ncurses_base_version failed"
  fi
  tmp=$(mktemp -d)
  dpkg-deb -x "$deb" "$tmp"
  install -D -m 0644 "$tmp/lib/terminfo/l/linux" "$1/lib/terminfo/l/linux"
  rm -rf "$tmp"
}
build_secure() {
  local debroot=$lab_build/debroot/secure stage=$lab_build/stage/secure-initramfs
  local root=$lab_build/stage/secure-root
  build_org_keys
  build_org_messaging
  local messenger=$lab_build/stage/dom0-bins/usr/sbin/twofold-messenger
  [ -x "$messenger" ] || die "no aarch64 twofold-messenger in the build (libstrophe-dev:arm64, libomemo-c-dev:arm64, libncurses-dev:arm64: scripts/packages/arm64.txt)"
  step_needed secure "$debroot.stamp" "$lab_root/guests/secure" "$lab_root/guests/net" "$lab_build/stamps/probes" \
    "$lab_root/scripts/lab.d/build.sh" "$lab_org_keys/gateway.pub" "$messenger" "$lab_org_msg/ca.pem" \
    || { log "secure: up to date"; return 0; }
  log "secure: staging the verified root (squashfs)"
  rm -rf "$root"; stage_busybox "$debroot" "$root"
  stage_programs "$debroot" "$root" "${secure_tools[@]}"
  cp -a "$lab_root/guests/secure/rootfs/." "$root/"
  mkdir -p "$root/usr/bin"
  install -m 0755 "$lab_build/bin/twofold-keylog" "$lab_build/bin/fbpattern" "$root/usr/bin/"
  install -D -m 0755 "$lab_build/bin/xsm-attack" "$root/usr/bin/xsm-attack"
  install -m 0755 "$lab_build/bin/twofold-modem-probe" "$root/usr/bin/"
  # The tunnel to the organisation (docs/network.md): wg (wireguard-tools) in the root only,
  # the network setup, and the organisation's VPN profile with its gateway's public key.
  stage_programs "$debroot" "$root" usr/bin/wg
  install -m 0755 "$lab_root/guests/net/net-setup" "$lab_root/guests/net/secure-probe" \
    "$lab_root/guests/net/net-bench" "$root/usr/sbin/"
  sed -i "s|@GATEWAY_PUBLIC_KEY@|$(cat "$lab_org_keys/gateway.pub")|" "$root/etc/twofold/vpn.conf"
  grep -q '@[A-Z_]*@' "$root/etc/twofold/vpn.conf" && die "guests/secure/rootfs/etc/twofold/vpn.conf: a placeholder was not filled in"
  # The messenger (docs/messaging.md): the program, the organisation's CA (its only trust
  # anchor), and the `linux` terminfo entry its screen is drawn with on the framebuffer console.
  install -m 0755 "$messenger" "$root/usr/bin/twofold-messenger"
  install -m 0755 "$lab_build/bin/twofold-notify" "$root/usr/bin/twofold-notify"
  install -D -m 0644 "$lab_org_msg/ca.pem" "$root/etc/twofold/org-ca.pem"
  secure_terminfo "$root"
  mkdir -p "$root/data"
  check_elf_libraries "$root"
  local img=$lab_images/secure-root.img size out hash
  rm -f "$img"
  mksquashfs "$root" "$img" -noappend -all-root -no-progress -quiet >/dev/null
  size=$(stat -c %s "$img")
  [ $((size % 4096)) -eq 0 ] || die "squashfs image size $size is not 4 KiB aligned"
  out=$(veritysetup format "$img" "$img" --hash-offset="$size")
  hash=$(sed -n 's/^Root hash:[[:space:]]*//p' <<<"$out")
  [ -n "$hash" ] || die "veritysetup format printed no root hash"
  printf '%s\n' "$hash" >"$lab_images/secure-root.roothash"
  printf '%s\n' "$size" >"$lab_images/secure-root.hashoffset"
  log "secure: root $((size / 1024)) KiB + verity tree, root hash ${hash:0:16}..."

  log "secure: staging the first-stage initramfs (veritysetup, cryptsetup, dm modules)"
  rm -rf "$stage"; stage_busybox "$debroot" "$stage"
  stage_programs "$debroot" "$stage" "${secure_tools[@]}"
  cp -a "$lab_root/guests/secure/initramfs/." "$stage/"
  install_modules "$debroot" "$stage" "$lab_root/guests/secure/modules"
  check_elf_libraries "$stage"
  make_cpio "$stage" "$lab_images/secure-initramfs.cpio.gz"
  cp "$(kernel_of "$debroot")" "$lab_images/secure-Image"
  rm -f "$lab_images/secure-data.img"; truncate -s 32M "$lab_images/secure-data.img"
  sed -e "s|@PERSONA_DIR@|/var/lib/twofold/personas/secure|g" -e "s|@ROOT_HASH@|$hash|g" \
      -e "s|@HASH_OFFSET@|$size|g" "$lab_root/guests/secure/domain.xml" >"$lab_images/secure.xml"
  log "secure: initramfs $(du -h "$lab_images/secure-initramfs.cpio.gz" | cut -f1)"
  stamp_done
}

# What of the dom0 packages never goes into the initramfs: kernels and device trees (Xen
# loads the kernel; personas' kernels sit on the storage disk), documentation, headers, and
# tc's ATM qdisc plugin (a phone has no ATM link; it would pull in libatm).
dom0_excludes=(./boot ./lib/modules ./usr/lib/linux-image-* ./usr/share/doc ./usr/share/man
  ./usr/share/info ./usr/share/locale ./usr/share/lintian ./usr/share/bash-completion
  ./usr/share/zsh ./usr/share/bug ./usr/include ./usr/lib/aarch64-linux-gnu/gconv ./usr/share/gdb ./usr/share/polkit-1
  ./usr/lib/xen-4.17/bin/pygrub ./usr/lib/xen-4.17/lib/python ./usr/lib/python3 ./etc/init.d ./etc/default ./lib/systemd
  ./usr/lib/systemd ./etc/logrotate.d ./etc/apparmor.d ./usr/share/apparmor ./usr/share/libvirt/schemas
  ./usr/lib/aarch64-linux-gnu/tc/q_atm.so)

build_dom0() {
  local debroot=$lab_build/debroot/dom0 stage=$lab_build/stage/dom0
  step_needed dom0 "$debroot.stamp" "$lab_root/guests/dom0" "$lab_build/stamps/probes" \
    "$lab_root/scripts/lab.d/build.sh" "$lab_build/stage/dom0-bins" "$lab_root/policy/xsm" \
    "$lab_root/hypervisor-config/boards/qemu-virt/data-link" \
    || { log "dom0: up to date"; return 0; }
  log "dom0: staging Xen tools, libvirt (libxl driver only), busybox, bash, flock"
  rm -rf "$stage"; mkdir -p "$stage"
  tar -C "$debroot" "${dom0_excludes[@]/#/--exclude=}" -cf - . | tar -C "$stage" -xf -
  # libvirtd aborts when any connection driver fails to initialise: keep only libxl's.
  find "$stage/usr/lib/aarch64-linux-gnu/libvirt/connection-driver" -name '*.so' \
    ! -name libvirt_driver_libxl.so -delete
  rm -rf "$stage/usr/lib/aarch64-linux-gnu/libvirt/storage-backend"
  mkdir -p "$stage"/{proc,sys,dev,run,tmp,root,var/log,var/lib/twofold}
  # libvirtd listens in /run/libvirt, virsh looks in /var/run/libvirt: one directory.
  rm -rf "$stage/var/run"; ln -s ../run "$stage/var/run"
  ln -sf ../bin/busybox "$stage/sbin/init"
  ln -sf busybox "$stage/bin/sh"
  # Applets needed at fixed paths (init's power-off, the power-key watcher); the others are
  # linked at boot into /usr/libexec/busybox, behind the real tools in PATH.
  local a
  for a in poweroff reboot halt; do [ -e "$stage/sbin/$a" ] || ln -s ../bin/busybox "$stage/sbin/$a"; done
  cp -a "$lab_root/guests/dom0/rootfs/." "$stage/"
  install -m 0755 "$lab_build/bin/twofold-powerkey" "$stage/usr/sbin/twofold-powerkey"
  install -m 0755 "$lab_build/bin/twofold-tpm-relay" "$stage/usr/sbin/twofold-tpm-relay"
  # The board's data link (docs/network.md), from its board profile.
  install -m 0644 "$lab_root/hypervisor-config/boards/qemu-virt/data-link" "$stage/etc/twofold/data-link"
  # The FLASK policy (policy/xsm, same script as CMake): Xen's boot module, enforced from
  # the first instruction (flask=enforcing; hypervisor-config). dom0 cannot read a loaded
  # policy back from Xen (Xen 4.17 has no such flask_op), so the build records what it put
  # in the boot module, sha256 and size, and rc.toolstack starts no persona unless Xen's boot
  # log shows a policy module of that size and Xen says Enforcing. A copy stays in dom0 only
  # for the lab test that tries to load it (and must be refused: no domain may load policy).
  "$lab_root/policy/xsm/build-policy" "$lab_images/xenpolicy" || die "policy/xsm/build-policy failed"
  mkdir -p "$stage/etc/twofold" "$stage/usr/share/twofold"
  printf 'sha256=%s size=%s\n' "$(sha256sum "$lab_images/xenpolicy" | cut -d' ' -f1)" \
    "$(stat -c %s "$lab_images/xenpolicy")" >"$stage/etc/twofold/xsm-policy.expected"
  install -m 0644 "$lab_images/xenpolicy" "$stage/usr/share/twofold/xenpolicy-4.17"
  install_modules "$debroot" "$stage" "$lab_root/guests/dom0/modules"
  install_modules "$debroot" "$stage" "$lab_root/guests/dom0/modules.late" modules.late
  # Modules already loaded early are not loaded twice.
  grep -vxF -f "$stage/etc/twofold/modules.order" "$stage/etc/twofold/modules.late" \
    >"$stage/etc/twofold/modules.late.tmp" || true
  mv "$stage/etc/twofold/modules.late.tmp" "$stage/etc/twofold/modules.late"
  cp -a "$lab_build/stage/dom0-bins/." "$stage/"
  # The messenger is the secure persona's program (build_secure), not dom0's.
  rm -f "$stage/usr/sbin/twofold-messenger"
  # tpm2-tss loads its transport with dlopen (no NEEDED entry for check_elf_libraries to
  # follow): twofold-keystore reaches the TPM through the device TCTI.
  if [ -x "$stage/usr/sbin/twofold-keystore" ]; then
    for lib in libtss2-tcti-device.so.0; do
      [ -e "/usr/lib/aarch64-linux-gnu/$lib" ] || die "$lib (arm64) missing: scripts/setup --only arm64 installs libtss2-dev:arm64"
      cp -L "/usr/lib/aarch64-linux-gnu/$lib" "$stage/usr/lib/aarch64-linux-gnu/$lib"
    done
  fi
  log "dom0: checking every program's libraries"
  check_elf_libraries "$stage"
  log "dom0: packing the initramfs ($(du -sh "$stage" | cut -f1) unpacked)"
  # Two forms of the same archive: uncompressed for QEMU's guest-loader (inflating ~100 MB
  # under TCG costs dom0 several seconds of boot), gzip for the U-Boot path and boards.
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
    >"$lab_images/dom0-initramfs.cpio.tmp"
  mv "$lab_images/dom0-initramfs.cpio.tmp" "$lab_images/dom0-initramfs.cpio"
  gzip -1 -c "$lab_images/dom0-initramfs.cpio" >"$lab_images/dom0-initramfs.cpio.gz.tmp"
  mv "$lab_images/dom0-initramfs.cpio.gz.tmp" "$lab_images/dom0-initramfs.cpio.gz"
  cp "$(kernel_of "$debroot")" "$lab_images/dom0-Image"
  cp "$debroot/boot/xen-4.17-arm64" "$lab_images/xen"
  log "dom0: initramfs $(du -h "$lab_images/dom0-initramfs.cpio.gz" | cut -f1)"
  stamp_done
}

# The board's storage disk (virtio-blk in dom0, ext4): persona kernels, initramfs, disks and
# domain definitions, where a device would keep them on flash.
build_storage() {
  local stage=$lab_build/stage/storage img=$lab_images/dom0-storage.img
  step_needed storage "$lab_build/stamps/personal" "$lab_build/stamps/secure" "$lab_root/policy/lab-board.toml" \
    || { log "storage: up to date"; return 0; }
  log "storage: building the ext4 storage disk"
  rm -rf "$stage"; mkdir -p "$stage/personas/personal" "$stage/personas/secure"
  local p=$stage/personas
  ln "$lab_images/personal-Image" "$p/personal/Image"
  ln "$lab_images/personal-initramfs.cpio.gz" "$p/personal/initramfs.cpio.gz"
  ln "$lab_images/personal.xml" "$p/personal/domain.xml"
  ln "$lab_images/secure-Image" "$p/secure/Image"
  ln "$lab_images/secure-initramfs.cpio.gz" "$p/secure/initramfs.cpio.gz"
  ln "$lab_images/secure-root.img" "$p/secure/root.img"
  cp --sparse=always "$lab_images/secure-data.img" "$p/secure/data.img"
  ln "$lab_images/secure.xml" "$p/secure/domain.xml"
  # twofold-manager's policy for this board, with the secure root's verity parameters.
  sed -e "s|@ROOT_HASH@|$(cat "$lab_images/secure-root.roothash")|g" \
      -e "s|@HASH_OFFSET@|$(cat "$lab_images/secure-root.hashoffset")|g" \
      "$lab_root/policy/lab-board.toml" >"$stage/personas.toml"
  grep -q '@[A-Z_]*@' "$stage/personas.toml" && die "policy/lab-board.toml: a placeholder was not filled in"
  cp "$stage/personas.toml" "$lab_images/personas.toml"
  local mb
  mb=$(( $(du -sm --apparent-size "$stage" | cut -f1) + 64 ))
  rm -f "$img"
  mkfs.ext4 -q -F -L twofold -d "$stage" "$img" "${mb}M" >/dev/null || die "mkfs.ext4 -d failed (e2fsprogs >= 1.43 needed)"
  log "storage: ${mb} MiB"
  stamp_done
}

lab_build() {
  lab_force="" local_skip_bins=0
  while [ $# -gt 0 ]; do
    case $1 in
      --skip-dom0-binaries) local_skip_bins=1; shift ;;
      --force) lab_force=1; shift ;;
      --lock) [ $# -ge 2 ] || die "build: --lock needs a file"; lab_lock=$(readlink -f "$2"); shift 2 ;;
      -h|--help) build_usage; return 0 ;;
      *) build_usage >&2; die "build: unknown argument '$1'" ;;
    esac
  done
  need_tools apt-get dpkg-deb cpio gzip modinfo depmod mksquashfs veritysetup sha256sum \
    aarch64-linux-gnu-gcc aarch64-linux-gnu-readelf cmake ninja truncate mkfs.ext4
  [ -f "$(lock_file)" ] || die "no $(lock_file); run: scripts/lab pin"
  mkdir -p "$lab_build" "$lab_images"
  download_debs
  for image in dom0 personal secure; do
    unpack_image_debs "$image" "$lab_build/debroot/$image"
  done
  build_lab_host_tools
  build_lab_fonts
  build_probes
  # The project's aarch64 build comes first: the secure image carries twofold-messenger.
  build_dom0_binaries
  build_personal
  build_secure
  build_dom0
  build_storage
  log "build: images in ${lab_images#"$lab_root"/}: $(cd "$lab_images" && ls | tr '\n' ' ')"
}
