/* Brings up every CPU the MADT lists with INIT/SIPI/SIPI through the local APIC, has each
 * report its APIC id, and resets once all have checked in (test exit 1 on a timeout). */
#include "guest.h"

#define TRAMPOLINE_BASE 0x10000
#define ICR_LOW 0x300
#define ICR_HIGH 0x310
#define ICR_BUSY (1u << 12)
#define ICR_INIT 0x00004500u
#define ICR_STARTUP 0x00004600u

extern const u8 trampoline_start[], trampoline_end[];
static volatile u32 cpus_online = 1;

static void delay(u64 loops) {
    for (volatile u64 i = 0; i < loops; i++) cpu_relax();
}

static void send_ipi(u32 apic_id, u32 command) {
    mmio_write32(LAPIC_BASE + ICR_HIGH, apic_id << 24);
    mmio_write32(LAPIC_BASE + ICR_LOW, command);
    while (mmio_read32(LAPIC_BASE + ICR_LOW) & ICR_BUSY) cpu_relax();
}

void ap_main(void) {
    u32 id = local_apic_id();
    serial_lock();
    put_str("smp: cpu with apic id ");
    put_dec(id);
    put_str(" online\n");
    serial_unlock();
    __atomic_add_fetch(&cpus_online, 1, __ATOMIC_SEQ_CST);
    for (;;) __asm__ volatile("cli; hlt");
}

void guest_main(struct boot *boot) {
    const u8 *madt = acpi_find_table(boot->rsdp, "APIC");
    if (!madt) fail("no valid MADT");
    u32 self = local_apic_id();
    serial_lock();
    put_str("smp: cpu with apic id ");
    put_dec(self);
    put_str(" online (boot cpu)\n");
    serial_unlock();

    memcpy((void *)TRAMPOLINE_BASE, trampoline_start, (unsigned long)(trampoline_end - trampoline_start));
    u32 length = *(const u32 *)(madt + 4);
    u32 expected = 1;
    for (u32 off = 44; off + 2 <= length; off += madt[off + 1]) {
        if (madt[off] != 0 || !(madt[off + 4] & 1) || madt[off + 3] == self) continue;
        u32 apic_id = madt[off + 3];
        expected++;
        send_ipi(apic_id, ICR_INIT);
        delay(10000);
        send_ipi(apic_id, ICR_STARTUP | (TRAMPOLINE_BASE >> 12));
        delay(1000);
        send_ipi(apic_id, ICR_STARTUP | (TRAMPOLINE_BASE >> 12));
    }

    for (u64 spins = 0; __atomic_load_n(&cpus_online, __ATOMIC_SEQ_CST) < expected; spins++) {
        if (spins > 2000000000ULL) fail("timed out waiting for APs");
        cpu_relax();
    }
    serial_lock();
    put_str("smp: ");
    put_dec(expected);
    put_str(" of ");
    put_dec(expected);
    put_str(" cpus online\n");
    serial_unlock();
}
