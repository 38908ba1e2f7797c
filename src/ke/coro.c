/* SPDX-License-Identifier: MIT */
/*
 * Stackful coroutines.  On x86-64 the switch is ksl__coro_swap (coro_x86_64.S); elsewhere, or
 * with KSL_CORO_UCONTEXT, POSIX ucontext.  Stacks are mmap'd with a guard page below them.
 * Switches are annotated for AddressSanitizer and ThreadSanitizer so both follow the stacks.
 */
#define _DEFAULT_SOURCE
#include "coro.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KSL_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define KSL_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define KSL_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define KSL_TSAN 1
#endif

#ifdef KSL_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif
#ifdef KSL_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

#ifndef KSL_CORO_USE_UCONTEXT
void ksl__coro_swap(void **save_sp, void *load_sp);
void ksl__coro_boot(void);
#endif

/* Host stacks of the coroutines that switched last, for the sanitizer bookkeeping. */
static _Thread_local ksl_coro *coro_from;

/* Finish a switch on the arriving side; learn the host stack's bounds the first time. */
static void after_switch(void *fake)
{
#ifdef KSL_ASAN
    const void *bottom = NULL;
    size_t size = 0;
    __sanitizer_finish_switch_fiber(fake, &bottom, &size);
    if (coro_from && !coro_from->stack && !coro_from->asan_bottom) {
        coro_from->asan_bottom = bottom;
        coro_from->asan_size = size;
    }
#endif
    (void)fake;
}

static void coro_entry(void *arg)
{
    ksl_coro *self = arg;
    after_switch(NULL);
    self->fn(self->arg);
    abort(); /* a coroutine never returns; it switches away for the last time */
}

#ifdef KSL_CORO_USE_UCONTEXT
static void uc_entry(unsigned lo, unsigned hi)
{
    uintptr_t p = ((uintptr_t)hi << 32) | (uintptr_t)lo;
    coro_entry((void *)p);
}
#endif

void ksl__coro_init_host(ksl_coro *c)
{
    memset(c, 0, sizeof *c);
#ifdef KSL_TSAN
    c->tsan_fiber = __tsan_get_current_fiber();
#endif
}

int ksl__coro_init(ksl_coro *c, size_t stack_size, ksl_coro_fn *fn, void *arg)
{
    memset(c, 0, sizeof *c);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    stack_size = (stack_size + page - 1) & ~(page - 1);
    void *m = mmap(NULL, stack_size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    if (mprotect(m, page, PROT_NONE) != 0) {
        munmap(m, stack_size + page);
        return -1;
    }
#ifdef KSL_ASAN
    /* A recycled mapping keeps the shadow of the stack that lived there before. */
    __asan_unpoison_memory_region((uint8_t *)m + page, stack_size);
#endif
    c->stack = m;
    c->stack_size = stack_size;
    c->asan_bottom = (uint8_t *)m + page;
    c->asan_size = stack_size;
    c->fn = fn;
    c->arg = arg;
    uint8_t *lo = (uint8_t *)m + page;
#ifdef KSL_CORO_USE_UCONTEXT
    if (getcontext(&c->uc) != 0) {
        ksl__coro_free(c);
        return -1;
    }
    c->uc.uc_stack.ss_sp = lo;
    c->uc.uc_stack.ss_size = stack_size;
    c->uc.uc_link = NULL;
    uintptr_t p = (uintptr_t)c;
    makecontext(&c->uc, (void (*)(void))uc_entry, 2, (unsigned)(p & 0xffffffffu), (unsigned)(p >> 32));
#else
    /* Frame consumed by ksl__coro_swap: csr word, r15, r14, r13, r12, rbx, rbp, return address. */
    uintptr_t top = ((uintptr_t)lo + stack_size) & ~(uintptr_t)15;
    uintptr_t x = top - 16;
    uint64_t *f = (uint64_t *)(x - 64);
    f[0] = 0x0000037F00001F80ull; /* MXCSR default, x87 control word default */
    f[1] = 0;                     /* r15 */
    f[2] = 0;                     /* r14 */
    f[3] = (uint64_t)(uintptr_t)c;              /* r13: argument */
    f[4] = (uint64_t)(uintptr_t)coro_entry;     /* r12: entry */
    f[5] = 0;                     /* rbx */
    f[6] = 0;                     /* rbp */
    f[7] = (uint64_t)(uintptr_t)ksl__coro_boot;  /* return address */
    c->sp = f;
#endif
#ifdef KSL_TSAN
    c->tsan_fiber = __tsan_create_fiber(0);
    c->tsan_owned = 1;
#endif
    return 0;
}

static void do_switch(ksl_coro *from, ksl_coro *to, int last)
{
    coro_from = from;
#ifdef KSL_ASAN
    __sanitizer_start_switch_fiber(last ? NULL : &from->asan_fake, to->asan_bottom, to->asan_size);
#else
    (void)last;
#endif
#ifdef KSL_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
#ifdef KSL_CORO_USE_UCONTEXT
    swapcontext(&from->uc, &to->uc);
#else
    ksl__coro_swap(&from->sp, to->sp);
#endif
    after_switch(from->asan_fake);
}

void ksl__coro_switch(ksl_coro *from, ksl_coro *to)
{
    do_switch(from, to, 0);
}

void ksl__coro_switch_last(ksl_coro *from, ksl_coro *to)
{
    do_switch(from, to, 1);
}

void ksl__coro_free(ksl_coro *c)
{
    if (c->stack) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
#ifdef KSL_ASAN
        __asan_unpoison_memory_region((uint8_t *)c->stack + page, c->stack_size);
#endif
        munmap(c->stack, c->stack_size + page);
        c->stack = NULL;
    }
#ifdef KSL_TSAN
    if (c->tsan_owned && c->tsan_fiber)
        __tsan_destroy_fiber(c->tsan_fiber);
    c->tsan_fiber = NULL;
#endif
}
