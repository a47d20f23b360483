/* Entry points of the test guests, and the switch to long mode they share.
 *
 * - pvh_start: PVH entry (32-bit protected mode, paging off, ebx = hvm_start_info), named
 *   by the XEN_ELFNOTE_PHYS32_ENTRY note.
 * - linux64_start: 64-bit Linux boot protocol entry (long mode, rsi = boot_params), placed
 *   at image offset 0x200 by guest.ld; switches to the guest's own page tables so the APs
 *   can share them.
 *
 * The page tables identity-map 4 GiB with 2 MiB pages and are assembled as initialised
 * data rather than built by a loop at boot: this host's KVM emulates guest kernel code at
 * thousands of cycles per instruction, and a 2048-iteration loop cost ~15 ms of boot time.
 * - trampoline_start..trampoline_end: real-mode code an AP runs after SIPI; the smp guest
 *   copies it to TRAMPOLINE_BASE. Everything in it is addressed relative to that base.
 *
 * All paths end in guest_entry(kind, info) or ap_entry() in C. */

#define TRAMPOLINE_BASE 0x10000
#define KIND_PVH 1
#define KIND_LINUX 2
#define KIND_AP 3
#define STACK_SIZE 16384
#define AP_STACK_SIZE 8192
#define MAX_CPUS 32

    .section .note.Xen, "a", @note
    .balign 4
    .long 4                     /* name size */
    .long 4                     /* descriptor size */
    .long 18                    /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start
    .balign 4

    .section .text
    .code32
    .globl pvh_start
pvh_start:
    cli
    movl %ebx, %esi
    movl $KIND_PVH, %ebp

    /* Shared by the PVH boot CPU and the APs: ebp = kind, esi = boot info. */
enter_long_mode32:
    movl $pml4, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $0x20, %eax             /* PAE */
    movl %eax, %cr4
    movl $0xc0000080, %ecx      /* EFER */
    rdmsr
    orl $0x100, %eax            /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax       /* PG | PE */
    movl %eax, %cr0
    lgdt gdt64_pointer32
    ljmp $0x08, $long_mode64

    .code64
long_mode64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    cmpl $KIND_AP, %ebp
    je ap_start64
    movq $boot_stack + STACK_SIZE, %rsp
    movl %ebp, %edi
    movl %esi, %esi             /* zero-extend the 32-bit info pointer */
    call guest_entry
halt:
    cli
    hlt
    jmp halt

ap_start64:
    movl $1, %eax
    lock xaddl %eax, ap_stack_index
    andl $(MAX_CPUS - 1), %eax
    incl %eax
    imull $AP_STACK_SIZE, %eax
    leaq ap_stacks(%rip), %rsp
    addq %rax, %rsp
    call ap_entry
    jmp halt

    .section .head64, "ax"
    .code64
    .globl linux64_start
linux64_start:
    cli
    movq %rsi, %r12
    leaq pml4(%rip), %rax
    movq %rax, %cr3
    lgdt gdt64_pointer64(%rip)
    pushq $0x08
    leaq 3f(%rip), %rax
    pushq %rax
    lretq
3:  movl $KIND_LINUX, %ebp
    movq %r12, %rsi
    jmp long_mode64

    /* Real-mode AP entry, copied to TRAMPOLINE_BASE (SIPI vector TRAMPOLINE_BASE >> 12). */
    .section .rodata
    .code16
    .globl trampoline_start, trampoline_end
trampoline_start:
    cli
    movw %cs, %ax
    movw %ax, %ds
    lgdtl (trampoline_gdt_pointer - trampoline_start)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $(TRAMPOLINE_BASE + trampoline_32 - trampoline_start)
    .code32
trampoline_32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $KIND_AP, %ebp
    xorl %esi, %esi
    movl $enter_long_mode32, %eax
    jmp *%eax
    .balign 8
trampoline_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff    /* 32-bit flat code */
    .quad 0x00cf92000000ffff    /* flat data */
trampoline_gdt_pointer:
    .word 23
    .long TRAMPOLINE_BASE + trampoline_gdt - trampoline_start
trampoline_end:

    .section .data
    .balign 8
gdt64:
    .quad 0
    .quad 0x00af9a000000ffff    /* 64-bit code */
    .quad 0x00cf92000000ffff    /* flat data */
gdt64_pointer32:
    .word 23
    .long gdt64
gdt64_pointer64:
    .word 23
    .quad gdt64
ap_stack_index:
    .long 0

    .balign 4096
pml4:
    .quad pdpt + 3
    .fill 511, 8, 0
pdpt:
    .quad pd + 3, pd + 0x1000 + 3, pd + 0x2000 + 3, pd + 0x3000 + 3
    .fill 508, 8, 0
pd:
    .set page, 0
    .rept 2048
    .quad (page << 21) | 0x83
    .set page, page + 1
    .endr

    .section .bss
    .balign 4096
boot_stack: .skip STACK_SIZE
ap_stacks: .skip (MAX_CPUS + 1) * AP_STACK_SIZE

    .section .note.GNU-stack, "", @progbits
