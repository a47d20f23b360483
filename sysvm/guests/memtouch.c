/* Touches `memtouch_mib=N` MiB (default 8) from 16 MiB up: writes one 8-byte word every
 * `memtouch_stride=S` bytes (default 4096, so every page is faulted in once) as
 * address * 0x9e3779b97f4a7c15, reads them all back and reports their wrapping sum. A test
 * can then check both the memory and the launcher's RSS while the rest of a big guest stays
 * untouched. The default stride is a page because this host's KVM emulates guest kernel-mode
 * code at a few thousand cycles per instruction; stride 8 writes every word but is slow here. */
#include "guest.h"

#define TOUCH_BASE 0x1000000ULL
#define MIX 0x9e3779b97f4a7c15ULL

void guest_main(struct boot *boot) {
    u64 mib = cmdline_number(boot->cmdline, "memtouch_mib", 8);
    u64 stride = cmdline_number(boot->cmdline, "memtouch_stride", 4096);
    u64 end = TOUCH_BASE + (mib << 20);
    int covered = 0;
    for (u32 i = 0; i < boot->nr_ranges; i++) {
        const struct mem_range *r = &boot->ranges[i];
        if (r->type == 1 && r->addr <= TOUCH_BASE && end <= r->addr + r->size) covered = 1;
    }
    if (!covered) fail("memtouch range is not RAM in the memory map");
    if (stride < 8 || stride % 8) fail("memtouch_stride must be a positive multiple of 8");

    for (u64 address = TOUCH_BASE; address < end; address += stride)
        *(volatile u64 *)address = address * MIX;
    u64 sum = 0;
    for (u64 address = TOUCH_BASE; address < end; address += stride) {
        u64 value = *(volatile u64 *)address;
        if (value != address * MIX) fail("memory did not keep what was written");
        sum += value;
    }
    put_str("memtouch: touched ");
    put_dec(mib);
    put_str(" MiB, stride ");
    put_dec(stride);
    put_str(", checksum ");
    put_hex(sum);
    put_str("\n");
}
