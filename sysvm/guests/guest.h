/* Shared runtime of the freestanding test guests: port I/O, serial output, what the boot
 * protocol handed over (normalised so PVH and Linux-protocol guests check the same thing),
 * and the ways a guest ends: i8042 reset, ACPI power-off, or a code on the test-exit port. */
#ifndef PVM_GUEST_H
#define PVM_GUEST_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define KIND_PVH 1
#define KIND_LINUX 2
#define MAX_MEM_RANGES 32
#define MAX_CPUS 32
#define TEST_EXIT_PORT 0xf4
#define LAPIC_BASE 0xfee00000ULL

struct mem_range {
    u64 addr;
    u64 size;
    u32 type;
};

/* What the launcher handed over, whichever protocol it used. */
struct boot {
    int kind;
    const char *cmdline;
    u32 nr_ranges;
    struct mem_range ranges[MAX_MEM_RANGES];
    u64 initrd_addr;
    u64 initrd_size;
    u64 rsdp;
};

static inline void outb(u16 port, u8 value) {
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline u8 inb(u16 port) {
    u8 value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static inline u32 mmio_read32(u64 address) {
    return *(volatile u32 *)address;
}

static inline void mmio_write32(u64 address, u32 value) {
    *(volatile u32 *)address = value;
}

static inline void cpu_relax(void) {
    __asm__ volatile("pause");
}

void *memcpy(void *dest, const void *src, unsigned long n);
void *memset(void *dest, int c, unsigned long n);
int memcmp(const void *a, const void *b, unsigned long n);

void serial_lock(void);
void serial_unlock(void);
void put_char(char c);
void put_str(const char *s);
void put_hex(u64 value);
void put_dec(u64 value);

/* Value of `key=` on the command line, decimal or 0x-hex; `fallback` if absent. */
u64 cmdline_number(const char *cmdline, const char *key, u64 fallback);
/* Whether the command line contains the whitespace-separated word `word`. */
int cmdline_has(const char *cmdline, const char *word);

/* ACPI: the table with `signature` reachable from the RSDP, checksums verified; 0 if none. */
const u8 *acpi_find_table(u64 rsdp, const char *signature);
int acpi_checksum_ok(const u8 *bytes, u32 length);
u32 local_apic_id(void);

__attribute__((noreturn)) void reset_machine(void);
__attribute__((noreturn)) void test_exit(u8 code);
__attribute__((noreturn)) void fail(const char *what);

/* Implemented by each guest. */
void guest_main(struct boot *boot);
void ap_main(void);

#endif
