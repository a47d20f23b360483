/* Checks what the launcher handed over against expectations on the command line:
 * `bootinfo_token=pvm42` present, `expect_mem_mib=N` matching the memory map,
 * `initrd_size=S initrd_fnv=H` matching the initrd bytes (FNV-1a 32), `expect_cpus=C`
 * enabled local APICs plus an IOAPIC in the MADT, and a hardware-reduced FADT whose
 * sleep-control register it then uses to power off. Any mismatch: FAIL line, exit code 1. */
#include "guest.h"

static void check(int ok, const char *what) {
    if (!ok) fail(what);
    put_str("bootinfo: ok: ");
    put_str(what);
    put_str("\n");
}

static u32 fnv1a(const u8 *bytes, u64 length) {
    u32 hash = 2166136261u;
    for (u64 i = 0; i < length; i++) hash = (hash ^ bytes[i]) * 16777619u;
    return hash;
}

static void check_memory_map(struct boot *boot) {
    u64 expect_mib = cmdline_number(boot->cmdline, "expect_mem_mib", 0);
    u64 ram_top = 0;
    int has_low = 0, has_high = 0;
    for (u32 i = 0; i < boot->nr_ranges; i++) {
        const struct mem_range *r = &boot->ranges[i];
        put_str("bootinfo: memory ");
        put_hex(r->addr);
        put_str(" size ");
        put_hex(r->size);
        put_str(" type ");
        put_dec(r->type);
        put_str("\n");
        if (r->type != 1) continue;
        if (r->addr == 0) has_low = 1;
        if (r->addr == 0x100000) has_high = 1;
        if (r->addr + r->size > ram_top) ram_top = r->addr + r->size;
    }
    check(has_low && has_high, "memory map has RAM at 0 and at 1 MiB");
    check(ram_top == expect_mib << 20, "memory map ends at expect_mem_mib");
}

static void check_acpi(struct boot *boot) {
    u64 expect_cpus = cmdline_number(boot->cmdline, "expect_cpus", 1);
    const u8 *madt = acpi_find_table(boot->rsdp, "APIC");
    check(madt != 0, "RSDP, XSDT and MADT found with valid checksums");
    u32 length = *(const u32 *)(madt + 4);
    u32 cpus = 0, ioapics = 0;
    for (u32 off = 44; off + 2 <= length; off += madt[off + 1]) {
        if (madt[off] == 0 && (madt[off + 4] & 1)) cpus++;
        if (madt[off] == 1) ioapics++;
    }
    put_str("bootinfo: MADT lists ");
    put_dec(cpus);
    put_str(" cpus and ");
    put_dec(ioapics);
    put_str(" ioapic\n");
    check(cpus == expect_cpus, "MADT local APIC count is expect_cpus");
    check(ioapics == 1, "MADT has one IOAPIC");

    const u8 *fadt = acpi_find_table(boot->rsdp, "FACP");
    check(fadt != 0, "FADT found with a valid checksum");
    check((*(const u32 *)(fadt + 112) >> 20) & 1, "FADT is hardware-reduced");
    check(fadt[244] == 1 && *(const u64 *)(fadt + 248) != 0, "FADT has an I/O sleep-control register");
}

void guest_main(struct boot *boot) {
    put_str(boot->kind == KIND_PVH ? "bootinfo: protocol pvh\n" : "bootinfo: protocol linux\n");
    put_str("bootinfo: cmdline \"");
    put_str(boot->cmdline);
    put_str("\"\n");
    check(cmdline_has(boot->cmdline, "bootinfo_token=pvm42"), "command line");
    check_memory_map(boot);

    u64 initrd_size = cmdline_number(boot->cmdline, "initrd_size", 0);
    check(boot->initrd_size == initrd_size, "initrd size");
    if (initrd_size) {
        u32 hash = fnv1a((const u8 *)boot->initrd_addr, boot->initrd_size);
        check(hash == cmdline_number(boot->cmdline, "initrd_fnv", 0), "initrd bytes");
    }
    check_acpi(boot);
    put_str("bootinfo: all checks passed\n");

    /* Soft-off: SLP_TYP of \_S5_ (5) and SLP_EN, as Linux writes it on a hardware-reduced FADT. */
    const u8 *fadt = acpi_find_table(boot->rsdp, "FACP");
    outb((u16) * (const u64 *)(fadt + 248), (5 << 2) | (1 << 5));
    fail("still running after ACPI power-off");
}
