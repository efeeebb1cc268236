/* dlsym_x86_64.S — libgpuprof.so's dlsym, as a trampoline.
 *
 * Why assembly: glibc's dlsym finds RTLD_NEXT relative to its caller's return address.
 * A C wrapper that calls the real dlsym would make every RTLD_NEXT lookup in the
 * process relative to libgpuprof.so. Here the C filter (dlsym.c) runs first and says
 * whether to hand back one of our driver wrappers; otherwise the real function is
 * entered with a tail jump, the caller's return address untouched.
 * dlvsym is left alone: versioned lookups of driver symbols are not how the CUDA
 * libraries reach the driver, and the filter needs glibc's own dlvsym to find dlsym. */
    .text
    .globl dlsym
    .type dlsym, @function
dlsym:
    .cfi_startproc
    push %rdi
    .cfi_adjust_cfa_offset 8
    push %rsi
    .cfi_adjust_cfa_offset 8
    sub $8, %rsp                      /* 16-byte alignment for the call */
    .cfi_adjust_cfa_offset 8
    call gp_dlsym_filter              /* (handle, name) -> wrapper or NULL */
    add $8, %rsp
    .cfi_adjust_cfa_offset -8
    pop %rsi
    .cfi_adjust_cfa_offset -8
    pop %rdi
    .cfi_adjust_cfa_offset -8
    test %rax, %rax
    jz 1f
    ret
1:  jmp *gp_real_dlsym(%rip)
    .cfi_endproc
    .size dlsym, .-dlsym

    .section .note.GNU-stack,"",@progbits
