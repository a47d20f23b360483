#!/bin/sh
# Prepares the opt-in Linux guest for `PVM_LINUX_BOOT=1 cargo test --test sysvm_linux`:
# Debian's linux-image-cloud-amd64 kernel and an initramfs holding busybox-static with an
# /init that reports and powers off. Both come from the Debian archive via `apt-get download`
# (no root needed, but `apt-get update` must have run). Output in OUTDIR: vmlinuz,
# initrd.cpio.gz, guest.toml. Nothing fetched here is committed.
set -eu
out=${1:?usage: fetch-debian-guest.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt downloads as the unprivileged _apt user when run as root; let it write here.
chmod 0777 "$work"
cd "$work"

# The metapackage only depends on the versioned image package; resolve and fetch that one.
image=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n1)
[ -n "$image" ] || { echo "cannot resolve linux-image-cloud-amd64 (run apt-get update)" >&2; exit 1; }
apt-get download "$image" busybox-static >/dev/null
dpkg-deb -x linux-image-*.deb kernel
dpkg-deb -x busybox-static_*.deb busybox
cp kernel/boot/vmlinuz-* "$out/vmlinuz"

mkdir -p root/bin root/proc root/sys root/dev
cp busybox/bin/busybox root/bin/busybox
for applet in sh mount echo cat poweroff sleep uname; do ln -s busybox "root/bin/$applet"; done
cat > root/init <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "pvm-linux: init reached on $(uname -r)"
echo "pvm-linux: cpus online: $(cat /sys/devices/system/cpu/online)"
echo "pvm-linux: powering off"
poweroff -f
INIT
chmod +x root/init
(cd root && find . | ../busybox/bin/busybox cpio -o -H newc 2>/dev/null) | gzip -9 > "$out/initrd.cpio.gz"

cat > "$out/guest.toml" <<'TOML'
name = "debian-cloud"
vcpus = 2
memory_mib = 512
kernel = "vmlinuz"
initrd = "initrd.cpio.gz"
cmdline = "console=ttyS0 reboot=k panic=1 earlyprintk=serial,ttyS0 rdinit=/init"
TOML
echo "prepared $image and busybox-static in $out"
