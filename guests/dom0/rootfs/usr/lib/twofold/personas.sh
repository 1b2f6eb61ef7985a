# Shared by dom0's persona starters (twofold-manager's companion report in rc.toolstack, and
# the minimal starter): relay a persona's console to dom0's console, and report the devices
# the toolstack gave a persona, read from xenstore (dom0's view, independent of what the
# guest says about itself).
uri=xen:///system
mark() { echo "TWOFOLD-DOM0 $*" >/dev/console; }

relay() {  # name: prefixes the persona's console log lines and copies them to dom0's console
  log=/var/log/xen/console/guest-$1.log
  touch "$log"
  tail -n +1 -F "$log" 2>/dev/null | tr -d '\r' | while IFS= read -r line; do
    echo "[$1] $line"
  done >/dev/console &
}

report_devices() {  # name
  id=$(virsh -c "$uri" domid "$1" 2>/dev/null) || return 1
  devs=""
  for kind in vbd vif vfb vkbd console vusb pci 9pfs vdispl vsnd qusb; do
    n=$(xenstore-list "/local/domain/$id/device/$kind" 2>/dev/null | wc -l)
    devs="$devs $kind=$n"
  done
  mark "persona $1 devices:$devs"
}
