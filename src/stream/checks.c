/* SPDX-License-Identifier: MIT */
/*
 * The stream class checks.  The notification-protocol errors the class detects itself
 * (S1.srb-completed-twice, S1.srb-completed-not-owned, S1.notification-bad-argument,
 * S1.ready-for-next-twice, S3.callatnewpriority-pending, S1.srb-not-completed-at-close) are
 * reported where they are found (queue.c, notify.c, priority.c, client.c).  The checks that need
 * a policy over many events build here:
 *
 *   ksl__strm_hook_entry    every minidriver routine the class ran, with the IRQL it ran at and
 *                          its cost in virtual time on its CPU (nested routines and interrupts
 *                          taken meanwhile included: what the CPU spent with the IRQL raised):
 *      - at the DIRQL (above DISPATCH_LEVEL): over dirql_budget_us -> S1.dirql-over-budget;
 *      - a Dispatch priority routine: over dispatch_callback_budget_us ->
 *        S3.dispatch-callback-over-budget;
 *      - any other routine at DISPATCH_LEVEL: over dispatch_budget_us -> S6.dispatch-over-budget;
 *      - S7a, synchronization on: the request entry points (HwReceivePacket, ReceiveDataPacket,
 *        ReceiveControlPacket) are counted; one longer than long_request_us is long.  Once at
 *        least long_request_window requests ran, more than long_request_pct % of them long is
 *        S7.sync-on-long-requests (the checked stream.sys assert), judged after every request
 *        over all requests so far.  A long request is not judged at once: its S1/S6 budget
 *        finding (if it is over the budget too) waits for the adapter to stop, and is reported
 *        then if the ratio never went over (an occasional long request at raised IRQL: S5/S6 say
 *        it belongs in a Low routine).  A request over its budget but not long is reported at
 *        once.
 *      PASSIVE_LEVEL routines (Low routines, entry points with synchronization off) have no
 *      budget.
 *   ksl__strm_ck_enter/leave  which minidriver routine runs where: a per-CPU stack of routines
 *                          at raised IRQL (nothing but nesting interrupts can take such a CPU
 *                          away), and the Low routines running by context name (worker threads
 *                          may be preempted and migrate).
 *   port watcher (S4)      ksl_port_observe over the adapter's port range, when it has an ISR:
 *                          an Eraser-style lockset reduced to the one lock that matters, the
 *                          interrupt lock.  A register counts as shared with the ISR when
 *                          HwInterrupt wrote it (e.g. the FIFO device's INT_ACK or CONTROL, the
 *                          irqdev's STATUS acknowledge).  A write to a shared register by a
 *                          Dispatch or Low priority routine (the innermost routine of the
 *                          context) that does not hold the interrupt lock is
 *                          S4.unsynchronized-isr-shared-access, whichever came first: a callback
 *                          write before the ISR ever wrote the register is remembered and
 *                          reported when the ISR writes it.  Reads are not counted (a PIO copy
 *                          reads DATA from a Dispatch routine by design, S3), nor are writes
 *                          from a High / LowToHigh routine (it holds the interrupt lock), from
 *                          the entry points, timers, or anything with synchronization off.
 *   ksl__strm_hook_srb / ksl__strm_hook_service  SRB state changes and class services called:
 *                          unused by the policies so far.
 *
 *   IRQL refiner (S7a)     with synchronization on, a service that may not run at DISPATCH_LEVEL
 *                          (PASSIVE_LEVEL only, or paged memory: APC_LEVEL) called from
 *                          any class-called routine but a Low one or HwInterrupt (they all
 *                          run at raised IRQL because of the synchronization)
 *                          is S7.passive-service-with-sync-on instead of the kernel's
 *                          K.passive-only-at-raised-irql / K.irql-too-high: the checked
 *                          stream.sys assert.
 *
 * They run outside the class's bookkeeping mutex, so they may call ksl_report.  None of these
 * breaches leaves the class's state in doubt, so each is recorded with ksl_report_continue and
 * the run goes on (the engine keeps one finding per rule and call site): a budget overrun does
 * not hide the S7 ratio the same requests reach later.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <kslab/device.h>

#include "strm.h"

/* ---- which routine runs here ----------------------------------------------------------------- */

void ksl__strm_ck_enter(ksl_stream_adapter *a, int entry, uint8_t irql)
{
    ksl__strm_ss_step(a, NULL, 0); /* what changed before belongs to the context as it was */
    if (ksl__strm_rt_push(a, entry, irql))
        ksl__strm_ss_begins(a, entry);
}

void ksl__strm_ck_leave(ksl_stream_adapter *a, int entry, uint8_t irql)
{
    ksl__strm_ss_ends(a, entry); /* what changed belongs to the routine ending */
    ksl__strm_rt_pop(a, entry, irql);
}

/* The innermost minidriver routine of the calling context, or -1.  Any IRQL. */
static int current_routine(ksl_stream_adapter *a)
{
    pthread_mutex_lock(&a->mu);
    int r = ksl__strm_rt_current_locked(a);
    pthread_mutex_unlock(&a->mu);
    return r;
}

/* ---- time at raised IRQL ------------------------------------------------------------------- */

static const char *irql_label(uint8_t irql, char *buf, size_t n)
{
    if (irql == DISPATCH_LEVEL)
        snprintf(buf, n, "DISPATCH_LEVEL");
    else
        snprintf(buf, n, "the DIRQL %u", irql);
    return buf;
}

/* The budget (ns) of `entry` run at `irql`, with its rule id; 0 for none. */
static uint64_t budget_of(const ksl_stream_adapter *a, int entry, uint8_t irql, const char **id, uint32_t *us)
{
    uint32_t b;
    if (irql > DISPATCH_LEVEL) {
        b = a->opt.dirql_budget_us;
        *id = STRM_F_DIRQL_BUDGET;
    } else if (irql == DISPATCH_LEVEL && entry == KSL_STRM_E_DISPATCH) {
        b = a->opt.dispatch_callback_budget_us;
        *id = STRM_F_DISPATCH_CB_BUDGET;
    } else if (irql == DISPATCH_LEVEL) {
        b = a->opt.dispatch_budget_us;
        *id = STRM_F_DISPATCH_BUDGET;
    } else {
        return 0;
    }
    *us = b;
    return b == KSL_STRM_BUDGET_OFF ? 0 : (uint64_t)b * 1000u;
}

static void report_budget(ksl_stream_adapter *a, int entry, uint8_t irql, uint64_t cost_ns, const char *ctx,
                          uint64_t request, const char *why)
{
    const char *id = NULL;
    uint32_t us = 0;
    budget_of(a, entry, irql, &id, &us);
    uint32_t bit = strcmp(id, STRM_F_DIRQL_BUDGET) == 0 ? 1u : strcmp(id, STRM_F_DISPATCH_CB_BUDGET) == 0 ? 2u : 4u;
    if (atomic_fetch_or(&a->ck.budgets_reported, bit) & bit)
        return; /* the rule is recorded for this run */
    char ib[32], rq[48] = "";
    if (request)
        snprintf(rq, sizeof rq, " (request #%llu)", (unsigned long long)request);
    ksl_report_continue(id, NULL, 0, "%s%s ran %llu.%03llu us at %s in %s; the budget there is %u us%s", ksl_stream_entry_name(entry),
               rq, (unsigned long long)(cost_ns / 1000), (unsigned long long)(cost_ns % 1000),
               irql_label(irql, ib, sizeof ib), ctx, us, why);
}

static bool is_request(int entry)
{
    return entry == KSL_STRM_E_DEVICE || entry == KSL_STRM_E_DATA || entry == KSL_STRM_E_CONTROL;
}

void ksl__strm_hook_entry(ksl_stream_adapter *a, int entry, uint8_t irql, uint64_t cost_ns)
{
    if (irql < DISPATCH_LEVEL)
        return;
    const char *id;
    uint32_t us;
    uint64_t budget = budget_of(a, entry, irql, &id, &us);
    bool over = budget && cost_ns > budget;
    strm_checks *k = &a->ck;
    if (a->sync && is_request(entry)) {
        uint64_t long_ns = (uint64_t)a->opt.long_request_us * 1000u;
        bool is_long = a->opt.long_request_us != KSL_STRM_BUDGET_OFF && cost_ns > long_ns;
        pthread_mutex_lock(&a->mu);
        uint64_t n = ++k->requests;
        if (is_long)
            k->long_requests++;
        if (is_long && over && !k->deferred) {
            k->deferred = true;
            k->d_entry = entry;
            k->d_irql = irql;
            k->d_cost_ns = cost_ns;
            k->d_request = n;
            snprintf(k->d_ctx, sizeof k->d_ctx, "%s", ksl_context_name());
        }
        bool full = n >= a->opt.long_request_window;
        uint64_t nlong = k->long_requests;
        bool s7 = !k->s7_reported && full && nlong * 100u > (uint64_t)a->opt.long_request_pct * n;
        bool now = over && !is_long;
        if (s7)
            k->s7_reported = true;
        pthread_mutex_unlock(&a->mu);
        if (s7) {
            ksl_report_continue(STRM_F_LONG_REQUESTS, NULL, 0,
                       "synchronization on: %llu of %llu requests (more than %u %%) ran longer than %u us in their entry "
                       "point (the latest: %s, %llu us at IRQL %u); turn synchronization off or move the work to a Low "
                       "routine",
                       (unsigned long long)nlong, (unsigned long long)n, a->opt.long_request_pct,
                       a->opt.long_request_us, ksl_stream_entry_name(entry), (unsigned long long)(cost_ns / 1000),
                       irql);
        }
        if (now)
            report_budget(a, entry, irql, cost_ns, ksl_context_name(), 0, "");
        return;
    }
    if (over)
        report_budget(a, entry, irql, cost_ns, ksl_context_name(), 0, "");
}

void ksl__strm_hook_stop(ksl_stream_adapter *a)
{
    strm_checks *k = &a->ck;
    pthread_mutex_lock(&a->mu);
    bool go = k->deferred && !k->s7_reported;
    k->deferred = false;
    pthread_mutex_unlock(&a->mu);
    if (go)
        report_budget(a, k->d_entry, k->d_irql, k->d_cost_ns, k->d_ctx, k->d_request,
                      " (an occasional long request: at raised IRQL it belongs in a Low routine)");
}

/* ---- S4: registers shared with the ISR ----------------------------------------------------- */

static void port_watch(void *user, uintptr_t address, unsigned width, bool write, uint32_t value, const char *file,
                       int line)
{
    (void)width, (void)value;
    ksl_stream_adapter *a = user;
    strm_checks *k = &a->ck;
    if (!write || !a->intr)
        return;
    uintptr_t off = address - a->res.port_base;
    if (off >= STRM_CK_REGS)
        return;
    int r = current_routine(a);
    bool isr = r == KSL_STRM_E_ISR;
    bool cb = (r == KSL_STRM_E_DISPATCH || r == KSL_STRM_E_LOW) && !ksl__strm_serialized(a);
    if (!isr && !cb)
        return;
    strm_reg_ck *g = &k->regs[off];
    char who[64];
    snprintf(who, sizeof who, "%s", ksl_context_name());
    pthread_mutex_lock(&a->mu);
    bool fire = false;
    strm_reg_ck was = *g;
    if (isr) {
        g->isr_wrote = true;
        fire = g->cb_wrote;
    } else if (g->isr_wrote) {
        fire = true;
        was.cb_entry = r;
        snprintf(was.cb_ctx, sizeof was.cb_ctx, "%s", who);
        was.cb_file = file;
        was.cb_line = line;
    } else if (!g->cb_wrote) {
        g->cb_wrote = true;
        g->cb_entry = r;
        snprintf(g->cb_ctx, sizeof g->cb_ctx, "%s", who);
        g->cb_file = file;
        g->cb_line = line;
    }
    pthread_mutex_unlock(&a->mu);
    if (!fire)
        return;
    ksl_report_continue(STRM_F_ISR_SHARED, was.cb_file, was.cb_line,
               "register 0x%lx (port 0x%lx) is written by HwInterrupt and by a %s in %s without the interrupt lock "
               "(at %s:%d): touch it from a High priority routine (StreamClassCallAtNewPriority(High))",
               (unsigned long)off, (unsigned long)address, ksl_stream_entry_name(was.cb_entry), was.cb_ctx,
               was.cb_file ? was.cb_file : "?", was.cb_line);
}

/* ---- S7a: PASSIVE-only services from synchronized routines ---------------------------------- */

static bool irql_refine(void *user, const char *call, uint8_t max, const char **rule, char *msg, size_t n)
{
    ksl_stream_adapter *a = user;
    if (!a->sync || max >= DISPATCH_LEVEL)
        return false;
    int r = current_routine(a);
    if (r < 0 || r == KSL_STRM_E_LOW || r == KSL_STRM_E_ISR)
        return false; /* the ISR runs at its DIRQL whatever the synchronization */
    char ib[32];
    *rule = STRM_F_PASSIVE_SERVICE;
    snprintf(msg, n,
             "%s may only be called at %s; %s called it from %s at %s with stream class synchronization on: call "
             "it from a Low priority routine, or turn synchronization off",
             call, max == PASSIVE_LEVEL ? "PASSIVE_LEVEL" : "IRQL <= APC_LEVEL", ksl_context_name(),
             ksl_stream_entry_name(r), irql_label(ksl_irql_current(), ib, sizeof ib));
    return true;
}

/* ---- K.deadlock: the class's part of the picture ------------------------------------------- */

typedef struct text {
    char *buf;
    size_t n, len;
} text;

static void put(text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void put(text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->buf + t->len, t->n - t->len, fmt, ap);
    va_end(ap);
    if (k > 0)
        t->len = t->len + (size_t)k < t->n ? t->len + (size_t)k : t->n - 1;
}

/* A queue with requests waiting while the minidriver has not asked for the next one. */
static void describe_queue(text *t, const strm_queue *q, const char *name, const char *ready_for_next)
{
    if (q->ready || IsListEmpty(&q->pending))
        return;
    uint32_t n = 0;
    for (const LIST_ENTRY *le = q->pending.Flink; le != &q->pending; le = le->Flink)
        n++;
    const strm_srb *first = CONTAINING_RECORD(q->pending.Flink, strm_srb, qlink);
    put(t, "  stream class: %s holds %u request(s) (first %s #%llu) and waits for %s, which the minidriver has "
           "not signalled since the last request it took\n",
        name, n, ksl__strm_command_name(first->srb.Command), (unsigned long long)first->id, ready_for_next);
}

static void describe_stall(void *user, char *buf, size_t n)
{
    ksl_stream_adapter *a = user;
    text t = {buf, n, 0};
    pthread_mutex_lock(&a->mu);
    describe_queue(&t, &a->devq, "the device queue", "ReadyForNextDeviceRequest");
    for (PLIST_ENTRY le = a->streams.Flink; le != &a->streams; le = le->Flink) {
        const strm_stream *s = CONTAINING_RECORD(le, strm_stream, link);
        char name[64];
        snprintf(name, sizeof name, "stream %lu's data queue", (unsigned long)s->obj.StreamNumber);
        describe_queue(&t, &s->data, name, "ReadyForNextStreamDataRequest");
        snprintf(name, sizeof name, "stream %lu's control queue", (unsigned long)s->obj.StreamNumber);
        describe_queue(&t, &s->control, name, "ReadyForNextStreamControlRequest");
    }
    uint32_t shown = 0;
    for (PLIST_ENTRY le = a->outstanding.Flink; le != &a->outstanding && shown < 4; le = le->Flink, shown++) {
        const strm_srb *r = CONTAINING_RECORD(le, strm_srb, olink);
        put(&t, "  stream class: the minidriver holds %s #%llu and has not completed it\n",
            ksl__strm_command_name(r->srb.Command), (unsigned long long)r->id);
    }
    if (a->n_outstanding > shown)
        put(&t, "  stream class: ... and %u more request(s) the minidriver holds\n", a->n_outstanding - shown);
    pthread_mutex_unlock(&a->mu);
}

bool ksl__strm_ck_create(ksl_stream_adapter *a)
{
    /* Like the port watcher, the refiner stays with the engine (which runs once). */
    if (a->sync)
        ksl_engine_set_irql_refiner(a->e, irql_refine, a);
    ksl_engine_set_deadlock_describer(a->e, describe_stall, a);
    ksl__strm_ss_create(a);
    ksl__strm_self_create(a);
    if (!a->res.port_size)
        return true;
    a->ck.regs = calloc(STRM_CK_REGS, sizeof *a->ck.regs);
    if (!a->ck.regs)
        return false;
    uint32_t size = a->res.port_size < STRM_CK_REGS ? a->res.port_size : STRM_CK_REGS;
    /* The watcher stays with the engine after ksl_stream_destroy (the engine frees it): the
     * engine may be gone by then, and nothing accesses ports after the run. */
    if (!ksl_port_observe(a->e, a->res.port_base, size, port_watch, a)) {
        free(a->ck.regs);
        a->ck.regs = NULL;
        return false;
    }
    return true;
}

void ksl__strm_ck_destroy(ksl_stream_adapter *a)
{
    ksl__strm_ss_destroy(a);
    ksl__strm_self_destroy(a);
    free(a->ck.regs);
    a->ck.regs = NULL;
}

/* ---- unused hook points -------------------------------------------------------------------- */

void ksl__strm_hook_srb(ksl_stream_adapter *a, uint64_t srb_id, SRB_COMMAND cmd, strm_srb_state from,
                       strm_srb_state to, const char *file, int line)
{
    (void)a, (void)srb_id, (void)cmd, (void)from, (void)to, (void)file, (void)line;
}

void ksl__strm_hook_service(ksl_stream_adapter *a, const char *what, const char *file, int line)
{
    (void)a, (void)what, (void)file, (void)line;
}
