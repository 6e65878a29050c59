#!/usr/bin/env bash
# Builds the test guest: the Debian cloud kernel + a busybox initramfs whose /init obeys hcstest= verbs.
# usage: guest/build.sh OUTDIR      (writes OUTDIR/vmlinuz, OUTDIR/initrd.cpio.gz; rebuilds only when inputs change)
set -euo pipefail
out=$(realpath -m "${1:?usage: guest/build.sh OUTDIR}")
here=$(cd "$(dirname "$0")" && pwd)
kernel=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n 1)
[ -n "$kernel" ] || { echo "guest/build.sh: no /boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64)" >&2; exit 1; }
release=${kernel#/boot/vmlinuz-}
modules=/lib/modules/$release/kernel
# The modules the guest needs; their dependencies (from modules.dep) are added and ordered before them, because
# busybox insmod does not resolve dependencies.
wanted=(drivers/virtio/virtio_pci.ko drivers/char/virtio_console.ko drivers/virtio/virtio_balloon.ko
        drivers/misc/pvpanic/pvpanic-mmio.ko drivers/misc/pvpanic/pvpanic-pci.ko
        drivers/acpi/button.ko drivers/input/evdev.ko)
# The SCSI stack (~0.2 s of boot under TCG) is loaded by /init only when the VM has a virtio-scsi controller.
wanted_scsi=(drivers/scsi/sd_mod.ko drivers/scsi/virtio_scsi.ko)
mods=()
add_module() {
  local m=$1 dep have
  for have in "${mods[@]}"; do [ "$have" = "$m" ] && return 0; done
  for dep in $(sed -n "s#^kernel/$m:##p" "/lib/modules/$release/modules.dep"); do add_module "${dep#kernel/}"; done
  mods+=("$m")
}
for m in "${wanted[@]}"; do add_module "$m"; done
base=${#mods[@]}
for m in "${wanted_scsi[@]}"; do add_module "$m"; done
scsi=("${mods[@]:$base}")
mods=("${mods[@]:0:$base}")
stamp=$( (echo "$release" "${mods[*]}" "${scsi[*]}"; sha256sum "$here/init" "$0" /bin/busybox) | sha256sum | cut -d' ' -f1)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/initrd.cpio.gz" ]; then exit 0; fi
mkdir -p "$out"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"
mkdir -p "$root"/{bin,proc,sys,dev,tmp,etc,lib/modules/scsi,root}
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"; done
install -m 755 "$here/init" "$root/init"
i=10
for m in "${mods[@]}"; do cp "$modules/$m" "$root/lib/modules/$i-$(basename "$m")"; i=$((i + 1)); done
for m in "${scsi[@]}"; do cp "$modules/$m" "$root/lib/modules/scsi/$i-$(basename "$m")"; i=$((i + 1)); done
[ "$i" -lt 100 ] || { echo "guest/build.sh: too many modules for the two-digit load order" >&2; exit 1; }
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 > "$out/initrd.cpio.gz")
cp "$kernel" "$out/vmlinuz"
echo "$stamp" > "$out/stamp"
echo "guest: built $out (kernel $release)" >&2
