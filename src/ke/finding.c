/* SPDX-License-Identifier: MIT */
/*
 * Findings: recording each rule broken in a run with the context, CPU and IRQL that broke it and
 * the events leading to it; a finding that leaves the state in doubt also stops the run, one the
 * system survives (a budget, a lockset) lets it go on.  Also the event log those events
 * come from, and the driver-facing ASSERT and DbgPrint.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ke_internal.h"

static const char *const point_names[P_COUNT] = {
    [P_IRQL_RAISE] = "raise IRQL", [P_IRQL_LOWER] = "lower IRQL", [P_SPIN_ACQUIRE] = "acquire spin lock",
    [P_SPIN_RELEASE] = "release spin lock", [P_DPC_QUEUE] = "queue DPC", [P_DPC_DEQUEUE] = "dequeue DPC",
    [P_EVENT_SET] = "set event", [P_EVENT_RESET] = "reset event", [P_WAIT] = "wait",
    [P_TIMER_SET] = "set timer", [P_TIMER_CANCEL] = "cancel timer", [P_MUTEX_ACQUIRE] = "acquire fast mutex",
    [P_MUTEX_RELEASE] = "release fast mutex", [P_STALL] = "stall", [P_POOL_ALLOC] = "allocate pool",
    [P_POOL_FREE] = "free pool", [P_INTERLOCKED] = "interlocked operation", [P_PORT_READ] = "register read",
    [P_PORT_WRITE] = "register write", [P_SYNC] = "synchronize with interrupt", [P_WORK_QUEUE] = "queue work item",
    [P_IRP_CANCEL] = "cancel IRP", [P_IRP_COMPLETE] = "complete IRP", [P_IRP_SET_CANCEL] = "set cancel routine",
    [P_CANCEL_LOCK] = "cancel spin lock", [P_THREAD_EXIT] = "thread exit",
    [P_EXTERNAL] = "call",
};

const char *ksl_irql_name(uint8_t irql, char *buf, size_t len)
{
    switch (irql) {
    case KSL_IRQL_PASSIVE: return "PASSIVE_LEVEL";
    case KSL_IRQL_APC: return "APC_LEVEL";
    case KSL_IRQL_DISPATCH: return "DISPATCH_LEVEL";
    case KSL_IRQL_PROFILE: return "PROFILE_LEVEL";
    case KSL_IRQL_CLOCK: return "CLOCK_LEVEL";
    case KSL_IRQL_IPI: return "IPI_LEVEL";
    case KSL_IRQL_POWER: return "POWER_LEVEL";
    case KSL_IRQL_HIGH: return "HIGH_LEVEL";
    default: snprintf(buf, len, "DIRQL %u", irql); return buf;
    }
}

/* A context as findings name it, from its frame's kind and name. */
static void describe_frame(uint8_t kind, const char *name, char *buf, size_t len)
{
    switch (kind) {
    case FR_THREAD: snprintf(buf, len, "thread '%s'", name ? name : "?"); break;
    case FR_DPC: snprintf(buf, len, "DPC '%s'", name ? name : "?"); break;
    case FR_ISR: snprintf(buf, len, "ISR '%s'", name ? name : "?"); break;
    case FR_WORK: snprintf(buf, len, "work item on '%s'", name ? name : "?"); break;
    default: snprintf(buf, len, "idle"); break;
    }
}

void ksl__describe(const ksl_cpu *c, char *buf, size_t len)
{
    if (!c) {
        snprintf(buf, len, "host code");
        return;
    }
    const ksl_frame *f = &c->frames[c->nframes ? c->nframes - 1 : 0];
    describe_frame(f->kind, f->name, buf, len);
}

void ksl_report_involves(const char *context)
{
    ksl_engine *e = ksl__cur ? ksl__cur->e : ksl__eng;
    if (!e || ksl__threaded(e) || !context)
        return;
    snprintf(e->involved, sizeof e->involved, "%s", context);
}

void ksl_report_racing(const char *context, const char *file, int line)
{
    ksl_engine *e = ksl__cur ? ksl__cur->e : ksl__eng;
    if (!e || ksl__threaded(e) || !context || !file)
        return;
    snprintf(e->racing_context, sizeof e->racing_context, "%s", context);
    e->racing_file = file;
    e->racing_line = line;
}

void ksl__log(ksl_engine *e, ksl_cpu *c, unsigned kind, const char *what, const char *file, int line)
{
    if (ksl__threaded(e))
        return; /* the log serves reports of reproducible runs */
    if (e->trace_fn) {
        ksl_trace_event ev = {e->steps, c ? c->clock : e->now, c ? (int32_t)c->index : -1, c ? c->irql : 0, 'i', NULL,
                              what ? what : (kind < P_COUNT && point_names[kind] ? point_names[kind] : "?"), file, line};
        e->trace_fn(e->trace_user, &ev);
    }
    if (!e->log)
        return;
    ksl_log_entry *l = &e->log[e->nlog % e->cfg.event_log];
    e->nlog++;
    l->step = e->steps;
    l->time = c ? c->clock : e->now;
    l->kind = (uint8_t)kind;
    l->cpu = c ? (uint8_t)c->index : 0xFF;
    l->irql = c ? c->irql : 0;
    l->file = file;
    l->line = line;
    l->what = what;
    const ksl_frame *f = c ? &c->frames[c->nframes ? c->nframes - 1 : 0] : NULL;
    l->ctx_kind = f ? f->kind : FR_IDLE;
    l->ctx_name = f ? f->name : NULL;
}

bool ksl__log_first_site(const ksl_engine *e, uint32_t cpu, uint64_t since, const char **file, int *line)
{
    if (!e->log)
        return false;
    uint32_t cap = e->cfg.event_log;
    uint64_t from = e->nlog > cap && since < e->nlog - cap ? e->nlog - cap : since;
    for (uint64_t i = from; i < e->nlog; i++) {
        const ksl_log_entry *l = &e->log[i % cap];
        if (l->cpu == cpu && l->file) {
            *file = l->file;
            *line = l->line;
            return true;
        }
    }
    return false;
}

void ksl__trace_slice(ksl_cpu *c, char phase, const ksl_frame *f)
{
    ksl_engine *e = c->e;
    if (phase == 'B' && !ksl__threaded(e))
        ksl__watch_at(f, true, NULL, 0); /* a routine begins */
    if (!e->trace_fn || ksl__threaded(e))
        return;
    static const char *const kinds[] = {[FR_IDLE] = "idle", [FR_THREAD] = "thread", [FR_DPC] = "DPC",
                                        [FR_ISR] = "ISR", [FR_WORK] = "work item"};
    const char *kind = f->kind < sizeof kinds / sizeof kinds[0] && kinds[f->kind] ? kinds[f->kind] : "?";
    ksl_trace_event ev = {e->steps, c->clock, (int32_t)c->index, c->irql, phase, kind, f->name ? f->name : "?", NULL, 0};
    e->trace_fn(e->trace_user, &ev);
}

void ksl__detail(ksl_engine *e, const char *fmt, ...)
{
    pthread_mutex_lock(&e->finding_mu);
    size_t used = strlen(e->pending);
    if (!e->ended && used + 1 < sizeof e->pending) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->pending + used, sizeof e->pending - used, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&e->finding_mu);
}

/* A source path for a report line: relative to the working directory when it lies below it
 * (the detail has room for 16 events, not for 16 absolute paths). */
static const char *short_path(const char *file)
{
    static _Thread_local char cwd[512];
    static _Thread_local size_t ncwd;
    if (!file)
        return "?";
    if (!ncwd && getcwd(cwd, sizeof cwd))
        ncwd = strlen(cwd);
    if (ncwd > 1 && strncmp(file, cwd, ncwd) == 0 && file[ncwd] == '/')
        return file + ncwd + 1;
    return file;
}

/* Whether log entry l was made by the context named `who`. */
static bool made_by(const ksl_log_entry *l, const char *who)
{
    if (!who[0] || l->cpu == 0xFF)
        return false;
    char d[64];
    describe_frame(l->ctx_kind, l->ctx_name, d, sizeof d);
    return strcmp(d, who) == 0;
}

/* One event of the log as a detail line. */
static size_t event_line(const ksl_log_entry *l, char *d, size_t room)
{
    char ib[16];
    const char *what = l->what ? l->what : (l->kind < P_COUNT && point_names[l->kind] ? point_names[l->kind] : "?");
    int k;
    if (l->cpu == 0xFF)
        k = snprintf(d, room, "    step %" PRIu64 " t=%" PRIu64 "ns device: %s\n", l->step, l->time, what);
    else
        k = snprintf(d, room, "    step %" PRIu64 " t=%" PRIu64 "ns CPU %u %s: %s (%s:%d)\n", l->step, l->time, l->cpu,
                     ksl_irql_name(l->irql, ib, sizeof ib), what, short_path(l->file), l->line);
    return k < 0 ? 0 : (size_t)k;
}

/* The events before the finding.  With another context involved (a race), those of the two
 * contexts among every event the log keeps: from the start of the window (`from`, the step where
 * the finding's context dropped its lock, with the two events of theirs before it) to the
 * finding, and when that is more than fits, its first and its last events.  Else the last 16 of
 * any context. */
static void append_events(ksl_engine *e, ksl_finding *f, const char *who, const char *other, uint64_t from)
{
    if (!e->log || !e->nlog)
        return;
    uint32_t cap = e->cfg.event_log;
    uint64_t oldest = e->nlog > cap ? e->nlog - cap : 0;
    enum { MAX = KSL_EVENTS_SHOWN_MAX, HALF = KSL_EVENTS_SHOWN_MAX / 2, BEFORE = 2 };
    uint64_t head[MAX], tail[MAX];
    uint32_t nhead = 0, ntail = 0, nwindow = 0, nelided = 0;
    if (!other[0]) { /* the last 16 of any context */
        for (uint64_t i = e->nlog; i-- > oldest && ntail < 16;)
            tail[ntail++] = i;
    } else {
        /* newest first: the window's events (counted) and the newest MAX of the two contexts */
        for (uint64_t i = e->nlog; i-- > oldest;) {
            const ksl_log_entry *l = &e->log[i % cap];
            if (!made_by(l, who) && !made_by(l, other))
                continue;
            if (ntail < MAX)
                tail[ntail++] = i;
            if (from && l->step >= from)
                nwindow++;
            else if (ntail >= MAX)
                break;
        }
        if (from && nwindow + BEFORE > MAX) { /* too long: its start, then its end */
            uint64_t before[BEFORE];
            uint32_t nbefore = 0;
            for (uint64_t i = oldest; i < e->nlog && nhead < MAX - HALF - BEFORE; i++) {
                const ksl_log_entry *l = &e->log[i % cap];
                if (!made_by(l, who) && !made_by(l, other))
                    continue;
                if (l->step < from)
                    before[nbefore++ % BEFORE] = i;
                else
                    head[nhead++] = i;
            }
            uint32_t keep = nbefore < BEFORE ? nbefore : BEFORE;
            memmove(head + keep, head, nhead * sizeof head[0]);
            for (uint32_t k = 0; k < keep; k++)
                head[k] = before[(nbefore - keep + k) % BEFORE];
            nelided = nwindow - nhead - HALF; /* nhead: the window's events shown first */
            nhead += keep;
            ntail = HALF;
        } else if (from && nwindow + BEFORE < ntail) {
            ntail = nwindow + BEFORE; /* the window and the two events before it */
        }
    }
    char *d = f->detail;
    size_t used = strlen(d);
    if (used >= sizeof f->detail)
        return;
    if (!other[0])
        used += (size_t)snprintf(d + used, sizeof f->detail - used, "  events leading to it (last %u):\n", ntail);
    else if (nhead && e->log[head[0] % cap].step > from) /* its start is older than the log keeps */
        used += (size_t)snprintf(d + used, sizeof f->detail - used,
                                 "  events of %s and %s, from the oldest the log keeps of the window opened at step "
                                 "%" PRIu64 " (%u of %u):\n",
                                 who, other, from, nhead + ntail, nwindow);
    else if (nhead)
        used += (size_t)snprintf(d + used, sizeof f->detail - used,
                                 "  events of %s and %s, from the window's start (%u of its %u):\n", who, other,
                                 nhead + ntail, nwindow);
    else if (from)
        used += (size_t)snprintf(d + used, sizeof f->detail - used,
                                 "  events of %s and %s, from two before the window's start (%u):\n", who, other, ntail);
    else
        used += (size_t)snprintf(d + used, sizeof f->detail - used, "  events of %s and %s (their last %u):\n", who,
                                 other, ntail);
    for (uint32_t k = 0; k < nhead && used < sizeof f->detail; k++)
        used += event_line(&e->log[head[k] % cap], d + used, sizeof f->detail - used);
    if (nhead && used < sizeof f->detail)
        used += (size_t)snprintf(d + used, sizeof f->detail - used, "    ... %u more of their events ...\n", nelided);
    while (ntail && used < sizeof f->detail)
        used += event_line(&e->log[tail[--ntail] % cap], d + used, sizeof f->detail - used);
}

/* " [after injected fault ac97: lost-interrupt at 1234 ns]" when faults were injected (the last
 * one, and how many before it), else "". */
static void fault_note(const ksl_engine *e, char *out, size_t n)
{
    out[0] = 0;
    if (!e->nfaults)
        return;
    uint32_t last = (e->nfaults < KSL__MAX_FAULT_NOTES ? e->nfaults : KSL__MAX_FAULT_NOTES) - 1;
    if (e->nfaults > 1)
        snprintf(out, n, " [after injected fault %s at %" PRIu64 " ns, and %u before it]", e->faults[last].what,
                 e->faults[last].time, e->nfaults - 1);
    else
        snprintf(out, n, " [after injected fault %s at %" PRIu64 " ns]", e->faults[last].what, e->faults[last].time);
}

void ksl_fault_note_append(const ksl_engine *e, char *msg, size_t n)
{
    char note[160];
    fault_note(e, note, sizeof note);
    size_t len = strlen(msg), k = strlen(note);
    if (!k || k >= n)
        return;
    if (len + k >= n)
        len = n - 1 - k;
    memcpy(msg + len, note, k + 1);
}

/* Where kslab saw a finding it places at the driver's line: its own site, if any. */
static void append_seen(ksl_finding *f, const ksl_cpu *c, const char *file, int line)
{
    size_t used = strlen(f->detail);
    if (used >= sizeof f->detail)
        return;
    const char *who = c ? "the driver's latest call in this context" : "the driver's register write behind it";
    if (file)
        snprintf(f->detail + used, sizeof f->detail - used, "  detected by kslab at %s:%d, after %s\n", short_path(file),
                 line, who);
    else
        snprintf(f->detail + used, sizeof f->detail - used, "  detected by kslab, after %s\n", who);
}

/* A race: the window the finding's context opened by its latest lock release, and where it took
 * a lock again (if it has), which the other side ran in. */
static void append_window(ksl_finding *f, const ksl_cpu *c, const char *who, const char *other)
{
    const ksl_drv_sites *d = ksl__driver_sites(c);
    size_t used = strlen(f->detail);
    if (!d || !d->drop_file || used >= sizeof f->detail)
        return;
    used += (size_t)snprintf(f->detail + used, sizeof f->detail - used,
                             "  window: %s released a lock at %s:%d (step %" PRIu64 ")", who, short_path(d->drop_file),
                             d->drop_line, d->drop_step);
    if (used < sizeof f->detail && d->retake_file)
        used += (size_t)snprintf(f->detail + used, sizeof f->detail - used, " and took one again at %s:%d (step %" PRIu64 ")",
                                 short_path(d->retake_file), d->retake_line, d->retake_step);
    else if (used < sizeof f->detail)
        used += (size_t)snprintf(f->detail + used, sizeof f->detail - used, ", still open at the finding");
    if (used < sizeof f->detail)
        snprintf(f->detail + used, sizeof f->detail - used, "; %s ran in between\n", other[0] ? other : "the other side");
}

/* Every injected fault the run remembers, in the detail. */
static void append_faults(const ksl_engine *e, ksl_finding *f)
{
    uint32_t kept = e->nfaults < KSL__MAX_FAULT_NOTES ? e->nfaults : KSL__MAX_FAULT_NOTES;
    size_t used = strlen(f->detail);
    if (kept && used < sizeof f->detail)
        used += (size_t)snprintf(f->detail + used, sizeof f->detail - used, "  faults injected (%u):\n", e->nfaults);
    for (uint32_t i = 0; i < kept && used < sizeof f->detail; i++)
        used += (size_t)snprintf(f->detail + used, sizeof f->detail - used, "    t=%" PRIu64 "ns %s\n",
                                 e->faults[i].time, e->faults[i].what);
}

void ksl_fault_injected(ksl_engine *e, const char *device, const char *fault)
{
    pthread_mutex_lock(&e->finding_mu);
    if (e->nfaults < KSL__MAX_FAULT_NOTES) {
        snprintf(e->faults[e->nfaults].what, sizeof e->faults[0].what, "%s: %s", device ? device : "device", fault);
        e->faults[e->nfaults].time = ksl__threaded(e) ? atomic_load(&e->tclock) : e->now;
    }
    e->nfaults++;
    const char *what = e->nfaults <= KSL__MAX_FAULT_NOTES ? e->faults[e->nfaults - 1].what : "fault injected";
    pthread_mutex_unlock(&e->finding_mu);
    ksl__log(e, NULL, P_EXTERNAL, what, NULL, 0);
}

/* Whether a finding the run survives repeats one already recorded (same rule, same site). */
static bool recorded(const ksl_engine *e, const char *rule, const char *file, int line)
{
    for (uint32_t i = 0; i < e->nfindings; i++) {
        const ksl_finding *f = &e->findings[i];
        if (strcmp(f->rule, rule) == 0 && f->line == line &&
            (f->file == file || (f->file && file && strcmp(f->file, file) == 0)))
            return true;
    }
    return false;
}

void ksl__vfail(ksl_cpu *c, bool ends, const char *rule, const char *file, int line, const char *fmt, va_list ap)
{
    ksl_engine *e = c ? c->e : ksl__eng;
    bool device = ksl__in_device == DEV_EVENT;
    if (device)
        c = NULL; /* hardware broke it, not the CPU whose turn it was */
    if (!e) {
        char msg[512];
        vsnprintf(msg, sizeof msg, fmt, ap);
        fprintf(stderr, "kslab: %s outside any engine: %s (%s:%d)\n", rule, msg, file ? file : "?", line);
        return;
    }
    /* Its own lock, not the dispatcher lock: device callbacks report while holding that. */
    pthread_mutex_lock(&e->finding_mu);
    ksl_finding *f = NULL;
    /* Detected in kslab's own code (or nowhere): the driver's call, or the register write a
     * device named, that led to it. */
    const char *seen_file = NULL;
    int seen_line = 0;
    bool placed = false;
    if (!ksl__threaded(e) && (!file || ksl__own_site(file))) {
        const char *df = NULL;
        int dl = 0;
        if (c)
            ksl__driver_site_of(c, &df, &dl);
        else if (device) {
            df = e->cause_file;
            dl = e->cause_line;
        }
        if (df) {
            seen_file = file;
            seen_line = line;
            placed = true;
            file = df;
            line = dl;
        }
    }
    /* The last slot is kept for a finding that stops the run: its cause is never dropped. */
    uint32_t room = ends ? KSL_MAX_RUN_FINDINGS : KSL_MAX_RUN_FINDINGS - 1;
    if (!e->ended && e->nfindings < room && (ends || !recorded(e, rule, file, line))) {
        f = &e->findings[e->nfindings++];
        memset(f, 0, sizeof *f);
        char ctx[64], ib[16], text[400];
        if (device)
            snprintf(ctx, sizeof ctx, "a device event");
        else
            ksl__describe(c, ctx, sizeof ctx);
        vsnprintf(text, sizeof text, fmt, ap);
        snprintf(f->rule, sizeof f->rule, "%s", rule);
        snprintf(f->context, sizeof f->context, "%s", ctx);
        f->cpu = c ? (int32_t)c->index : -1;
        f->irql = c ? c->irql : 0;
        f->file = file;
        f->line = line;
        f->step = e->steps;
        f->time_ns = c ? c->clock : e->now;
        f->ended_run = ends;
        if (c)
            snprintf(f->message, sizeof f->message, "%s on CPU %u at %s: %s", ctx, c->index,
                     ksl_irql_name(c->irql, ib, sizeof ib), text);
        else
            snprintf(f->message, sizeof f->message, "%s", text);
        ksl_fault_note_append(e, f->message, sizeof f->message);
        snprintf(f->detail, sizeof f->detail, "%s", e->pending);
        if (placed)
            append_seen(f, c, seen_file, seen_line);
        append_faults(e, f);
        uint64_t from = 0; /* a race: where the window opened */
        if (e->racing_file) {
            append_window(f, c, ctx, e->racing_context);
            const ksl_drv_sites *ds = ksl__driver_sites(c);
            from = ds && ds->drop_file ? ds->drop_step : 0;
        }
        append_events(e, f, ctx, e->involved, from);
        if (e->racing_file) {
            snprintf(f->racing_context, sizeof f->racing_context, "%s", e->racing_context);
            snprintf(f->racing_file, sizeof f->racing_file, "%s", e->racing_file);
            f->racing_line = e->racing_line;
        }
        atomic_store(&e->has_finding, 1);
    }
    e->pending[0] = 0;
    e->involved[0] = 0;
    e->racing_file = NULL;
    if (ends) {
        e->ended = true;
        atomic_store(&e->stop, 1);
    }
    pthread_mutex_unlock(&e->finding_mu);
    if (f && e->trace_fn && !ksl__threaded(e)) {
        ksl_trace_event ev = {e->steps, f->time_ns, f->cpu, f->irql, 'F', "finding", f->rule, file, line};
        e->trace_fn(e->trace_user, &ev);
    }
}

/* Host code, the executors' own decisions and device code (which may hold the dispatcher lock)
 * only record a finding; device register accesses stop the run once the device returned, the
 * executors at their next decision. */
void ksl__stop_run(ksl_cpu *c)
{
    ksl_engine *e = c ? c->e : ksl__eng;
    if (!e || !e->in_run || !c || ksl__in_device)
        return;
    if (ksl__threaded(e))
        ksl__thr_abort(c);
    else
        ksl__det_abort(e);
}

void ksl__fail(ksl_cpu *c, const char *rule, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ksl__vfail(c, true, rule, file, line, fmt, ap);
    va_end(ap);
    ksl__stop_run(c);
}

void ksl__note(ksl_cpu *c, const char *rule, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ksl__vfail(c, false, rule, file, line, fmt, ap);
    va_end(ap);
}

void ksl_report(const char *rule, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ksl__vfail(ksl__cur, true, rule, file, line, fmt, ap);
    va_end(ap);
    ksl__stop_run(ksl__cur);
}

void ksl_report_continue(const char *rule, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ksl__vfail(ksl__cur, false, rule, file, line, fmt, ap);
    va_end(ap);
}

void ksl_assert_fail(const char *expr, const char *file, int line)
{
    ksl__fail(ksl__cur, "K.driver-assert", file, line, "assertion failed: %s", expr);
}

void ksl_debug_print(const char *file, int line, const char *fmt, ...)
{
    ksl_cpu *c = ksl__cur;
    if (!c || !c->e->log || ksl__threaded(c->e))
        return;
    ksl_engine *e = c->e;
    if (!e->dbg_text && !(e->dbg_text = calloc(e->cfg.event_log, KSL_DBG_TEXT)))
        return;
    /* The text lives in the slot that matches the log entry, so it lasts as long as the entry. */
    char *slot = e->dbg_text + (size_t)(e->nlog % e->cfg.event_log) * KSL_DBG_TEXT;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(slot, KSL_DBG_TEXT, fmt, ap);
    va_end(ap);
    size_t n = strlen(slot);
    if (n && slot[n - 1] == '\n')
        slot[n - 1] = 0;
    ksl__log(e, c, P_EXTERNAL, slot, file, line);
}
