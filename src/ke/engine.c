/* SPDX-License-Identifier: MIT */
/* Engine life cycle, configuration, client threads, and the accessors of a finished run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ke_internal.h"

void ksl_config_default(ksl_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->cpus = 2;
    cfg->engine = KSL_ENGINE_DETERMINISTIC;
    cfg->seed = 1;
    cfg->strategy = KSL_STRATEGY_RANDOM;
    cfg->pct_depth = 3;
    cfg->pct_steps = 20000;
    cfg->max_steps = 5000000;
    cfg->skew_ns = 20000;
    cfg->step_cost_ns = 10;
    cfg->stack_size = 256 * 1024;
    cfg->worker_threads = 2;
    cfg->event_log = 64;
}

ksl_engine *ksl_engine_create(const ksl_config *in, char *err, size_t errlen)
{
    ksl_config cfg;
    if (in)
        cfg = *in;
    else
        ksl_config_default(&cfg);
#define BAD(...) do { if (err) snprintf(err, errlen, __VA_ARGS__); return NULL; } while (0)
    if (cfg.cpus < 1 || cfg.cpus > KSL_MAX_CPUS)
        BAD("cpus must be 1..%d, not %u", KSL_MAX_CPUS, cfg.cpus);
    if (cfg.engine != KSL_ENGINE_DETERMINISTIC && cfg.engine != KSL_ENGINE_THREADED)
        BAD("unknown engine kind %d", (int)cfg.engine);
    if (cfg.strategy > KSL_STRATEGY_REPLAY)
        BAD("unknown strategy %d", (int)cfg.strategy);
    if (cfg.strategy == KSL_STRATEGY_PCT && cfg.pct_depth < 1)
        BAD("PCT depth must be at least 1");
    if (cfg.strategy == KSL_STRATEGY_REPLAY && cfg.nchoices && !cfg.choices)
        BAD("replay needs a choice list");
    if (cfg.max_steps == 0)
        cfg.max_steps = 5000000;
    if (cfg.stack_size < 64 * 1024)
        cfg.stack_size = 64 * 1024;
    if (cfg.worker_threads < 1)
        cfg.worker_threads = 1;
    if (cfg.jitter_ns > KSL_MAX_JITTER_NS || cfg.timer_jitter_ns > KSL_MAX_JITTER_NS)
        BAD("jitter must be at most %u ns", KSL_MAX_JITTER_NS);
#undef BAD
    ksl_engine *e = calloc(1, sizeof *e);
    if (!e) {
        if (err)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cfg = cfg;
    e->jitter_state = cfg.seed ^ 0x6a69747465720000ull; /* "jitter": apart from the schedule's draws */
    if (cfg.nchoices) {
        e->choices_copy = malloc(cfg.nchoices * sizeof *e->choices_copy);
        if (!e->choices_copy) {
            free(e);
            return NULL;
        }
        memcpy(e->choices_copy, cfg.choices, cfg.nchoices * sizeof *cfg.choices);
        e->cfg.choices = e->choices_copy;
    }
    e->ncpus = cfg.cpus;
    e->cpus = calloc(cfg.cpus, sizeof *e->cpus);
    e->locks = ksl__lockorder_new();
    e->opts = calloc((size_t)cfg.cpus * KSL_OPTS_PER_CPU, sizeof *e->opts);
    e->keys = calloc((size_t)cfg.cpus * KSL_OPTS_PER_CPU, sizeof *e->keys);
    if (cfg.event_log)
        e->log = calloc(cfg.event_log, sizeof *e->log);
    if (!e->cpus || !e->locks || !e->opts || !e->keys || (cfg.event_log && !e->log)) {
        ksl_engine_destroy(e);
        return NULL;
    }
    for (uint32_t i = 0; i < e->ncpus; i++) {
        ksl_cpu *c = &e->cpus[i];
        c->index = i;
        c->e = e;
        c->nframes = 1;
        c->frames[0] = (ksl_frame){.kind = FR_IDLE, .name = "idle"};
        c->raised_since = UINT64_MAX;
    }
    e->hash = 0xcbf29ce484222325ull;
    e->pool.next = e->pool.prev = &e->pool;
    ksl_spin_init(&e->cancel_lock, "cancel spin lock", NULL, 0);
    e->cancel_lock.kind = KSL_LOCK_CANCEL;
    ksl_event_init(&e->work_event, true, false);
    pthread_mutex_init(&e->big, NULL);
    pthread_mutex_init(&e->finding_mu, NULL);
    pthread_cond_init(&e->idle_cv, NULL);
    ksl__eng = e;
    return e;
}

static void free_thread(ksl_thread *t)
{
    ksl__coro_free(&t->coro);
    free(t);
}

void ksl_engine_destroy(ksl_engine *e)
{
    if (!e)
        return;
    for (ksl_thread *t = e->all_threads; t;) {
        ksl_thread *n = t->next_all;
        free_thread(t);
        t = n;
    }
    if (e->cpus)
        for (uint32_t i = 0; i < e->ncpus; i++)
            if (e->cpus[i].idle_ready)
                ksl__coro_free(&e->cpus[i].idle);
    for (uint32_t l = 0; l < KSL_MAX_LINES; l++) {
        ksl_interrupt *i = e->lines[l].chain;
        while (i) {
            ksl_interrupt *n = i->next;
            if (i->owns_context)
                free(i->context);
            free(i);
            i = n;
        }
    }
    for (ksl_device *d = e->devices; d;) {
        ksl_device *n = d->next;
        free(d);
        d = n;
    }
    for (ksl_port_obs *o = e->port_obs; o;) {
        ksl_port_obs *n = o->next;
        free(o);
        o = n;
    }
    if (e->strategy)
        e->strategy->ops->destroy(e->strategy);
    if (e->pool.next)
        ksl__pool_free_all(e);
    ksl__paged_free_arena(e);
    ksl__lockorder_free(e->locks);
    free(e->heap);
    free(e->choices);
    free(e->opts);
    free(e->keys);
    free(e->choices_copy);
    free(e->log);
    free(e->dbg_text);
    free(e->cpus);
    pthread_mutex_destroy(&e->big);
    pthread_mutex_destroy(&e->finding_mu);
    pthread_cond_destroy(&e->idle_cv);
    if (ksl__eng == e)
        ksl__eng = NULL;
    free(e);
}

static ksl_thread *new_thread(ksl_engine *e, const char *name, ksl_thread_fn *fn, void *arg, ksl_coro_fn *body, int system)
{
    ksl_thread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->id = ++e->next_thread_id;
    snprintf(t->name, sizeof t->name, "%s", name ? name : "thread");
    t->e = e;
    t->fn = fn;
    t->arg = arg;
    t->system = (uint8_t)system;
    t->cpu = -1;
    t->frame_kind = FR_THREAD;
    t->home_cpu = (int32_t)((t->id - 1) % e->ncpus);
    if (ksl__coro_init(&t->coro, e->cfg.stack_size, body, t) != 0) {
        free(t);
        return NULL;
    }
    ksl_thread **pp = &e->all_threads;
    while (*pp)
        pp = &(*pp)->next_all;
    *pp = t;
    if (!system) {
        e->live_clients++;
        atomic_fetch_add(&e->tlive, 1);
    }
    ksl__ready(e, t);
    return t;
}

ksl_thread *ksl_thread_create(ksl_engine *e, const char *name, ksl_thread_fn *fn, void *arg)
{
    ksl_cpu *c = ksl__cur;
    ksl__require_irql(c, KSL_IRQL_PASSIVE, "PsCreateSystemThread", NULL, 0);
    ksl__big_lock(e);
    ksl_thread *t = new_thread(e, name, fn, arg, ksl__thread_main, 0);
    ksl__big_unlock(e);
    return t;
}

/* Start the system worker threads the first time a work item is queued. */
void ksl__workers_start(ksl_engine *e)
{
    for (uint32_t i = 0; i < e->cfg.worker_threads; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker%u", i);
        new_thread(e, name, NULL, NULL, ksl__worker_main, 1); /* the coroutine's argument is the thread */
    }
}

void ksl__thread_main(void *arg)
{
    ksl_thread *t = arg;
    t->fn(t->arg);
    ksl__thread_exit(ksl__cur);
}

_Noreturn void ksl__thread_exit(ksl_cpu *c)
{
    ksl_engine *e = c->e;
    ksl_thread *t = c->thread;
    char ib[16];
    if (c->nheld) {
        ksl_spinlock *l = c->held[c->nheld - 1];
        ksl__fail(c, "K.lock-held-on-return", l->acq_file, l->acq_line, "thread returned still holding spin lock '%s'",
                  l->name ? l->name : "?");
    }
    if (t->nmutexes)
        ksl__fail(c, "K.lock-held-on-return", NULL, 0, "thread returned still owning fast mutex '%s'",
                  t->mutexes[t->nmutexes - 1]->name ? t->mutexes[t->nmutexes - 1]->name : "?");
    const ksl_kmutex *km = ksl__kmutex_owned(t);
    if (km)
        ksl__fail(c, "K.lock-held-on-return", NULL, 0, "thread returned still owning mutex '%s'",
                  km->name ? km->name : "?");
    if (c->irql != KSL_IRQL_PASSIVE)
        ksl__fail(c, "K.routine-irql-changed", NULL, 0, "thread returned at %s", ksl_irql_name(c->irql, ib, sizeof ib));
    c = ksl__point(c, P_THREAD_EXIT, e->cfg.step_cost_ns, NULL, 0);
    c = ksl__cur;
    ksl__spans_end(c, false);
    ksl__big_lock(e);
    t->state = T_DONE;
    t->cpu = -1;
    if (!t->system)
        e->live_clients--;
    ksl__big_unlock(e);
    ksl__trace_slice(c, 'E', &c->frames[0]);
    c->thread = NULL;
    c->frames[0] = (ksl_frame){.kind = FR_IDLE, .name = "idle", .work_at_entry = c->work};
    c->irql = KSL_IRQL_PASSIVE;
    c->raised_since = UINT64_MAX;
    if (ksl__threaded(e))
        ksl__thr_exit(c, t);
    c->owner = &c->idle;
    for (;;)
        ksl__det_reschedule();
}

int ksl_engine_run(ksl_engine *e)
{
    if (e->ran)
        return -1;
    e->ran = 1;
    ksl__eng = e;
    if (!ksl__threaded(e)) {
        switch (e->cfg.strategy) {
        case KSL_STRATEGY_PCT: e->strategy = ksl__strategy_pct(e->cfg.seed, e->cfg.pct_depth, e->cfg.pct_steps); break;
        case KSL_STRATEGY_REPLAY: e->strategy = ksl__strategy_replay(e->cfg.choices, e->cfg.nchoices); break;
        default: e->strategy = ksl__strategy_random(e->cfg.seed); break;
        }
        if (!e->strategy)
            return -1;
    }
    ksl__hash(e, e->cfg.seed);
    e->in_run = 1;
    int r = 0;
    if (e->live_clients && ksl__threaded(e)) {
        r = ksl__thr_run(e);
    } else if (e->live_clients) {
        ksl__watch_run(true);
        ksl__paged_run(e, true);
        r = ksl__det_run(e);
        ksl__paged_run(e, false);
        ksl__watch_run(false);
    }
    e->in_run = 0;
    ksl__cur = NULL;
    ksl__eng = e;
    if (e->paged_fault)
        ksl__paged_report(NULL); /* a touch after the run's last scheduling point */
    if (r < 0)
        return -1;
    if (!e->ended)
        ksl__pool_check_leaks(e);
    for (uint32_t i = 0; i < e->ncpus; i++) {
        const ksl_stats *s = &e->cpus[i].st;
        e->stats.interrupts += s->interrupts;
        e->stats.dpcs += s->dpcs;
        e->stats.work_items += s->work_items;
        if (s->max_raised_ns > e->stats.max_raised_ns)
            e->stats.max_raised_ns = s->max_raised_ns;
        if (s->max_dirql_ns > e->stats.max_dirql_ns)
            e->stats.max_dirql_ns = s->max_dirql_ns;
    }
    e->stats.steps = ksl__threaded(e) ? atomic_load(&e->tsteps) : e->steps;
    e->stats.time_ns = ksl__threaded(e) ? atomic_load(&e->tclock) : e->now;
    return atomic_load(&e->has_finding) ? 1 : 0;
}

const ksl_finding *ksl_engine_finding(const ksl_engine *e)
{
    return atomic_load(&((ksl_engine *)e)->has_finding) ? &e->findings[0] : NULL;
}

const ksl_finding *ksl_engine_findings(const ksl_engine *e, size_t *n)
{
    *n = atomic_load(&((ksl_engine *)e)->has_finding) ? e->nfindings : 0;
    return e->findings;
}

void ksl_engine_stats(const ksl_engine *e, ksl_stats *out)
{
    *out = e->stats;
}

uint64_t ksl_engine_trace_hash(const ksl_engine *e)
{
    return e->hash;
}

const uint32_t *ksl_engine_choices(const ksl_engine *e, size_t *n)
{
    *n = e->nchoices;
    return e->choices;
}

const ksl_config *ksl_engine_config(const ksl_engine *e)
{
    return &e->cfg;
}

void ksl_engine_set_activation_hook(ksl_engine *e, ksl_activation_hook *hook, void *user)
{
    e->act_hook = hook;
    e->act_user = user;
}

void ksl_engine_set_deadlock_describer(ksl_engine *e, ksl_deadlock_describer *fn, void *user)
{
    e->dl_describer = fn;
    e->dl_user = user;
}

void ksl_engine_set_step_hook(ksl_engine *e, ksl_step_hook *fn, void *user)
{
    e->step_hook = fn;
    e->step_user = user;
}

void ksl_engine_set_atomic_hook(ksl_engine *e, ksl_atomic_hook *fn, void *user)
{
    e->atomic_hook = fn;
    e->atomic_user = user;
}

void ksl_engine_set_trace(ksl_engine *e, ksl_trace_fn *fn, void *user)
{
    e->trace_fn = fn;
    e->trace_user = user;
}

void ksl_trace_note(const char *what, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    ksl_engine *e = c ? c->e : ksl__eng;
    if (e)
        ksl__log(e, c, P_EXTERNAL, what, file, line);
}

uint32_t ksl_held_spinlocks(const ksl_spinlock **out, uint32_t max)
{
    ksl_cpu *c = ksl__cur;
    if (!c)
        return 0;
    for (uint32_t i = 0; i < c->nheld && i < max; i++)
        out[i] = c->held[i];
    return c->nheld;
}

uint32_t ksl_held_sleeplocks(const void **out, uint32_t max)
{
    ksl_cpu *c = ksl__cur;
    ksl_thread *t = c ? ksl__cur_thread(c) : NULL;
    if (!t)
        return 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->nmutexes; i++, n++)
        if (n < max)
            out[n] = t->mutexes[i];
    for (uint32_t i = 0; i < t->nevlocks; i++, n++)
        if (n < max)
            out[n] = t->evlocks[i];
    return n;
}

void ksl_quiesce_point(void)
{
    ksl_engine *e = ksl_engine_current();
    if (e)
        atomic_fetch_add(&e->quiesce_epoch, 1);
}

uint64_t ksl_quiesce_epoch(void)
{
    ksl_engine *e = ksl_engine_current();
    return e ? atomic_load(&e->quiesce_epoch) : 0;
}

ksl_engine *ksl_engine_current(void)
{
    return ksl__cur ? ksl__cur->e : ksl__eng;
}

const char *ksl_context_name(void)
{
    static _Thread_local char buf[64];
    ksl__describe(ksl__cur, buf, sizeof buf);
    return buf;
}
