/* The runtime every test guest links: entry from start.S, boot-info normalisation, serial
 * output, command-line and ACPI helpers, and the ways to end a run. */
#include "guest.h"

static volatile u32 serial_spinlock;
static struct boot boot_info;

void *memcpy(void *dest, const void *src, unsigned long n) {
    u8 *d = dest;
    const u8 *s = src;
    while (n--) *d++ = *s++;
    return dest;
}

void *memset(void *dest, int c, unsigned long n) {
    u8 *d = dest;
    while (n--) *d++ = (u8)c;
    return dest;
}

int memcmp(const void *a, const void *b, unsigned long n) {
    const u8 *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x - *y;
    return 0;
}

void serial_lock(void) {
    while (__atomic_exchange_n(&serial_spinlock, 1, __ATOMIC_ACQUIRE)) cpu_relax();
}

void serial_unlock(void) {
    __atomic_store_n(&serial_spinlock, 0, __ATOMIC_RELEASE);
}

void put_char(char c) {
    /* Wait for the transmitter holding register to be empty (LSR bit 5). */
    while (!(inb(0x3f8 + 5) & 0x20)) cpu_relax();
    outb(0x3f8, (u8)c);
}

void put_str(const char *s) {
    for (; *s; s++) {
        if (*s == '\n') put_char('\r');
        put_char(*s);
    }
}

void put_hex(u64 value) {
    char digits[19];
    int i = 18;
    digits[i] = 0;
    do {
        digits[--i] = "0123456789abcdef"[value & 0xf];
        value >>= 4;
    } while (value);
    digits[--i] = 'x';
    digits[--i] = '0';
    put_str(&digits[i]);
}

void put_dec(u64 value) {
    char digits[21];
    int i = 20;
    digits[i] = 0;
    do {
        digits[--i] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    put_str(&digits[i]);
}

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n';
}

u64 cmdline_number(const char *cmdline, const char *key, u64 fallback) {
    unsigned long key_len = 0;
    while (key[key_len]) key_len++;
    for (const char *p = cmdline; p && *p; p++) {
        if ((p != cmdline && !is_space(p[-1])) || memcmp(p, key, key_len) || p[key_len] != '=')
            continue;
        const char *digits = p + key_len + 1;
        u64 value = 0;
        if (digits[0] == '0' && digits[1] == 'x') {
            for (digits += 2; *digits && !is_space(*digits); digits++) {
                char c = *digits;
                int nibble = c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0';
                value = value * 16 + (u64)nibble;
            }
        } else {
            for (; *digits >= '0' && *digits <= '9'; digits++) value = value * 10 + (u64)(*digits - '0');
        }
        return value;
    }
    return fallback;
}

int cmdline_has(const char *cmdline, const char *word) {
    unsigned long len = 0;
    while (word[len]) len++;
    for (const char *p = cmdline; p && *p; p++) {
        if ((p == cmdline || is_space(p[-1])) && !memcmp(p, word, len) &&
            (p[len] == 0 || is_space(p[len])))
            return 1;
    }
    return 0;
}

int acpi_checksum_ok(const u8 *bytes, u32 length) {
    u8 sum = 0;
    for (u32 i = 0; i < length; i++) sum = (u8)(sum + bytes[i]);
    return sum == 0;
}

const u8 *acpi_find_table(u64 rsdp_address, const char *signature) {
    const u8 *rsdp = (const u8 *)rsdp_address;
    if (!rsdp || memcmp(rsdp, "RSD PTR ", 8) || !acpi_checksum_ok(rsdp, 20) ||
        rsdp[15] < 2 || !acpi_checksum_ok(rsdp, 36))
        return 0;
    const u8 *xsdt = (const u8 *)*(const u64 *)(rsdp + 24);
    u32 xsdt_len = *(const u32 *)(xsdt + 4);
    if (memcmp(xsdt, "XSDT", 4) || !acpi_checksum_ok(xsdt, xsdt_len)) return 0;
    for (u32 off = 36; off + 8 <= xsdt_len; off += 8) {
        const u8 *table = (const u8 *)*(const u64 *)(xsdt + off);
        if (!memcmp(table, signature, 4) && acpi_checksum_ok(table, *(const u32 *)(table + 4)))
            return table;
    }
    return 0;
}

u32 local_apic_id(void) {
    return mmio_read32(LAPIC_BASE + 0x20) >> 24;
}

void reset_machine(void) {
    outb(0x64, 0xfe);
    for (;;) __asm__ volatile("cli; hlt");
}

void test_exit(u8 code) {
    outb(TEST_EXIT_PORT, code);
    for (;;) __asm__ volatile("cli; hlt");
}

void fail(const char *what) {
    put_str("FAIL: ");
    put_str(what);
    put_str("\n");
    test_exit(1);
}

/* PVH hvm_start_info and Linux boot_params field offsets (see the launcher's boot.rs). */
static void read_pvh(struct boot *boot, const u8 *info) {
    if (*(const u32 *)info != 0x336ec578) fail("hvm_start_info magic");
    u32 nr_modules = *(const u32 *)(info + 12);
    const u8 *modules = (const u8 *)*(const u64 *)(info + 16);
    boot->cmdline = (const char *)*(const u64 *)(info + 24);
    boot->rsdp = *(const u64 *)(info + 32);
    const u8 *memmap = (const u8 *)*(const u64 *)(info + 40);
    u32 entries = *(const u32 *)(info + 48);
    for (u32 i = 0; i < entries && i < MAX_MEM_RANGES; i++) {
        boot->ranges[i].addr = *(const u64 *)(memmap + 24 * i);
        boot->ranges[i].size = *(const u64 *)(memmap + 24 * i + 8);
        boot->ranges[i].type = *(const u32 *)(memmap + 24 * i + 16);
        boot->nr_ranges = i + 1;
    }
    if (nr_modules) {
        boot->initrd_addr = *(const u64 *)modules;
        boot->initrd_size = *(const u64 *)(modules + 8);
    }
}

static void read_linux(struct boot *boot, const u8 *zero_page) {
    if (*(const u32 *)(zero_page + 0x202) != 0x53726448) fail("boot_params header magic");
    boot->rsdp = *(const u64 *)(zero_page + 0x70);
    boot->cmdline = (const char *)(u64) * (const u32 *)(zero_page + 0x228);
    boot->initrd_addr = *(const u32 *)(zero_page + 0x218);
    boot->initrd_size = *(const u32 *)(zero_page + 0x21c);
    u32 entries = zero_page[0x1e8];
    for (u32 i = 0; i < entries && i < MAX_MEM_RANGES; i++) {
        const u8 *entry = zero_page + 0x2d0 + 20 * i;
        boot->ranges[i].addr = *(const u64 *)entry;
        boot->ranges[i].size = *(const u64 *)(entry + 8);
        boot->ranges[i].type = *(const u32 *)(entry + 16);
        boot->nr_ranges = i + 1;
    }
}

void guest_entry(u32 kind, u64 info) {
    boot_info.kind = (int)kind;
    if (kind == KIND_PVH)
        read_pvh(&boot_info, (const u8 *)info);
    else
        read_linux(&boot_info, (const u8 *)info);
    if (!boot_info.cmdline) boot_info.cmdline = "";
    guest_main(&boot_info);
    reset_machine();
}

/* Guests without APs of their own never see this called. */
__attribute__((weak)) void ap_main(void) {
    for (;;) __asm__ volatile("cli; hlt");
}

void ap_entry(void) {
    ap_main();
}
