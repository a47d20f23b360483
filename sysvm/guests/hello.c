/* The smallest guest: one line on the serial port, then an i8042 reset. Command-line words
 * select misbehaviour for the launcher's tests: `probe` touches an unhandled port and MMIO
 * address first, `triple-fault` ends with a triple fault instead of a reset, `hang` halts
 * forever so signal and escape handling can be tested. */
#include "guest.h"

void guest_main(struct boot *boot) {
    put_str("Hello from a pvm guest!\n");
    if (cmdline_has(boot->cmdline, "probe")) {
        outb(0x510, 0x42);
        (void)inb(0x511);
        (void)mmio_read32(0xd0000000ULL);
        mmio_write32(0xd0000000ULL, 1);
        put_str("hello: probes survived\n");
    }
    if (cmdline_has(boot->cmdline, "triple-fault")) {
        /* An IDT at an unmapped address (start.S maps only the first 4 GiB) makes the #UD's
         * delivery page-fault, then double-fault, then triple-fault. (An int3 here, or a
         * zero-limit IDT, ends in KVM_EXIT_INTERNAL_ERROR on this host's KVM, whose
         * instruction emulator cannot deliver them.) */
        struct __attribute__((packed)) { u16 limit; u64 base; } idt = {0xfff, 0x1000000000ULL};
        __asm__ volatile("lidt %0; ud2" : : "m"(idt));
    }
    if (cmdline_has(boot->cmdline, "hang")) {
        put_str("hello: halting forever\n");
        for (;;) __asm__ volatile("cli; hlt");
    }
    reset_machine();
}
