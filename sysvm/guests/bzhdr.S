/* The 1 KiB real-mode part of a bzImage: only the setup header that a 64-bit boot loader
 * reads (boot protocol 2.15). There is no real-mode code; the launcher enters the image
 * at code32_start + 0x200 in long mode. Offsets are those of Documentation/arch/x86/boot.rst. */
    .code16
    .section .text
    .globl bzimage_setup
bzimage_setup:
    .org 0x1f1
    .byte 1                 /* setup_sects: 1 + boot sector = 1 KiB of setup */
    .word 0                 /* root_flags */
    .long 0                 /* syssize: unused by 64-bit loaders */
    .word 0                 /* ram_size */
    .word 0xffff            /* vid_mode: normal */
    .word 0                 /* root_dev */
    .word 0xaa55            /* boot_flag */
    .byte 0xeb, 0x66        /* jump over the header */
    .ascii "HdrS"           /* header magic */
    .word 0x020f            /* protocol version 2.15 */
    .long 0                 /* realmode_swtch */
    .word 0                 /* start_sys_seg */
    .word 0                 /* kernel_version */
    .byte 0                 /* type_of_loader, set by the loader */
    .byte 1                 /* loadflags: LOADED_HIGH */
    .word 0                 /* setup_move_size */
    .long 0x100000          /* code32_start */
    .long 0                 /* ramdisk_image */
    .long 0                 /* ramdisk_size */
    .long 0                 /* bootsect_kludge */
    .word 0                 /* heap_end_ptr */
    .byte 0                 /* ext_loader_ver */
    .byte 0                 /* ext_loader_type */
    .long 0                 /* cmd_line_ptr */
    .long 0x7fffffff        /* initrd_addr_max */
    .long 0x200000          /* kernel_alignment */
    .byte 0                 /* relocatable_kernel */
    .byte 0                 /* min_alignment */
    .word 1                 /* xloadflags: XLF_KERNEL_64, entry at +0x200 */
    .long 2047              /* cmdline_size */
    .org 0x400
    .section .note.GNU-stack, "", @progbits
