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
# Load order matters (busybox insmod does not resolve dependencies).
mods=(drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko drivers/virtio/virtio_pci_legacy_dev.ko
      drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci.ko drivers/char/virtio_console.ko
      drivers/misc/pvpanic/pvpanic.ko drivers/misc/pvpanic/pvpanic-mmio.ko drivers/misc/pvpanic/pvpanic-pci.ko
      drivers/acpi/button.ko drivers/input/evdev.ko)
stamp=$( (echo "$release"; sha256sum "$here/init" "$0" /bin/busybox) | sha256sum | cut -d' ' -f1)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/initrd.cpio.gz" ]; then exit 0; fi
mkdir -p "$out"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"
mkdir -p "$root"/{bin,proc,sys,dev,tmp,etc,lib/modules,root}
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"; done
install -m 755 "$here/init" "$root/init"
i=10
for m in "${mods[@]}"; do cp "$modules/$m" "$root/lib/modules/$i-$(basename "$m")"; i=$((i + 1)); done
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 > "$out/initrd.cpio.gz")
cp "$kernel" "$out/vmlinuz"
echo "$stamp" > "$out/stamp"
echo "guest: built $out (kernel $release)" >&2
