/* SPDX-License-Identifier: MIT */
/*
 * IRQL, activation frames and the accounting of time spent at raised IRQL; the calls that only
 * move time (stall) or touch memory atomically (interlocked operations).
 */
#include <stdio.h>
#include <string.h>

#include "ke_internal.h"

_Thread_local ksl_cpu *ksl__cur;
_Thread_local ksl_engine *ksl__eng;
_Thread_local int ksl__in_device;

void ksl__activation(ksl_cpu *c, const char *kind, const char *name, uint8_t irql, uint64_t cost)
{
    ksl_engine *e = c->e;
    if (irql >= KSL_IRQL_DEVICE_MIN && cost > c->st.max_dirql_ns)
        c->st.max_dirql_ns = cost;
    if (cost > c->st.max_raised_ns)
        c->st.max_raised_ns = cost;
    if (e->act_hook) {
        ksl_activation a = {kind, name, c->index, irql, cost};
        e->act_hook(e->act_user, &a);
    }
}

void ksl__set_irql(ksl_cpu *c, uint8_t irql)
{
    uint8_t old = c->irql;
    if (c->nframes == 1) {
        if (old < KSL_IRQL_DISPATCH && irql >= KSL_IRQL_DISPATCH)
            c->raised_since = c->work;
        else if (old >= KSL_IRQL_DISPATCH && irql < KSL_IRQL_DISPATCH && c->raised_since != UINT64_MAX) {
            ksl__activation(c, "raised", c->frames[0].name, old, c->work - c->raised_since);
            c->raised_since = UINT64_MAX;
        }
    }
    c->irql = irql;
    if (c == ksl__cur)
        ksl__paged_sync(c->e);
}

void ksl__frame_push(ksl_cpu *c, uint8_t kind, uint32_t id, const char *name)
{
    if (c->nframes >= KSL_MAX_FRAMES)
        ksl__fail(c, "K.hang", NULL, 0, "activations nested more than %d deep (interrupt storm?)", KSL_MAX_FRAMES);
    ksl__step_hook(c, NULL, 0); /* what ran so far belongs to the interrupted context */
    uint32_t serial = ksl__threaded(c->e) ? 0 : ++c->e->next_serial; /* spans: deterministic engine only */
    c->frames[c->nframes++] = (ksl_frame){.kind = kind, .irql_at_entry = c->irql, .locks_at_entry = (uint16_t)c->nheld,
                                          .id = id, .name = name, .work_at_entry = c->work, .serial = serial};
    ksl__trace_slice(c, 'B', &c->frames[c->nframes - 1]);
}

void ksl__frame_pop(ksl_cpu *c, const char *what)
{
    ksl_frame *f = &c->frames[c->nframes - 1];
    ksl__step_hook(c, NULL, 0); /* what ran since belongs to this activation */
    if (c->nheld > f->locks_at_entry) {
        ksl_spinlock *l = c->held[c->nheld - 1];
        ksl__fail(c, "K.lock-held-on-return", l->acq_file, l->acq_line,
                  "%s returned still holding spin lock '%s' (acquired at %s:%d)", what, l->name ? l->name : "?",
                  l->acq_file ? l->acq_file : "?", l->acq_line);
    }
    const char *kind = f->kind == FR_ISR ? "ISR" : f->kind == FR_DPC ? "DPC" : "work item";
    ksl__activation(c, kind, f->name, c->irql, c->work - f->work_at_entry);
    if (c->e->paged_fault)
        ksl__paged_report(c); /* a touch since the routine's last scheduling point is its own */
    ksl__trace_slice(c, 'E', f);
    ksl__spans_end(c, false);
    c->nframes--;
    if (!ksl__threaded(c->e))
        ksl__watch_at(ksl__top_frame(c), true, NULL, 0); /* the routine below resumes */
}

void ksl__require_irql(ksl_cpu *c, uint8_t max, const char *call, const char *file, int line)
{
    if (!c || c->irql <= max)
        return;
    char ib[16], mb[16];
    ksl_engine *e = c->e;
    if (e->irql_refiner) {
        const char *rule = NULL;
        char msg[256];
        if (e->irql_refiner(e->irql_refiner_user, call, max, &rule, msg, sizeof msg) && rule)
            ksl__fail(c, rule, file, line, "%s", msg);
    }
    if (max == KSL_IRQL_PASSIVE)
        ksl__fail(c, "K.passive-only-at-raised-irql", file, line, "%s may only be called at PASSIVE_LEVEL", call);
    else
        ksl__fail(c, "K.irql-too-high", file, line, "%s called at %s; it requires IRQL <= %s", call,
                  ksl_irql_name(c->irql, ib, sizeof ib), ksl_irql_name(max, mb, sizeof mb));
}

void ksl_engine_set_irql_refiner(ksl_engine *e, ksl_irql_refiner *fn, void *user)
{
    e->irql_refiner = fn;
    e->irql_refiner_user = user;
}

void ksl_require_irql(uint8_t max, const char *call, const char *file, int line)
{
    ksl__require_irql(ksl__cur, max, call, file, line);
}

void ksl_paged_code(const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c || c->irql <= KSL_IRQL_APC)
        return;
    char ib[16];
    ksl__note(c, "K.paged-code-at-raised-irql", file, line,
              "PAGED_CODE() reached at %s: pageable code runs at APC_LEVEL or below (a page fault above it is "
              "bug check 0xD1); move the function to a non-paged section or call it at PASSIVE_LEVEL",
              ksl_irql_name(c->irql, ib, sizeof ib));
}

uint8_t ksl_irql_current(void)
{
    return ksl__cur ? ksl__cur->irql : KSL_IRQL_PASSIVE;
}

uint32_t ksl_cpu_current(void)
{
    return ksl__cur ? ksl__cur->index : 0;
}

uint32_t ksl_cpu_count(void)
{
    ksl_engine *e = ksl__cur ? ksl__cur->e : ksl__eng;
    return e ? e->ncpus : 1;
}

void ksl_irql_raise(uint8_t new_irql, uint8_t *old_irql, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c) {
        *old_irql = KSL_IRQL_PASSIVE;
        return;
    }
    char a[16], b[16];
    if (new_irql < c->irql)
        ksl__fail(c, "K.irql-raise-to-lower", file, line, "KeRaiseIrql to %s, below the current %s",
                  ksl_irql_name(new_irql, a, sizeof a), ksl_irql_name(c->irql, b, sizeof b));
    *old_irql = c->irql;
    ksl__set_irql(c, new_irql);
    c = ksl__point(c, P_IRQL_RAISE, c->e->cfg.step_cost_ns, file, line);
}

void ksl_irql_lower(uint8_t new_irql, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return;
    char a[16], b[16];
    if (new_irql > c->irql)
        ksl__fail(c, "K.irql-lower-to-higher", file, line, "KeLowerIrql to %s, above the current %s",
                  ksl_irql_name(new_irql, a, sizeof a), ksl_irql_name(c->irql, b, sizeof b));
    ksl__set_irql(c, new_irql);
    c = ksl__point(c, P_IRQL_LOWER, c->e->cfg.step_cost_ns, file, line);
}

uint64_t ksl_time_now(void)
{
    if (ksl__cur)
        return ksl__cur->clock;
    return ksl__eng ? ksl__eng->now : 0;
}

uint64_t ksl_cpu_work_now(void)
{
    return ksl__cur ? ksl__cur->work : 0;
}

void ksl_stall(uint32_t us, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (c)
        c = ksl__point(c, P_STALL, (uint64_t)us * 1000u + c->e->cfg.step_cost_ns, file, line);
}

/* An Interlocked operation: a scheduling point, then the atomic access, told to the atomic hook
 * (deterministic engine) on the context that made it. */
static void interlocked_point(const char *file, int line)
{
    if (ksl__cur)
        ksl__point(ksl__cur, P_INTERLOCKED, ksl__cur->e->cfg.step_cost_ns, file, line);
}

static void interlocked_done(const volatile void *target, size_t size, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    if (c && c->e->atomic_hook && !ksl__threaded(c->e))
        c->e->atomic_hook(c->e->atomic_user, target, size, file, line);
}

int32_t ksl_interlocked_add(volatile int32_t *target, int32_t value, const char *file, int line)
{
    interlocked_point(file, line);
    int32_t r = __atomic_add_fetch(target, value, __ATOMIC_SEQ_CST);
    interlocked_done(target, sizeof *target, file, line);
    return r;
}

int32_t ksl_interlocked_exchange(volatile int32_t *target, int32_t value, const char *file, int line)
{
    interlocked_point(file, line);
    int32_t r = __atomic_exchange_n(target, value, __ATOMIC_SEQ_CST);
    interlocked_done(target, sizeof *target, file, line);
    return r;
}

int32_t ksl_interlocked_cmpxchg(volatile int32_t *target, int32_t exchange, int32_t comparand, const char *file, int line)
{
    interlocked_point(file, line);
    __atomic_compare_exchange_n(target, &comparand, exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    interlocked_done(target, sizeof *target, file, line);
    return comparand;
}

void *ksl_interlocked_exchange_ptr(void *volatile *target, void *value, const char *file, int line)
{
    interlocked_point(file, line);
    void *r = __atomic_exchange_n(target, value, __ATOMIC_SEQ_CST);
    interlocked_done(target, sizeof *target, file, line);
    return r;
}
