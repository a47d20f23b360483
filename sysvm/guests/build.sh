#!/bin/sh
# Builds the freestanding test guests into OUTDIR with the system's gcc and binutils:
# NAME.elf (PVH ELF) for hello, smp, memtouch and bootinfo, plus NAME.bzImage (64-bit Linux
# boot protocol) for hello and bootinfo. Nothing built here is ever committed.
set -eu
out=${1:?usage: build.sh OUTDIR}
src=$(cd "$(dirname "$0")" && pwd)
cc=${CC:-gcc}
mkdir -p "$out"
cflags="-std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-builtin -fno-pic -fno-pie \
 -fno-stack-protector -fno-asynchronous-unwind-tables -mno-red-zone -mgeneral-regs-only \
 -mcmodel=small"
$cc $cflags -c "$src/start.S" -o "$out/start.o"
$cc $cflags -c "$src/common.c" -o "$out/common.o"
$cc -c "$src/bzhdr.S" -o "$out/bzhdr.o"
objcopy -O binary -j .text "$out/bzhdr.o" "$out/bzhdr.bin"
for guest in hello smp memtouch bootinfo; do
    $cc $cflags -c "$src/$guest.c" -o "$out/$guest.o"
    ld -nostdlib -static --build-id=none --no-warn-rwx-segments -T "$src/guest.ld" \
        -o "$out/$guest.elf" "$out/start.o" "$out/common.o" "$out/$guest.o"
done
for guest in hello bootinfo; do
    objcopy -O binary "$out/$guest.elf" "$out/$guest.bin"
    cat "$out/bzhdr.bin" "$out/$guest.bin" > "$out/$guest.bzImage"
done
