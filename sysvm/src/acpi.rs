//! ACPI tables: how the guest learns about every vCPU (MADT) and how it powers the machine
//! off (a hardware-reduced FADT whose sleep-control register the launcher implements).
//!
//! Linux distribution kernels no longer read the MP table, so without a MADT they would only
//! ever bring up one CPU. The tables are built byte by byte from the ACPI 6.x layouts: they are
//! small, fixed and easier to check here than through a table-building dependency.

use crate::layout::{ACPI_START, IOAPIC_ADDR, LAPIC_ADDR};

/// I/O port of the FADT's `SLEEP_CONTROL_REG`; writes with [`SLP_EN`] set end the guest.
pub const SLEEP_CONTROL_PORT: u16 = 0x600;
/// I/O port of the FADT's `SLEEP_STATUS_REG`; reads as 0 (never woken).
pub const SLEEP_STATUS_PORT: u16 = 0x601;
/// Sleep-enable bit of the hardware-reduced sleep-control register.
pub const SLP_EN: u8 = 1 << 5;
/// The sleep type our DSDT's `\_S5_` object announces for soft-off.
pub const S5_SLEEP_TYPE: u8 = 5;

/// Where each table sits in the ACPI area (offsets from [`ACPI_START`]).
const RSDP_OFFSET: u64 = 0x0;
const XSDT_OFFSET: u64 = 0x40;
const FADT_OFFSET: u64 = 0x80;
const DSDT_OFFSET: u64 = 0x1c0;
const MADT_OFFSET: u64 = 0x200;

/// Size of the standard table header (signature through creator revision).
const HEADER_LEN: usize = 36;
const FADT_LEN: usize = 276;

/// FADT flag: no legacy PM1/GPE hardware; sleep goes through SLEEP_CONTROL_REG.
const FADT_HW_REDUCED_ACPI: u32 = 1 << 20;
/// FADT IA-PC boot flag: no VGA, so the guest does not probe the legacy VGA ports.
const IAPC_BOOT_ARCH_NO_VGA: u16 = 1 << 2;

/// AML for `Name (_S5_, Package () { 5, 0 })`: the sleep type Linux writes for power-off.
const DSDT_S5_AML: [u8; 12] = [
    0x08,
    b'_',
    b'S',
    b'5',
    b'_', // NameOp "_S5_"
    0x12,
    0x06,
    0x02, // PackageOp, PkgLength 6, two elements
    0x0a,
    S5_SLEEP_TYPE, // BytePrefix SLP_TYPa
    0x0a,
    0x00, // BytePrefix SLP_TYPb
];

/// The ACPI tables of one guest, laid out for copying to [`ACPI_START`].
pub struct AcpiTables {
    /// Bytes from [`ACPI_START`] on.
    pub bytes: Vec<u8>,
}

impl AcpiTables {
    /// Guest-physical address of the RSDP, for PVH `rsdp_paddr` and `boot_params.acpi_rsdp_addr`.
    pub const RSDP_ADDR: u64 = ACPI_START + RSDP_OFFSET;

    /// Builds RSDP, XSDT, FADT, DSDT and a MADT listing `vcpus` local APICs (ids 0..vcpus) and
    /// one IOAPIC.
    pub fn build(vcpus: u32) -> Self {
        let madt = madt(vcpus);
        let mut bytes = vec![0u8; MADT_OFFSET as usize + madt.len()];
        place(&mut bytes, RSDP_OFFSET, &rsdp());
        place(&mut bytes, XSDT_OFFSET, &xsdt(&[FADT_OFFSET, MADT_OFFSET]));
        place(&mut bytes, FADT_OFFSET, &fadt());
        place(&mut bytes, DSDT_OFFSET, &dsdt());
        place(&mut bytes, MADT_OFFSET, &madt);
        AcpiTables { bytes }
    }
}

fn place(area: &mut [u8], offset: u64, table: &[u8]) {
    let offset = offset as usize;
    area[offset..offset + table.len()].copy_from_slice(table);
}

/// Makes the bytes sum to zero by adjusting the one at `at`.
fn fix_checksum(bytes: &mut [u8], at: usize) {
    bytes[at] = 0;
    let sum = bytes.iter().fold(0u8, |sum, byte| sum.wrapping_add(*byte));
    bytes[at] = sum.wrapping_neg();
}

/// A table with a standard header; the caller appends the body and calls [`finish`].
fn table(signature: &[u8; 4], revision: u8) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN);
    bytes.extend_from_slice(signature);
    bytes.extend_from_slice(&0u32.to_le_bytes()); // length, set by finish
    bytes.push(revision);
    bytes.push(0); // checksum, set by finish
    bytes.extend_from_slice(b"PVM   ");
    bytes.extend_from_slice(b"PVMSYSVM");
    bytes.extend_from_slice(&1u32.to_le_bytes()); // OEM revision
    bytes.extend_from_slice(b"PVM ");
    bytes.extend_from_slice(&1u32.to_le_bytes()); // creator revision
    bytes
}

fn finish(mut bytes: Vec<u8>) -> Vec<u8> {
    let length = bytes.len() as u32;
    bytes[4..8].copy_from_slice(&length.to_le_bytes());
    fix_checksum(&mut bytes, 9);
    bytes
}

/// ACPI 2.0+ RSDP pointing at the XSDT only; guests that want the 32-bit RSDT get none.
fn rsdp() -> Vec<u8> {
    let mut bytes = Vec::with_capacity(36);
    bytes.extend_from_slice(b"RSD PTR ");
    bytes.push(0); // checksum over the first 20 bytes
    bytes.extend_from_slice(b"PVM   ");
    bytes.push(2); // revision: ACPI 2.0+
    bytes.extend_from_slice(&0u32.to_le_bytes()); // RSDT address: none
    bytes.extend_from_slice(&36u32.to_le_bytes());
    bytes.extend_from_slice(&(ACPI_START + XSDT_OFFSET).to_le_bytes());
    bytes.push(0); // extended checksum over all 36 bytes
    bytes.extend_from_slice(&[0; 3]);
    fix_checksum(&mut bytes[..20], 8);
    fix_checksum(&mut bytes, 32);
    bytes
}

fn xsdt(table_offsets: &[u64]) -> Vec<u8> {
    let mut bytes = table(b"XSDT", 1);
    for offset in table_offsets {
        bytes.extend_from_slice(&(ACPI_START + offset).to_le_bytes());
    }
    finish(bytes)
}

/// A Generic Address Structure for one byte-wide I/O port.
fn io_port_gas(port: u16) -> [u8; 12] {
    let mut gas = [0u8; 12];
    gas[0] = 1; // address space: system I/O
    gas[1] = 8; // register bit width
    gas[3] = 1; // access size: byte
    gas[4..12].copy_from_slice(&u64::from(port).to_le_bytes());
    gas
}

/// ACPI 6.3 FADT for a hardware-reduced platform: only the DSDT pointer, the boot flags and the
/// sleep control/status registers carry meaning.
fn fadt() -> Vec<u8> {
    let mut bytes = table(b"FACP", 6);
    bytes.resize(FADT_LEN, 0);
    let dsdt = ACPI_START + DSDT_OFFSET;
    bytes[40..44].copy_from_slice(&(dsdt as u32).to_le_bytes());
    bytes[109..111].copy_from_slice(&IAPC_BOOT_ARCH_NO_VGA.to_le_bytes());
    bytes[112..116].copy_from_slice(&FADT_HW_REDUCED_ACPI.to_le_bytes());
    bytes[131] = 3; // FADT minor version: 6.3
    bytes[140..148].copy_from_slice(&dsdt.to_le_bytes());
    bytes[244..256].copy_from_slice(&io_port_gas(SLEEP_CONTROL_PORT));
    bytes[256..268].copy_from_slice(&io_port_gas(SLEEP_STATUS_PORT));
    bytes[268..276].copy_from_slice(b"PVMSYSVM");
    finish(bytes)
}

fn dsdt() -> Vec<u8> {
    let mut bytes = table(b"DSDT", 2);
    bytes.extend_from_slice(&DSDT_S5_AML);
    finish(bytes)
}

/// MADT: one enabled Processor Local APIC per vCPU (APIC id = vCPU index, as CPUID reports)
/// and the in-kernel IOAPIC with GSIs from 0.
///
/// FIXME: no Interrupt Source Override or Local APIC NMI entries. KVM's default routing sends
/// the PIT (IRQ 0) to IOAPIC pin 0, which matches "no override", and Linux's timer check
/// falls back through its other routes; but this was not seen working with Linux here, since
/// the host stops Linux before it sets up the timer. Boot Linux on hardware-assisted KVM to
/// confirm, and add an override if it complains.
fn madt(vcpus: u32) -> Vec<u8> {
    const PCAT_COMPAT: u32 = 1; // a dual 8259 PIC is present too (KVM's in-kernel one)
    let mut bytes = table(b"APIC", 5);
    bytes.extend_from_slice(&LAPIC_ADDR.to_le_bytes());
    bytes.extend_from_slice(&PCAT_COMPAT.to_le_bytes());
    for id in 0..vcpus {
        // type 0, length 8, ACPI processor uid, APIC id, flags = enabled
        bytes.extend_from_slice(&[0, 8, id as u8, id as u8, 1, 0, 0, 0]);
    }
    // type 1, length 12, IOAPIC id (after the last APIC id), reserved, address, GSI base
    bytes.extend_from_slice(&[1, 12, vcpus as u8, 0]);
    bytes.extend_from_slice(&IOAPIC_ADDR.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    finish(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums_to_zero(bytes: &[u8]) -> bool {
        bytes.iter().fold(0u8, |sum, byte| sum.wrapping_add(*byte)) == 0
    }

    fn table_at(tables: &AcpiTables, offset: u64) -> &[u8] {
        let start = offset as usize;
        let field = &tables.bytes[start + 4..start + 8];
        let length = u32::from_le_bytes([field[0], field[1], field[2], field[3]]);
        &tables.bytes[start..start + length as usize]
    }

    #[test]
    fn checksums_hold() {
        let tables = AcpiTables::build(4);
        assert!(sums_to_zero(&tables.bytes[..20]));
        assert!(sums_to_zero(&tables.bytes[..36]));
        for offset in [XSDT_OFFSET, FADT_OFFSET, DSDT_OFFSET, MADT_OFFSET] {
            assert!(
                sums_to_zero(table_at(&tables, offset)),
                "table at {offset:#x}"
            );
        }
    }

    #[test]
    fn tables_do_not_overlap() {
        let tables = AcpiTables::build(32);
        assert!(
            XSDT_OFFSET as usize + table_at(&tables, XSDT_OFFSET).len() <= FADT_OFFSET as usize
        );
        assert!(FADT_OFFSET as usize + FADT_LEN <= DSDT_OFFSET as usize);
        assert!(
            DSDT_OFFSET as usize + table_at(&tables, DSDT_OFFSET).len() <= MADT_OFFSET as usize
        );
        assert!(ACPI_START + tables.bytes.len() as u64 <= crate::layout::ACPI_END);
    }

    #[test]
    fn madt_lists_every_vcpu() {
        let tables = AcpiTables::build(3);
        let madt = table_at(&tables, MADT_OFFSET);
        assert_eq!(&madt[..4], b"APIC");
        let entries = &madt[44..];
        let apic_ids: Vec<u8> = entries
            .chunks(8)
            .take_while(|entry| entry[0] == 0)
            .map(|entry| entry[3])
            .collect();
        assert_eq!(apic_ids, vec![0, 1, 2]);
        assert_eq!(&entries[24..26], &[1, 12]);
    }

    #[test]
    fn fadt_points_at_sleep_ports() {
        let tables = AcpiTables::build(1);
        let fadt = table_at(&tables, FADT_OFFSET);
        assert_eq!(fadt.len(), FADT_LEN);
        assert_eq!(
            u16::from_le_bytes([fadt[248], fadt[249]]),
            SLEEP_CONTROL_PORT
        );
        assert_eq!(
            u16::from_le_bytes([fadt[260], fadt[261]]),
            SLEEP_STATUS_PORT
        );
    }
}
