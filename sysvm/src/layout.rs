//! Where everything lives in guest-physical memory, and the memory map handed to the guest.
//!
//! One table of addresses keeps the boot structures from overlapping each other or the kernel;
//! `spec/sysvm.md` draws the same map. All fixed structures sit in the first MiB, below the
//! kernel, which both boot protocols load at 1 MiB.

/// GDT used by the 64-bit Linux boot path (four 8-byte entries).
pub const GDT_ADDR: u64 = 0x500;
/// Empty IDT: the guest installs its own before enabling interrupts.
pub const IDT_ADDR: u64 = 0x520;
/// PVH `hvm_start_info`, followed by its module list and memory map.
pub const PVH_INFO_ADDR: u64 = 0x6000;
pub const PVH_MODLIST_ADDR: u64 = 0x6040;
pub const PVH_MEMMAP_ADDR: u64 = 0x6080;
/// Linux zero page (`struct boot_params`).
pub const ZERO_PAGE_ADDR: u64 = 0x7000;
/// Identity-mapping page tables for the 64-bit Linux path: PML4, one PDPT, four PDs (4 GiB).
pub const PML4_ADDR: u64 = 0x9000;
pub const PDPT_ADDR: u64 = 0xa000;
pub const PD_ADDR: u64 = 0xb000;
/// Kernel command line, NUL-terminated.
pub const CMDLINE_ADDR: u64 = 0x20000;
/// Room for the command line, the limit of the 2.06+ boot protocol's `cmdline_size` we honour.
pub const CMDLINE_MAX: usize = 0x10000;
/// End of conventional low memory; the BIOS data area would follow on a PC.
pub const LOW_RAM_END: u64 = 0x9fc00;
/// ACPI tables live in the BIOS ROM area, where guests also scan for the RSDP.
pub const ACPI_START: u64 = 0xe0000;
pub const ACPI_END: u64 = 0x100000;
/// Both boot protocols load the kernel here (bzImage `code32_start`, PVH ELF `p_paddr`).
pub const HIMEM_START: u64 = 0x100000;

/// Guest RAM above this address continues at 4 GiB, leaving room for the LAPIC, IOAPIC and
/// the KVM TSS/identity pages.
pub const MMIO_GAP_START: u64 = 0xc000_0000;
pub const MMIO_GAP_END: u64 = 0x1_0000_0000;
/// KVM on Intel needs three pages for a real-mode TSS and one for an identity-map page table;
/// both go in the MMIO gap, away from RAM.
pub const KVM_IDENTITY_MAP_ADDR: u64 = 0xfffb_c000;
pub const KVM_TSS_ADDR: u64 = 0xfffb_d000;
pub const IOAPIC_ADDR: u32 = 0xfec0_0000;
pub const LAPIC_ADDR: u32 = 0xfee0_0000;

// The fixed structures must not overlap one another (the PVH memory map has at most four
// 24-byte entries; the zero page is one page) and must end below the BIOS hole.
const _: () = {
    assert!(PVH_INFO_ADDR + 56 <= PVH_MODLIST_ADDR);
    assert!(PVH_MODLIST_ADDR + 32 <= PVH_MEMMAP_ADDR);
    assert!(PVH_MEMMAP_ADDR + 4 * 24 <= ZERO_PAGE_ADDR);
    assert!(ZERO_PAGE_ADDR + 0x1000 <= PML4_ADDR);
    assert!(PD_ADDR + 4 * 0x1000 <= CMDLINE_ADDR);
    assert!(CMDLINE_ADDR + CMDLINE_MAX as u64 <= LOW_RAM_END);
};

/// One e820 / PVH memory map entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryRange {
    pub start: u64,
    pub size: u64,
    pub kind: RangeKind,
}

/// The e820 types the launcher hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeKind {
    Ram = 1,
    Reserved = 2,
}

/// RAM regions backing `memory_bytes` of guest memory, split around the MMIO gap.
pub fn ram_regions(memory_bytes: u64) -> Vec<(u64, u64)> {
    let below_gap = memory_bytes.min(MMIO_GAP_START);
    let mut regions = vec![(0, below_gap)];
    if memory_bytes > MMIO_GAP_START {
        regions.push((MMIO_GAP_END, memory_bytes - MMIO_GAP_START));
    }
    regions
}

/// The memory map the guest sees: low RAM, the reserved BIOS/ACPI hole, RAM from 1 MiB up to
/// the gap and any RAM above 4 GiB.
pub fn memory_map(memory_bytes: u64) -> Vec<MemoryRange> {
    let mut map = vec![
        MemoryRange {
            start: 0,
            size: LOW_RAM_END,
            kind: RangeKind::Ram,
        },
        MemoryRange {
            start: ACPI_START,
            size: ACPI_END - ACPI_START,
            kind: RangeKind::Reserved,
        },
    ];
    for (start, size) in ram_regions(memory_bytes) {
        // The first region's low part is already listed above, split by the BIOS hole.
        let end = start + size;
        let start = start.max(HIMEM_START);
        if end > start {
            map.push(MemoryRange {
                start,
                size: end - start,
                kind: RangeKind::Ram,
            });
        }
    }
    map
}

/// The highest address (exclusive) of RAM below the MMIO gap.
pub fn low_ram_end(memory_bytes: u64) -> u64 {
    memory_bytes.min(MMIO_GAP_START)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn small_guest_has_no_high_region() {
        assert_eq!(ram_regions(256 * MIB), vec![(0, 256 * MIB)]);
        let map = memory_map(256 * MIB);
        assert_eq!(map.len(), 3);
        assert_eq!(map[2].start, HIMEM_START);
        assert_eq!(map[2].start + map[2].size, 256 * MIB);
    }

    #[test]
    fn large_guest_skips_the_gap() {
        let regions = ram_regions(4096 * MIB);
        assert_eq!(
            regions,
            vec![(0, MMIO_GAP_START), (MMIO_GAP_END, 1024 * MIB)]
        );
        let map = memory_map(4096 * MIB);
        assert_eq!(map[3].start, MMIO_GAP_END);
        assert_eq!(map[3].size, 1024 * MIB);
        assert_eq!(map[2].start + map[2].size, MMIO_GAP_START);
    }
}
