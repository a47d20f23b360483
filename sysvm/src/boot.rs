//! Loading the kernel, initrd and command line, and writing what each boot protocol hands the
//! guest: the Linux zero page for bzImages, the PVH `hvm_start_info` for ELF kernels.
//!
//! The format is decided by the file, not the config: an ELF must carry a PVH entry note (the
//! only way into an ELF kernel we support), anything else must be a bzImage with a 64-bit entry.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use linux_loader::configurator::linux::LinuxBootConfigurator;
use linux_loader::configurator::pvh::PvhBootConfigurator;
use linux_loader::configurator::{BootConfigurator, BootParams};
use linux_loader::loader::bootparam::{boot_e820_entry, boot_params};
use linux_loader::loader::elf::start_info::{
    hvm_memmap_table_entry, hvm_modlist_entry, hvm_start_info, XEN_HVM_START_MAGIC_VALUE,
};
use linux_loader::loader::elf::PvhBootCapability;
use linux_loader::loader::{load_cmdline, BzImage, Cmdline, Elf, KernelLoader};
use vm_memory::{Bytes, GuestAddress};

use crate::acpi::AcpiTables;
use crate::layout::{self, MemoryRange};
use crate::memory::GuestMemory;

/// Offset of the 64-bit entry point from the protected-mode kernel's load address.
const LINUX_64BIT_ENTRY_OFFSET: u64 = 0x200;
/// `type_of_loader` value for a boot loader without an assigned id.
const LOADER_TYPE_UNDEFINED: u8 = 0xff;
/// `xloadflags` bit: the kernel has the 64-bit entry point at +0x200.
const XLF_KERNEL_64: u16 = 1 << 0;
/// `loadflags` bit: protected-mode code is loaded at 1 MiB.
const LOADED_HIGH: u8 = 1 << 0;
/// `boot_flag` and `header` values the Linux boot protocol requires.
const BOOT_FLAG_MAGIC: u16 = 0xaa55;
const HDRS_MAGIC: u32 = 0x5372_6448;
const PAGE_SIZE: u64 = 0x1000;
/// Highest initrd address for kernels that do not state one (boot protocol < 2.03).
const DEFAULT_INITRD_ADDR_MAX: u32 = 0x37ff_ffff;

/// Why the kernel or initrd could not be put into guest memory.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// The kernel or initrd file could not be read.
    #[error("{what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The kernel is neither a 64-bit-capable bzImage nor an ELF with a PVH entry note.
    #[error("kernel {path}: {reason}")]
    KernelFormat { path: PathBuf, reason: String },
    /// The initrd does not fit between the kernel and the top of low memory.
    #[error("initrd {path} ({size} bytes) does not fit in guest memory; raise `memory_mib`")]
    InitrdTooLarge { path: PathBuf, size: u64 },
    /// The command line is longer than the kernel accepts or is not valid for it.
    #[error("`cmdline`: {0}")]
    Cmdline(String),
    /// Writing a boot structure into guest memory failed (a layout bug, not a user error).
    #[error("writing {what} into guest memory: {reason}")]
    GuestWrite { what: &'static str, reason: String },
}

/// How the boot vCPU must start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryPoint {
    /// 64-bit Linux boot protocol: long mode, identity paging, `rsi` = zero page.
    Linux64 { rip: u64, zero_page: u64 },
    /// PVH: 32-bit protected mode without paging, `ebx` = `hvm_start_info`.
    Pvh { rip: u64, start_info: u64 },
}

/// What the boot vCPU needs to start the loaded guest.
#[derive(Debug, Clone, Copy)]
pub struct LoadedGuest {
    pub entry: EntryPoint,
}

/// Where the initrd landed.
#[derive(Debug, Clone, Copy)]
struct InitrdPlacement {
    address: u64,
    size: u64,
}

/// Everything the loader needs from the config.
pub struct BootInputs<'a> {
    pub kernel: &'a Path,
    pub initrd: Option<&'a Path>,
    pub cmdline: &'a str,
    pub memory_bytes: u64,
}

/// Loads kernel, initrd, command line and ACPI tables, and writes the boot protocol's info.
pub fn load_guest(
    memory: &GuestMemory,
    inputs: &BootInputs<'_>,
    acpi: &AcpiTables,
) -> Result<LoadedGuest, BootError> {
    let read_error = |what, path: &Path| {
        let path = path.to_owned();
        move |source| BootError::Read { what, path, source }
    };
    let mut kernel = File::open(inputs.kernel).map_err(read_error("kernel", inputs.kernel))?;
    let mut magic = [0u8; 4];
    kernel
        .read_exact(&mut magic)
        .and_then(|()| kernel.seek(SeekFrom::Start(0)).map(|_| ()))
        .map_err(read_error("kernel", inputs.kernel))?;

    write(memory, "ACPI tables", layout::ACPI_START, &acpi.bytes)?;
    let cmdline = build_cmdline(inputs.cmdline)?;
    load_cmdline(memory, GuestAddress(layout::CMDLINE_ADDR), &cmdline)
        .map_err(|error| BootError::Cmdline(error.to_string()))?;

    if magic == *b"\x7fELF" {
        load_pvh(memory, inputs, &mut kernel)
    } else {
        load_bzimage(memory, inputs, &mut kernel)
    }
}

fn build_cmdline(text: &str) -> Result<Cmdline, BootError> {
    let mut cmdline =
        Cmdline::new(layout::CMDLINE_MAX).map_err(|error| BootError::Cmdline(error.to_string()))?;
    if !text.trim().is_empty() {
        cmdline
            .insert_str(text)
            .map_err(|error| BootError::Cmdline(error.to_string()))?;
    }
    Ok(cmdline)
}

/// The kernel at `inputs.kernel` is not something the launcher can boot.
fn kernel_format_error(inputs: &BootInputs<'_>, reason: String) -> BootError {
    BootError::KernelFormat {
        path: inputs.kernel.to_owned(),
        reason,
    }
}

fn load_bzimage(
    memory: &GuestMemory,
    inputs: &BootInputs<'_>,
    kernel: &mut File,
) -> Result<LoadedGuest, BootError> {
    let format_error = |reason: String| kernel_format_error(inputs, reason);
    let loaded = BzImage::load(
        memory,
        None,
        kernel,
        Some(GuestAddress(layout::HIMEM_START)),
    )
    .map_err(|error| format_error(format!("not a loadable bzImage or PVH ELF ({error})")))?;
    let mut header = loaded
        .setup_header
        .ok_or_else(|| format_error("bzImage without a setup header".to_owned()))?;
    if header.xloadflags & XLF_KERNEL_64 == 0 {
        return Err(format_error(
            "bzImage has no 64-bit entry point (xloadflags bit 0)".to_owned(),
        ));
    }

    // `cmdline_size` is the kernel's own limit (protocol 2.06+), excluding the NUL.
    let kernel_cmdline_limit = header.cmdline_size as usize;
    if header.version >= 0x206 && inputs.cmdline.len() > kernel_cmdline_limit {
        return Err(BootError::Cmdline(format!(
            "{} bytes, this kernel accepts at most {kernel_cmdline_limit}",
            inputs.cmdline.len()
        )));
    }

    // Protocols before 2.03 have no initrd_addr_max field; their limit is fixed.
    let initrd_addr_max = match header.initrd_addr_max {
        0 => DEFAULT_INITRD_ADDR_MAX,
        limit => limit,
    };
    let initrd_ceiling = u64::from(initrd_addr_max).saturating_add(1);
    let initrd = load_initrd(memory, inputs, loaded.kernel_end, initrd_ceiling)?;

    header.type_of_loader = LOADER_TYPE_UNDEFINED;
    header.boot_flag = BOOT_FLAG_MAGIC;
    header.header = HDRS_MAGIC;
    header.loadflags |= LOADED_HIGH;
    header.cmd_line_ptr = layout::CMDLINE_ADDR as u32;
    if let Some(initrd) = initrd {
        header.ramdisk_image = initrd.address as u32;
        header.ramdisk_size = initrd.size as u32;
    }

    let mut params = boot_params {
        hdr: header,
        acpi_rsdp_addr: AcpiTables::RSDP_ADDR,
        ..Default::default()
    };
    let map = layout::memory_map(inputs.memory_bytes);
    for (slot, range) in params.e820_table.iter_mut().zip(&map) {
        *slot = boot_e820_entry {
            addr: range.start,
            size: range.size,
            r#type: range.kind as u32,
        };
    }
    params.e820_entries = map.len() as u8;

    let boot = BootParams::new(&params, GuestAddress(layout::ZERO_PAGE_ADDR));
    LinuxBootConfigurator::write_bootparams(&boot, memory).map_err(|error| {
        BootError::GuestWrite {
            what: "zero page",
            reason: error.to_string(),
        }
    })?;

    Ok(LoadedGuest {
        entry: EntryPoint::Linux64 {
            rip: loaded.kernel_load.0 + LINUX_64BIT_ENTRY_OFFSET,
            zero_page: layout::ZERO_PAGE_ADDR,
        },
    })
}

fn load_pvh(
    memory: &GuestMemory,
    inputs: &BootInputs<'_>,
    kernel: &mut File,
) -> Result<LoadedGuest, BootError> {
    let format_error = |reason: String| kernel_format_error(inputs, reason);
    let loaded = Elf::load(
        memory,
        None,
        kernel,
        Some(GuestAddress(layout::HIMEM_START)),
    )
    .map_err(|error| format_error(format!("ELF kernel could not be loaded ({error})")))?;
    let PvhBootCapability::PvhEntryPresent(entry) = loaded.pvh_boot_cap else {
        return Err(format_error(
            "ELF kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)".to_owned(),
        ));
    };

    let initrd = load_initrd(memory, inputs, loaded.kernel_end, layout::MMIO_GAP_START)?;

    let map: Vec<hvm_memmap_table_entry> = layout::memory_map(inputs.memory_bytes)
        .iter()
        .map(|range: &MemoryRange| hvm_memmap_table_entry {
            addr: range.start,
            size: range.size,
            type_: range.kind as u32,
            reserved: 0,
        })
        .collect();
    let start_info = hvm_start_info {
        magic: XEN_HVM_START_MAGIC_VALUE,
        version: 1,
        nr_modules: u32::from(initrd.is_some()),
        modlist_paddr: layout::PVH_MODLIST_ADDR,
        cmdline_paddr: layout::CMDLINE_ADDR,
        rsdp_paddr: AcpiTables::RSDP_ADDR,
        memmap_paddr: layout::PVH_MEMMAP_ADDR,
        memmap_entries: map.len() as u32,
        ..Default::default()
    };
    let mut boot = BootParams::new(&start_info, GuestAddress(layout::PVH_INFO_ADDR));
    boot.set_sections(&map, GuestAddress(layout::PVH_MEMMAP_ADDR));
    if let Some(initrd) = initrd {
        let module = hvm_modlist_entry {
            paddr: initrd.address,
            size: initrd.size,
            ..Default::default()
        };
        boot.set_modules(&[module], GuestAddress(layout::PVH_MODLIST_ADDR));
    }
    PvhBootConfigurator::write_bootparams(&boot, memory).map_err(|error| {
        BootError::GuestWrite {
            what: "PVH start info",
            reason: error.to_string(),
        }
    })?;

    Ok(LoadedGuest {
        entry: EntryPoint::Pvh {
            rip: entry.0,
            start_info: layout::PVH_INFO_ADDR,
        },
    })
}

/// Copies the initrd to the highest page-aligned spot below `ceiling` and the end of low RAM,
/// above the kernel: where Linux expects it and where it is least likely to be overwritten.
fn load_initrd(
    memory: &GuestMemory,
    inputs: &BootInputs<'_>,
    kernel_end: u64,
    ceiling: u64,
) -> Result<Option<InitrdPlacement>, BootError> {
    let Some(path) = inputs.initrd else {
        return Ok(None);
    };
    let read_error = |source| BootError::Read {
        what: "initrd",
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    let top = ceiling.min(layout::low_ram_end(inputs.memory_bytes));
    let address = top
        .checked_sub(size)
        .map(|address| address & !(PAGE_SIZE - 1))
        .filter(|&address| address >= kernel_end.max(layout::HIMEM_START))
        .ok_or_else(|| BootError::InitrdTooLarge {
            path: path.to_owned(),
            size,
        })?;
    memory
        .read_exact_volatile_from(GuestAddress(address), &mut file, size as usize)
        .map_err(|error| BootError::Read {
            what: "initrd",
            path: path.to_owned(),
            source: std::io::Error::other(error.to_string()),
        })?;
    Ok(Some(InitrdPlacement { address, size }))
}

fn write(
    memory: &GuestMemory,
    what: &'static str,
    address: u64,
    bytes: &[u8],
) -> Result<(), BootError> {
    memory
        .write_slice(bytes, GuestAddress(address))
        .map_err(|error| BootError::GuestWrite {
            what,
            reason: error.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(mib: u64) -> GuestMemory {
        crate::memory::map_guest_memory(mib).expect("map guest memory")
    }

    fn initrd_file(name: &str, size: usize) -> PathBuf {
        let path = std::env::temp_dir().join(format!("pvm-sysvm-{name}-{}", std::process::id()));
        std::fs::write(&path, vec![0xa5u8; size]).expect("write initrd");
        path
    }

    fn inputs<'a>(initrd: &'a Path, memory_mib: u64) -> BootInputs<'a> {
        BootInputs {
            kernel: Path::new("unused"),
            initrd: Some(initrd),
            cmdline: "",
            memory_bytes: memory_mib << 20,
        }
    }

    #[test]
    fn initrd_goes_to_the_top_of_ram_page_aligned() {
        let path = initrd_file("top", 5000);
        let memory = memory(32);
        let placed = load_initrd(&memory, &inputs(&path, 32), 0x20_0000, u64::MAX)
            .expect("load")
            .expect("placed");
        assert_eq!(placed.size, 5000);
        assert_eq!(placed.address % PAGE_SIZE, 0);
        assert!(placed.address + placed.size <= 32 << 20);
        assert!(placed.address + placed.size + PAGE_SIZE > 32 << 20);
        let mut first = [0u8; 1];
        memory
            .read_slice(&mut first, GuestAddress(placed.address))
            .expect("read back");
        assert_eq!(first[0], 0xa5);
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn initrd_respects_the_kernel_ceiling() {
        let path = initrd_file("ceiling", 100);
        let placed = load_initrd(&memory(64), &inputs(&path, 64), 0x20_0000, 0x100_0000)
            .expect("load")
            .expect("placed");
        assert!(placed.address + placed.size <= 0x100_0000);
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn initrd_that_overlaps_the_kernel_is_refused() {
        let path = initrd_file("big", 15 << 20);
        let result = load_initrd(&memory(16), &inputs(&path, 16), 0x20_0000, u64::MAX);
        assert!(matches!(result, Err(BootError::InitrdTooLarge { .. })));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn empty_cmdline_is_allowed_and_long_one_refused() {
        assert!(build_cmdline("").is_ok());
        assert!(build_cmdline(&"x".repeat(layout::CMDLINE_MAX + 1)).is_err());
    }
}
