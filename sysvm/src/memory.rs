//! Guest RAM: anonymous `MAP_NORESERVE` mappings from vm-memory, registered as KVM memory slots.
//!
//! vm-memory's `GuestMemoryMmap::from_ranges` maps anonymous memory with
//! `MAP_PRIVATE | MAP_NORESERVE`, so a guest's untouched pages cost the host neither RSS nor
//! commit charge: a 2 GiB guest that touches 8 MiB stays small (see the thin-provisioning test).

use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::VmFd;
use vm_memory::{GuestAddress, GuestMemoryBackend, GuestMemoryRegion};

use crate::layout::ram_regions;

/// The guest's RAM as the launcher sees it.
pub type GuestMemory = vm_memory::GuestMemoryMmap<()>;

/// Why guest RAM could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// mmap of the guest's RAM failed (address space or overcommit limits).
    #[error("cannot map {mib} MiB of guest memory: {source}")]
    Map {
        mib: u64,
        source: vm_memory::mmap::FromRangesError,
    },
    /// KVM refused a memory slot.
    #[error("KVM_SET_USER_MEMORY_REGION for slot {slot}: {source}")]
    RegisterSlot {
        slot: u32,
        source: kvm_ioctls::Error,
    },
}

/// Maps `memory_mib` MiB of guest RAM around the MMIO gap (host memory only; see
/// [`register_guest_memory`] for telling KVM).
pub fn map_guest_memory(memory_mib: u64) -> Result<GuestMemory, MemoryError> {
    let ranges: Vec<(GuestAddress, usize)> = ram_regions(memory_mib << 20)
        .into_iter()
        .map(|(start, size)| (GuestAddress(start), size as usize))
        .collect();
    GuestMemory::from_ranges(&ranges).map_err(|source| MemoryError::Map {
        mib: memory_mib,
        source,
    })
}

/// Hands each region of `memory` to KVM as one memory slot.
pub fn register_guest_memory(vm: &VmFd, memory: &GuestMemory) -> Result<(), MemoryError> {
    for (slot, region) in memory.iter().enumerate() {
        let slot = slot as u32;
        let slot_description = kvm_userspace_memory_region {
            slot,
            flags: 0,
            guest_phys_addr: region.start_addr().0,
            memory_size: region.len(),
            userspace_addr: region.as_ptr() as u64,
        };
        // SAFETY: the slot describes a live mapping owned by `memory`, which the caller keeps
        // for as long as the VM can run (launch drops it only after every vCPU has stopped,
        // and leaks it otherwise). Slots do not overlap: ram_regions returns disjoint ranges.
        unsafe { vm.set_user_memory_region(slot_description) }
            .map_err(|source| MemoryError::RegisterSlot { slot, source })?;
    }
    Ok(())
}
