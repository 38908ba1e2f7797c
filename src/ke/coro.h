/* SPDX-License-Identifier: MIT */
/* Stackful coroutines: the host stacks kernel contexts run on.  Internal. */
#ifndef KSL_CORO_H
#define KSL_CORO_H

#include <stddef.h>
#include <stdint.h>

#if !defined(__x86_64__) || defined(KSL_CORO_UCONTEXT)
#define KSL_CORO_USE_UCONTEXT 1
#include <ucontext.h>
#endif

typedef void ksl_coro_fn(void *arg);

typedef struct ksl_coro {
    void *sp;               /* saved stack pointer (assembly switch) */
    void *stack;            /* mapping, NULL for a host stack */
    size_t stack_size;      /* usable bytes above the guard page */
    ksl_coro_fn *fn;
    void *arg;
    void *asan_fake;        /* AddressSanitizer fake-stack handle while switched out */
    const void *asan_bottom; /* stack bounds as AddressSanitizer sees them */
    size_t asan_size;
    void *tsan_fiber;       /* ThreadSanitizer fiber */
    int tsan_owned;
#ifdef KSL_CORO_USE_UCONTEXT
    ucontext_t uc;
#endif
} ksl_coro;

/* Make `c` stand for the calling host thread's own stack. */
void ksl__coro_init_host(ksl_coro *c);
/* Make a coroutine that will run fn(arg) on a fresh stack; -1 when memory is short. */
int ksl__coro_init(ksl_coro *c, size_t stack_size, ksl_coro_fn *fn, void *arg);
/* Save the running coroutine into `from` and continue `to`. */
void ksl__coro_switch(ksl_coro *from, ksl_coro *to);
/* Like ksl__coro_switch, for a coroutine that will never be resumed again. */
void ksl__coro_switch_last(ksl_coro *from, ksl_coro *to);
/* Release the stack (not for the running coroutine). */
void ksl__coro_free(ksl_coro *c);

#endif
