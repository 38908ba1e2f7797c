/* SPDX-License-Identifier: MIT */
/*
 * Paged pool that faults when touched at DISPATCH_LEVEL or above, as Driver Verifier's IRQL
 * checking makes it fault on Windows (K.paged-touch-at-raised-irql).
 *
 * Deterministic engine: paged blocks live in an arena of whole pages that this file keeps
 * inaccessible (PROT_NONE) while the context that runs (ksl__cur; one at a time on the engine's
 * host thread) is at DISPATCH_LEVEL or above, and accessible otherwise; ksl__paged_sync follows
 * every IRQL change and every switch of the running context.  A touch while protected faults: the
 * SIGSEGV handler (installed once per process while any deterministic run is under way, on the
 * alternate stack where the thread has one; any other fault goes to the handler it replaced)
 * notes the address, the faulting instruction, the context and its last call site, opens the
 * arena and returns, so the touch completes; the context's next scheduling point, the end of its
 * routine or the end of the run records the finding (the run goes on).  Each host thread runs at
 * most one deterministic run at a time: the handler finds it through a thread-local pointer.
 * The arena is never reused within a run (a freed block's pages stay mapped, released to the
 * kernel), so a touch of a freed paged block at raised IRQL is still seen.
 *
 * Threaded engine: several host threads run contexts at different IRQLs at once and page
 * protection is per process, so paged blocks are ordinary memory there; frees and PAGED_CODE()
 * are still checked (pool.c, irql.c).
 */
#define _GNU_SOURCE /* MAP_NORESERVE, dladdr */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ke_internal.h"

#define ARENA_BYTES (64u << 20) /* address space reserved per run; paged pool beyond it fails */

static _Thread_local ksl_engine *t_engine; /* the deterministic run of this host thread */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned g_runs;        /* runs under way with the handler installed (under g_mu) */
static struct sigaction g_prev; /* what the handler replaced */

static size_t page_size(void)
{
    static size_t ps;
    if (!ps) {
        long v = sysconf(_SC_PAGESIZE);
        ps = v > 0 ? (size_t)v : 4096u;
    }
    return ps;
}

static void protect(ksl_engine *e, bool on)
{
    if (e->paged_used)
        mprotect(e->paged_arena, e->paged_used, on ? PROT_NONE : PROT_READ | PROT_WRITE);
    e->paged_protected = on;
}

/* Any other SIGSEGV: what the replaced handler would have done. */
static void chain(int signo, siginfo_t *si, void *uc)
{
    if (g_prev.sa_flags & SA_SIGINFO) {
        g_prev.sa_sigaction(signo, si, uc);
    } else if (g_prev.sa_handler != SIG_DFL && g_prev.sa_handler != SIG_IGN) {
        g_prev.sa_handler(signo);
    } else { /* the default: die of it when the instruction faults again (or now, if sent) */
        signal(signo, SIG_DFL);
        if (si && si->si_code <= 0)
            raise(signo);
    }
}

static void on_segv(int signo, siginfo_t *si, void *uc)
{
    ksl_engine *e = t_engine;
    uint8_t *a = si && si->si_code > 0 ? (uint8_t *)si->si_addr : NULL; /* a fault, not a kill */
    if (e && a && e->paged_protected && a >= e->paged_arena && a < e->paged_arena + e->paged_used) {
        protect(e, false); /* the touch completes; the next sync protects again */
        if (!e->paged_fault) { /* what touched it, and where it was: reported at the next point */
            ksl_cpu *c = ksl__cur;
            e->paged_fault = true;
            e->paged_fault_addr = (uintptr_t)a;
            e->paged_fault_pc = 0;
#if defined(__x86_64__)
            e->paged_fault_pc = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
#endif
            e->paged_fault_irql = c ? c->irql : 0;
            ksl__describe(c, e->paged_fault_ctx, sizeof e->paged_fault_ctx);
            ksl__watch_site(&e->paged_fault_file, &e->paged_fault_line);
        }
        return;
    }
    chain(signo, si, uc);
}

void *ksl__paged_alloc(ksl_engine *e, size_t size)
{
    if (ksl__threaded(e))
        return NULL;
    if (!e->paged_arena) {
        void *m = mmap(NULL, ARENA_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        e->paged_arena = m;
        e->paged_protected = false; /* open; ksl__paged_sync closes it at raised IRQL in a run */
    }
    size_t ps = page_size();
    size_t bytes = ((size ? size : 1) + ps - 1) / ps * ps;
    if (bytes > ARENA_BYTES - e->paged_used)
        return NULL;
    uint8_t *p = e->paged_arena + e->paged_used;
    e->paged_used += bytes;
    /* The new pages take the arena's current state. */
    mprotect(p, bytes, e->paged_protected ? PROT_NONE : PROT_READ | PROT_WRITE);
    return p;
}

bool ksl__paged_owns(const ksl_engine *e, const void *p)
{
    const uint8_t *b = p;
    return e->paged_arena && b >= e->paged_arena && b < e->paged_arena + e->paged_used;
}

void ksl__paged_release(ksl_engine *e, void *p, size_t size)
{
    size_t ps = page_size();
    size_t bytes = ((size ? size : 1) + ps - 1) / ps * ps;
    madvise(p, bytes, MADV_DONTNEED); /* back to zero pages; the range stays the arena's */
    (void)e;
}

void ksl__paged_sync(ksl_engine *e)
{
    if (!e->paged_used || !e->in_run || ksl__threaded(e))
        return;
    ksl_cpu *c = ksl__cur;
    bool want = c && c->e == e && c->irql >= KSL_IRQL_DISPATCH;
    if (want != e->paged_protected)
        protect(e, want);
}

void ksl__paged_run(ksl_engine *e, bool begin)
{
    pthread_mutex_lock(&g_mu);
    if (begin) {
        t_engine = e;
        if (g_runs++ == 0) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_sigaction = on_segv;
            sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
            sigemptyset(&sa.sa_mask);
            if (sigaction(SIGSEGV, &sa, &g_prev) != 0)
                g_runs = 0; /* not installed: paged touches go unseen */
        }
    } else {
        t_engine = NULL;
        if (g_runs && --g_runs == 0)
            sigaction(SIGSEGV, &g_prev, NULL);
        if (e->paged_used)
            protect(e, false); /* host code after the run may read what the driver left */
    }
    pthread_mutex_unlock(&g_mu);
}

void ksl__paged_free_arena(ksl_engine *e)
{
    if (e->paged_arena)
        munmap(e->paged_arena, ARENA_BYTES);
    e->paged_arena = NULL;
    e->paged_used = 0;
}

void ksl__paged_report(ksl_cpu *c)
{
    ksl_engine *e = c ? c->e : ksl__eng;
    if (!e || !e->paged_fault)
        return;
    e->paged_fault = false;
    char where[320] = "";
    Dl_info di;
    if (e->paged_fault_pc && dladdr((void *)e->paged_fault_pc, &di) && di.dli_fname) {
        const char *mod = strrchr(di.dli_fname, '/');
        int k = snprintf(where, sizeof where, " by the code at %s+0x%lx", mod ? mod + 1 : di.dli_fname,
                         (unsigned long)(e->paged_fault_pc - (uintptr_t)di.dli_fbase));
        if (k > 0 && (size_t)k < sizeof where && di.dli_sname)
            snprintf(where + k, sizeof where - (size_t)k, " (%s)", di.dli_sname);
    }
    char block[200] = "";
    ksl__pool_describe(e, e->paged_fault_addr, block, sizeof block);
    char ib[16];
    ksl__note(c, "K.paged-touch-at-raised-irql", e->paged_fault_file, e->paged_fault_line,
              "%s touched paged pool%s at %s%s, after its call at this line: paged memory may be touched only at "
              "APC_LEVEL or below (a page fault above is bug check 0xD1); keep what raised-IRQL code reads in "
              "nonpaged pool",
              e->paged_fault_ctx, block, ksl_irql_name(e->paged_fault_irql, ib, sizeof ib), where);
}
