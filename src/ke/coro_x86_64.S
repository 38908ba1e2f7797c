/* SPDX-License-Identifier: MIT */
/* Context switch for x86-64 System V: saves callee-saved registers, MXCSR and the x87 control
 * word on the old stack, stores its stack pointer, loads the new one and restores the same set.
 *
 *   void ksl__coro_swap(void **save_sp, void *load_sp);
 *   ksl__coro_boot: first frame of a new coroutine; %r12 = entry, %r13 = argument.
 */
#if defined(__x86_64__) && !defined(KSL_CORO_UCONTEXT)
    .text
    .globl ksl__coro_swap
    .type ksl__coro_swap, @function
    .p2align 4
ksl__coro_swap:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size ksl__coro_swap, .-ksl__coro_swap

    .globl ksl__coro_boot
    .type ksl__coro_boot, @function
    .p2align 4
ksl__coro_boot:
    .cfi_startproc
    .cfi_undefined rip
    movq %r13, %rdi
    callq *%r12
    ud2
    .cfi_endproc
    .size ksl__coro_boot, .-ksl__coro_boot
#endif
    .section .note.GNU-stack,"",@progbits
