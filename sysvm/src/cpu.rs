//! vCPU state at power-on: CPUID, MSRs, FPU, LAPIC wiring, and for the boot vCPU the
//! segments, page tables and registers that its boot protocol promises the kernel.
//!
//! Application processors get only CPUID, MSRs, FPU and LAPIC here: with the in-kernel irqchip
//! KVM holds them in wait-for-SIPI until the guest starts them with INIT/SIPI.

use kvm_bindings::{kvm_fpu, kvm_msr_entry, kvm_regs, kvm_segment, CpuId, Msrs};
use kvm_ioctls::VcpuFd;
use vm_memory::{Bytes, GuestAddress};

use crate::boot::EntryPoint;
use crate::layout;
use crate::memory::GuestMemory;

const X86_CR0_PE: u64 = 1 << 0;
const X86_CR0_ET: u64 = 1 << 4;
const X86_CR0_NE: u64 = 1 << 5;
const X86_CR0_PG: u64 = 1 << 31;
const X86_CR4_PAE: u64 = 1 << 5;
const EFER_LME: u64 = 1 << 8;
const EFER_LMA: u64 = 1 << 10;

const MSR_IA32_MISC_ENABLE: u32 = 0x1a0;
const MISC_ENABLE_FAST_STRING: u64 = 1;
/// MTRR default type: enabled, write-back. At reset it is 0 (all memory uncacheable) and
/// there is no firmware to change it, while Linux expects cacheable RAM.
const MSR_MTRR_DEF_TYPE: u32 = 0x2ff;
const MTRR_ENABLE_WRITE_BACK: u64 = (1 << 11) | 6;
const MSR_IA32_SYSENTER_CS: u32 = 0x174;
const MSR_IA32_SYSENTER_ESP: u32 = 0x175;
const MSR_IA32_SYSENTER_EIP: u32 = 0x176;
const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_CSTAR: u32 = 0xc000_0083;
const MSR_SYSCALL_MASK: u32 = 0xc000_0084;
const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;

/// LAPIC register offsets and delivery modes for wiring LINT0 to the PIC and LINT1 to NMI,
/// as a PC firmware would; without it the legacy PIC's interrupts never reach the guest.
const APIC_LVT_LINT0: usize = 0x350;
const APIC_LVT_LINT1: usize = 0x360;
const APIC_MODE_NMI: u32 = 0x4;
const APIC_MODE_EXTINT: u32 = 0x7;

/// Initial stack of the boot vCPU on the Linux path; the kernel switches stacks at once.
const BOOT_STACK_POINTER: u64 = 0x8ff0;

/// Why a vCPU could not be given its power-on state. Each names the ioctl that failed.
#[derive(Debug, thiserror::Error)]
pub enum CpuSetupError {
    #[error("vCPU {vcpu}: {ioctl}: {source}")]
    Ioctl {
        vcpu: u32,
        ioctl: &'static str,
        source: kvm_ioctls::Error,
    },
    #[error("vCPU {vcpu}: writing {what} into guest memory failed")]
    GuestWrite { vcpu: u32, what: &'static str },
}

/// Gives vCPU `index` its CPUID: the host-supported set with this vCPU's APIC id, so the
/// MADT's ids and what each CPU reads about itself agree.
///
/// FIXME: a KVM that emulates guest kernel code (this host's `kvm_pvm`) still advertises CX16
/// and XSAVE, whose instructions its emulator cannot run, so Linux stops on them. Hiding CX16
/// got Debian's kernel from memory init to FPU setup in an experiment; a config key listing
/// features to hide would lift this, at the cost of departing from the host's set.
pub fn set_cpuid(vcpu: &VcpuFd, index: u32, supported: &CpuId) -> Result<(), CpuSetupError> {
    let mut cpuid = supported.clone();
    for entry in cpuid.as_mut_slice() {
        match entry.function {
            0x1 => entry.ebx = (entry.ebx & 0x00ff_ffff) | (index << 24),
            // Extended topology leaves report the full x2APIC id in EDX.
            0xb | 0x1f => entry.edx = index,
            _ => {}
        }
    }
    vcpu.set_cpuid2(&cpuid)
        .map_err(|source| CpuSetupError::Ioctl {
            vcpu: index,
            ioctl: "KVM_SET_CPUID2",
            source,
        })
}

/// MSRs, FPU and LAPIC state every vCPU starts with.
pub fn set_common_state(vcpu: &VcpuFd, index: u32) -> Result<(), CpuSetupError> {
    let ioctl_error = |ioctl| {
        move |source| CpuSetupError::Ioctl {
            vcpu: index,
            ioctl,
            source,
        }
    };

    let entries: Vec<kvm_msr_entry> = [
        (MSR_IA32_SYSENTER_CS, 0),
        (MSR_IA32_SYSENTER_ESP, 0),
        (MSR_IA32_SYSENTER_EIP, 0),
        (MSR_STAR, 0),
        (MSR_LSTAR, 0),
        (MSR_CSTAR, 0),
        (MSR_SYSCALL_MASK, 0),
        (MSR_KERNEL_GS_BASE, 0),
        (MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING),
        (MSR_MTRR_DEF_TYPE, MTRR_ENABLE_WRITE_BACK),
    ]
    .into_iter()
    .map(|(index, data)| kvm_msr_entry {
        index,
        data,
        ..Default::default()
    })
    .collect();
    let msrs = Msrs::from_entries(&entries).map_err(|_| CpuSetupError::Ioctl {
        vcpu: index,
        ioctl: "KVM_SET_MSRS",
        source: kvm_ioctls::Error::new(libc::E2BIG),
    })?;
    let written = vcpu.set_msrs(&msrs).map_err(ioctl_error("KVM_SET_MSRS"))?;
    if written != entries.len() {
        return Err(CpuSetupError::Ioctl {
            vcpu: index,
            ioctl: "KVM_SET_MSRS",
            source: kvm_ioctls::Error::new(libc::EINVAL),
        });
    }

    let fpu = kvm_fpu {
        fcw: 0x37f,
        mxcsr: 0x1f80,
        ..Default::default()
    };
    vcpu.set_fpu(&fpu).map_err(ioctl_error("KVM_SET_FPU"))?;

    let mut lapic = vcpu.get_lapic().map_err(ioctl_error("KVM_GET_LAPIC"))?;
    set_lvt_delivery_mode(&mut lapic.regs, APIC_LVT_LINT0, APIC_MODE_EXTINT);
    set_lvt_delivery_mode(&mut lapic.regs, APIC_LVT_LINT1, APIC_MODE_NMI);
    vcpu.set_lapic(&lapic).map_err(ioctl_error("KVM_SET_LAPIC"))
}

fn set_lvt_delivery_mode(regs: &mut [std::os::raw::c_char; 1024], offset: usize, mode: u32) {
    let mut bytes = [0u8; 4];
    for (byte, reg) in bytes.iter_mut().zip(&regs[offset..offset + 4]) {
        *byte = *reg as u8;
    }
    let value = (u32::from_le_bytes(bytes) & !0x700) | (mode << 8);
    for (reg, byte) in regs[offset..offset + 4].iter_mut().zip(value.to_le_bytes()) {
        *reg = byte as std::os::raw::c_char;
    }
}

/// Puts the boot vCPU where its protocol starts: long mode with identity paging for Linux,
/// flat 32-bit protected mode for PVH.
pub fn set_boot_state(
    vcpu: &VcpuFd,
    memory: &GuestMemory,
    entry: EntryPoint,
) -> Result<(), CpuSetupError> {
    let ioctl_error = |ioctl| {
        move |source| CpuSetupError::Ioctl {
            vcpu: 0,
            ioctl,
            source,
        }
    };
    let long_mode = matches!(entry, EntryPoint::Linux64 { .. });

    let code = if long_mode {
        gdt_entry(0xa09b, 0, 0xfffff)
    } else {
        gdt_entry(0xc09b, 0, 0xfffff)
    };
    let gdt = [
        0,
        code,
        gdt_entry(0xc093, 0, 0xfffff),
        gdt_entry(0x808b, 0, 0xfffff),
    ];
    let mut gdt_bytes = Vec::with_capacity(gdt.len() * 8);
    for entry in gdt {
        gdt_bytes.extend_from_slice(&entry.to_le_bytes());
    }
    write(memory, layout::GDT_ADDR, &gdt_bytes, "GDT")?;
    write(memory, layout::IDT_ADDR, &0u64.to_le_bytes(), "IDT")?;

    let mut sregs = vcpu.get_sregs().map_err(ioctl_error("KVM_GET_SREGS"))?;
    sregs.gdt.base = layout::GDT_ADDR;
    sregs.gdt.limit = (gdt_bytes.len() - 1) as u16;
    sregs.idt.base = layout::IDT_ADDR;
    sregs.idt.limit = 7;
    let code_segment = segment(1, gdt[1]);
    let data_segment = segment(2, gdt[2]);
    sregs.cs = code_segment;
    sregs.ds = data_segment;
    sregs.es = data_segment;
    sregs.fs = data_segment;
    sregs.gs = data_segment;
    sregs.ss = data_segment;
    sregs.tr = segment(3, gdt[3]);

    let mut regs = kvm_regs {
        rflags: 0x2,
        ..Default::default()
    };
    match entry {
        EntryPoint::Linux64 { rip, zero_page } => {
            write_identity_page_tables(memory)?;
            sregs.cr3 = layout::PML4_ADDR;
            sregs.cr4 = X86_CR4_PAE;
            sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
            sregs.efer = EFER_LME | EFER_LMA;
            regs.rip = rip;
            regs.rsi = zero_page;
            regs.rsp = BOOT_STACK_POINTER;
            regs.rbp = BOOT_STACK_POINTER;
        }
        EntryPoint::Pvh { rip, start_info } => {
            sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
            sregs.cr4 = 0;
            sregs.efer = 0;
            regs.rip = rip;
            regs.rbx = start_info;
        }
    }
    vcpu.set_sregs(&sregs)
        .map_err(ioctl_error("KVM_SET_SREGS"))?;
    vcpu.set_regs(&regs).map_err(ioctl_error("KVM_SET_REGS"))
}

/// Identity-maps the first 4 GiB with 2 MiB pages, covering RAM below the MMIO gap as well as
/// the LAPIC and IOAPIC, so a 64-bit kernel can reach all of them before it builds its own.
fn write_identity_page_tables(memory: &GuestMemory) -> Result<(), CpuSetupError> {
    const PRESENT_WRITABLE: u64 = 0x3;
    const HUGE_PAGE: u64 = 0x80;
    write(
        memory,
        layout::PML4_ADDR,
        &(layout::PDPT_ADDR | PRESENT_WRITABLE).to_le_bytes(),
        "PML4",
    )?;
    let mut pdpt = Vec::with_capacity(4 * 8);
    for directory in 0..4u64 {
        let entry = (layout::PD_ADDR + directory * 0x1000) | PRESENT_WRITABLE;
        pdpt.extend_from_slice(&entry.to_le_bytes());
    }
    write(memory, layout::PDPT_ADDR, &pdpt, "PDPT")?;
    let mut directories = Vec::with_capacity(4 * 512 * 8);
    for page in 0..4 * 512u64 {
        let entry = (page << 21) | PRESENT_WRITABLE | HUGE_PAGE;
        directories.extend_from_slice(&entry.to_le_bytes());
    }
    write(memory, layout::PD_ADDR, &directories, "page directories")
}

/// Encodes a GDT descriptor from `flags` (access byte in bits 0-7, G/DB/L/AVL in 12-15).
fn gdt_entry(flags: u16, base: u32, limit: u32) -> u64 {
    let base = u64::from(base);
    let limit = u64::from(limit);
    let flags = u64::from(flags);
    ((base & 0xff00_0000) << 32)
        | ((flags & 0xf0ff) << 40)
        | ((limit & 0x000f_0000) << 32)
        | ((base & 0x00ff_ffff) << 16)
        | (limit & 0xffff)
}

/// The KVM view of GDT descriptor `index`, as the CPU would cache it after a load.
fn segment(index: u16, entry: u64) -> kvm_segment {
    let base = ((entry >> 16) & 0x00ff_ffff) | ((entry >> 32) & 0xff00_0000);
    let raw_limit = (entry & 0xffff) | ((entry >> 32) & 0x000f_0000);
    let granularity = ((entry >> 55) & 1) as u8;
    let limit = if granularity == 1 {
        (raw_limit << 12) | 0xfff
    } else {
        raw_limit
    };
    let present = ((entry >> 47) & 1) as u8;
    kvm_segment {
        base,
        limit: limit as u32,
        selector: index * 8,
        type_: ((entry >> 40) & 0xf) as u8,
        present,
        dpl: ((entry >> 45) & 0x3) as u8,
        db: ((entry >> 54) & 1) as u8,
        s: ((entry >> 44) & 1) as u8,
        l: ((entry >> 53) & 1) as u8,
        g: granularity,
        avl: ((entry >> 52) & 1) as u8,
        unusable: u8::from(present == 0),
        padding: 0,
    }
}

fn write(
    memory: &GuestMemory,
    address: u64,
    bytes: &[u8],
    what: &'static str,
) -> Result<(), CpuSetupError> {
    memory
        .write_slice(bytes, GuestAddress(address))
        .map_err(|_| CpuSetupError::GuestWrite { vcpu: 0, what })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_mode_code_segment_decodes() {
        let code = segment(1, gdt_entry(0xa09b, 0, 0xfffff));
        assert_eq!(
            (code.l, code.db, code.g, code.present, code.s),
            (1, 0, 1, 1, 1)
        );
        assert_eq!(code.type_, 0xb);
        assert_eq!(code.limit, 0xffff_ffff);
        assert_eq!(code.selector, 8);
    }

    #[test]
    fn flat_32bit_data_segment_decodes() {
        let data = segment(2, gdt_entry(0xc093, 0, 0xfffff));
        assert_eq!((data.l, data.db, data.type_, data.base), (0, 1, 0x3, 0));
        assert_eq!(data.selector, 0x10);
    }

    #[test]
    fn lvt_delivery_mode_keeps_other_bits() {
        let mut regs = [0 as std::os::raw::c_char; 1024];
        regs[APIC_LVT_LINT0 + 2] = 1; // mask bit (16)
        set_lvt_delivery_mode(&mut regs, APIC_LVT_LINT0, APIC_MODE_EXTINT);
        assert_eq!(regs[APIC_LVT_LINT0 + 1] as u8, 0x7);
        assert_eq!(regs[APIC_LVT_LINT0 + 2] as u8, 1);
    }
}
