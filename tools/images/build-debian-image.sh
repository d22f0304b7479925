#!/usr/bin/env bash
# npm run images:build [-- OUT_DIR]
# Builds the qemu driver's Debian 12 base image from Debian's packages, without loop devices or
# mounts of the image: debootstrap into a directory, then `mkfs.ext4 -d` turns the directory into
# a filesystem image, converted to qcow2 (the driver's overlays are copy-on-write on top of it).
# The kernel and initrd are copied out beside it: the driver boots them directly (no bootloader).
# Baked in: cloud-init (reads the NoCloud seed), Node.js (runs the agent bundle) and the OCF
# resource agents (services of class ocf).
#   OUT_DIR/debian-12.qcow2  OUT_DIR/vmlinuz  OUT_DIR/initrd.img  OUT_DIR/image.json
# Or, to use a cloud image file the operator names (it must boot by itself and run cloud-init):
#   npm run images:build -- --cloud-image FILE [OUT_DIR]
# Needs (Debian): debootstrap qemu-utils e2fsprogs. Runs as root (debootstrap chroots).
set -euo pipefail

mirror=${NEPHELE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
size=${NEPHELE_IMAGE_SIZE:-3G}
cloud_image=
if [ "${1:-}" = "--cloud-image" ]; then
  cloud_image=$2
  shift 2
fi
out=$(realpath -m "${1:-.nephele/images/debian-12}")
mkdir -p "$out"
start=$(date +%s)

if [ -n "$cloud_image" ]; then
  qemu-img convert -O qcow2 "$cloud_image" "$out/debian-12.qcow2"
  printf '{"name":"%s","disk":"debian-12.qcow2","format":"qcow2"}\n' "$(basename "$cloud_image")" >"$out/image.json"
  echo "image: $out/debian-12.qcow2 (from $cloud_image)"
  exit 0
fi

for tool in debootstrap qemu-img mkfs.ext4; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install debootstrap qemu-utils e2fsprogs)" >&2; exit 1; }
done

root=$(mktemp -d "${TMPDIR:-/tmp}/nephele-rootfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
# python3-cffi-backend: debootstrap does not resolve the virtual packages python3-cryptography
# (cloud-init's) depends on.
packages=systemd-sysv,udev,linux-image-amd64,initramfs-tools,cloud-init,python3-cffi-backend,nodejs,resource-agents,ifupdown,isc-dhcp-client,iproute2,ca-certificates,netbase,procps
echo "--- debootstrap bookworm ($mirror)"
cache=$(realpath -m "${NEPHELE_IMAGE_CACHE:-$out/../.debootstrap-cache}")
mkdir -p "$cache"
debootstrap --variant=minbase --cache-dir="$cache" --include="$packages" bookworm "$root" "$mirror"

echo "--- configure"
echo 'nephele-guest' >"$root/etc/hostname"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' >"$root/etc/fstab"
# cloud-init: only the NoCloud seed (no waiting on metadata services that are not there).
printf 'datasource_list: [ NoCloud, None ]\n' >"$root/etc/cloud/cloud.cfg.d/90-nephele.cfg"
# The serial console carries the boot log (the driver keeps it in console.log).
mkdir -p "$root/etc/systemd/system/getty.target.wants"
ln -sf /lib/systemd/system/serial-getty@.service "$root/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
: >"$root/etc/machine-id"

cp "$(readlink -f "$root/vmlinuz")" "$out/vmlinuz"
cp "$(readlink -f "$root/initrd.img")" "$out/initrd.img"

echo "--- mkfs.ext4 -d ($size)"
rm -f "$out/rootfs.raw"
mkfs.ext4 -q -F -L nephele-root -d "$root" "$out/rootfs.raw" "$size"
qemu-img convert -O qcow2 "$out/rootfs.raw" "$out/debian-12.qcow2"
rm -f "$out/rootfs.raw"
node_version=$(chroot "$root" node --version 2>/dev/null || echo unknown)
cat >"$out/image.json" <<JSON
{"name":"debian-12","disk":"debian-12.qcow2","format":"qcow2","kernel":"vmlinuz","initrd":"initrd.img","append":"root=/dev/vda rw console=ttyS0 net.ifnames=0","node":"$node_version"}
JSON
echo "image: $out/debian-12.qcow2 (node $node_version, $(( $(date +%s) - start ))s)"
