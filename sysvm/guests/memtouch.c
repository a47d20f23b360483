/* Touches `memtouch_mib=N` MiB (default 8) from 16 MiB up, writing every 8-byte word as
 * address * 0x9e3779b97f4a7c15, then reads it all back and reports the wrapping sum, so
 * a test can check both the memory and the launcher's RSS while a big guest stays idle. */
#include "guest.h"

#define TOUCH_BASE 0x1000000ULL
#define MIX 0x9e3779b97f4a7c15ULL

void guest_main(struct boot *boot) {
    u64 mib = cmdline_number(boot->cmdline, "memtouch_mib", 8);
    u64 end = TOUCH_BASE + (mib << 20);
    int covered = 0;
    for (u32 i = 0; i < boot->nr_ranges; i++) {
        const struct mem_range *r = &boot->ranges[i];
        if (r->type == 1 && r->addr <= TOUCH_BASE && end <= r->addr + r->size) covered = 1;
    }
    if (!covered) fail("memtouch range is not RAM in the memory map");

    for (u64 address = TOUCH_BASE; address < end; address += 8) *(volatile u64 *)address = address * MIX;
    u64 sum = 0;
    for (u64 address = TOUCH_BASE; address < end; address += 8) {
        u64 value = *(volatile u64 *)address;
        if (value != address * MIX) fail("memory did not keep what was written");
        sum += value;
    }
    put_str("memtouch: touched ");
    put_dec(mib);
    put_str(" MiB, checksum ");
    put_hex(sum);
    put_str("\n");
}
