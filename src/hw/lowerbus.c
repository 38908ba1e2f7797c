/* SPDX-License-Identifier: MIT */
/*
 * The lower bus (see <kslab/hw/lowerbus.h>).  The bus is kernel software, so it uses the kernel's
 * objects: a spin lock over its queue, one timer armed for the earliest due request, and the DPC
 * the timer queues, which completes every request due.  The queue is an array of entries sorted
 * by due time; an entry, not the request, is what the bus holds, so a request submitted twice is
 * held twice and its second completion is found.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/hw/lowerbus.h>

#define REQ_LIVE 0x4C427251u /* a request from ksl_lowerbus_req_alloc */
#define REQ_DEAD 0x64656164u

enum req_state { REQ_IDLE = 0, REQ_PENDING = 1, REQ_DONE = 2 };

typedef struct bus_entry {
    ksl_lowerbus_req *req;
    uint32_t gen;          /* the submission it stands for */
    uint32_t frame_no;
    uint64_t submitted_ns;
    uint64_t due_ns;
    bool cancelled;
    const char *file;      /* the driver's submit call */
    int line;
} bus_entry;

struct ksl_lowerbus {
    ksl_engine *e;
    ksl_lowerbus_config cfg;
    ksl_spinlock lock;     /* the entries, the counters below and the stats */
    ksl_timer timer;
    ksl_dpc dpc;
    bus_entry *ent;        /* cfg.max_pending, sorted by due_ns (stable) */
    uint32_t n;
    uint64_t seq;          /* submissions accepted: the next frame number */
    _Atomic uint32_t nreqs; /* requests allocated: the next one's id - 1 */
    uint64_t last_due_ns;  /* completions stay in submission order */
    _Atomic uint64_t delay_next_ns; /* an injected slow completion for the next submission */
    ksl_lowerbus_stats st;
};

void ksl_lowerbus_config_default(ksl_lowerbus_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 1;
    cfg->latency_ns = KSL_LOWERBUS_DEFAULT_LATENCY_NS;
    cfg->jitter_ns = KSL_LOWERBUS_DEFAULT_JITTER_NS;
    cfg->max_pending = KSL_LOWERBUS_DEFAULT_MAX_PENDING;
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t round_up_unit(uint64_t ns)
{
    return (ns + KSL_LOWERBUS_TIME_UNIT_NS - 1) / KSL_LOWERBUS_TIME_UNIT_NS * KSL_LOWERBUS_TIME_UNIT_NS;
}

/* The latency of submission `seq`: a function of the seed and seq only. */
static uint64_t latency_of(const ksl_lowerbus *bus, uint64_t seq)
{
    uint64_t steps = bus->cfg.jitter_ns / KSL_LOWERBUS_TIME_UNIT_NS + 1;
    return bus->cfg.latency_ns + mix64(bus->cfg.seed ^ mix64(seq)) % steps * KSL_LOWERBUS_TIME_UNIT_NS;
}

/* Insert keeping the order by due time (after every entry due at the same time).  Lock held. */
static void insert_sorted(ksl_lowerbus *bus, const bus_entry *en)
{
    uint32_t at = bus->n;
    while (at > 0 && bus->ent[at - 1].due_ns > en->due_ns) {
        bus->ent[at] = bus->ent[at - 1];
        at--;
    }
    bus->ent[at] = *en;
    bus->n++;
}

static void remove_at(ksl_lowerbus *bus, uint32_t i)
{
    memmove(&bus->ent[i], &bus->ent[i + 1], (bus->n - i - 1) * sizeof bus->ent[0]);
    bus->n--;
}

/* Arm the timer for the earliest entry.  Lock held (DISPATCH). */
static void arm(ksl_lowerbus *bus, const char *file, int line)
{
    if (bus->n)
        ksl_timer_set(&bus->timer, (int64_t)(bus->ent[0].due_ns / KSL_LOWERBUS_TIME_UNIT_NS), 0, &bus->dpc, file,
                      line);
}

/* Complete one entry taken off the queue.  DISPATCH, in the DPC, no lock held. */
static void complete_entry(ksl_lowerbus *bus, const bus_entry *en)
{
    ksl_lowerbus_req *req = en->req;
    if (req->state != REQ_PENDING || req->gen != en->gen) {
        /* At the driver's submit call that put this entry on the bus (the one too many). */
        ksl_report(KSL_LOWERBUS_RULE_COMPLETED_TWICE, en->file, en->line,
                   "lower-bus request #%" PRIu32 " completed twice: submission %" PRIu32 " was %s when the bus completed it "
                   "again (it was submitted %" PRIu32 " times, the one completed here by the submit call at this "
                   "line; a request may be submitted again only after its completion routine ran)",
                   req->id, en->gen, req->state == REQ_PENDING ? "submitted again" : "already completed",
                   req->gen);
        return;
    }
    uint64_t now = ksl_time_now();
    if (en->cancelled) {
        req->status = KSL_STATUS_CANCELLED;
        req->transferred = 0;
    } else {
        ksl_frame_fill(KSL_LOWERBUS_MAGIC, bus->cfg.seed, en->frame_no, req->buffer, req->length);
        req->status = KSL_STATUS_SUCCESS;
        req->transferred = req->length;
    }
    req->frame_no = en->frame_no;
    req->state = REQ_DONE;
    ksl_spin_acquire_at_dpc(&bus->lock, __FILE__, __LINE__);
    bus->st.completed++;
    if (en->cancelled) {
        bus->st.cancelled++;
    } else {
        bus->st.bytes += req->length;
        uint64_t lat = now - en->submitted_ns;
        if (lat > bus->st.max_latency_ns)
            bus->st.max_latency_ns = lat;
        if (!bus->st.min_latency_ns || lat < bus->st.min_latency_ns)
            bus->st.min_latency_ns = lat;
    }
    ksl_spin_release_from_dpc(&bus->lock, __FILE__, __LINE__);
    req->done(req, req->context);
}

static void bus_dpc(ksl_dpc *dpc, void *context, void *arg1, void *arg2)
{
    (void)dpc;
    (void)arg1;
    (void)arg2;
    ksl_lowerbus *bus = context;
    ksl_spin_acquire_at_dpc(&bus->lock, __FILE__, __LINE__);
    while (bus->n && bus->ent[0].due_ns <= ksl_time_now()) {
        bus_entry en = bus->ent[0];
        remove_at(bus, 0);
        ksl_spin_release_from_dpc(&bus->lock, __FILE__, __LINE__);
        complete_entry(bus, &en);
        ksl_spin_acquire_at_dpc(&bus->lock, __FILE__, __LINE__);
    }
    arm(bus, __FILE__, __LINE__);
    ksl_spin_release_from_dpc(&bus->lock, __FILE__, __LINE__);
}

ksl_lowerbus *ksl_lowerbus_create(ksl_engine *e, const ksl_lowerbus_config *cfg, char *err, size_t errlen)
{
    ksl_lowerbus_config c;
    if (cfg)
        c = *cfg;
    else
        ksl_lowerbus_config_default(&c);
    if (!e) {
        snprintf(err, errlen, "lowerbus: no engine");
        return NULL;
    }
    if (!c.max_pending || c.max_pending > 4096) {
        snprintf(err, errlen, "lowerbus: max_pending %u is not in [1, 4096]", c.max_pending);
        return NULL;
    }
    ksl_lowerbus *bus = calloc(1, sizeof *bus);
    bus_entry *ent = calloc(c.max_pending, sizeof *ent);
    if (!bus || !ent) {
        free(bus);
        free(ent);
        snprintf(err, errlen, "lowerbus: out of memory");
        return NULL;
    }
    bus->e = e;
    bus->cfg = c;
    bus->ent = ent;
    ksl_spin_init(&bus->lock, "lower bus queue", __FILE__, __LINE__);
    ksl_timer_init(&bus->timer, false);
    ksl_dpc_init(&bus->dpc, bus_dpc, bus, "lower bus completion");
    return bus;
}

void ksl_lowerbus_destroy(ksl_lowerbus *bus)
{
    if (!bus)
        return;
    free(bus->ent);
    free(bus);
}

bool ksl_lowerbus_inject(ksl_lowerbus *bus, const char *fault, uint64_t arg)
{
    if (strcmp(fault, "slow-completion") != 0)
        return false;
    atomic_store(&bus->delay_next_ns, arg ? arg * 1000u : KSL_LOWERBUS_SLOW_NS);
    return true;
}

void ksl_lowerbus_get_stats(const ksl_lowerbus *bus, ksl_lowerbus_stats *out)
{
    *out = bus->st;
}

uint32_t ksl_lowerbus_pending(const ksl_lowerbus *bus)
{
    return bus->n;
}

ksl_lowerbus_req *ksl_lowerbus_req_alloc_at(ksl_lowerbus *bus, uint32_t capacity, const char *file, int line)
{
    ksl_lowerbus_req *req = ksl_pool_alloc(KSL_POOL_NONPAGED, sizeof *req + capacity, KSL_LOWERBUS_POOL_TAG, file,
                                           line);
    if (!req)
        return NULL;
    memset(req, 0, sizeof *req);
    req->buffer = req + 1;
    req->capacity = capacity;
    req->length = capacity;
    req->magic = REQ_LIVE;
    req->id = atomic_fetch_add(&bus->nreqs, 1) + 1;
    return req;
}

void ksl_lowerbus_req_free_at(ksl_lowerbus *bus, ksl_lowerbus_req *req, const char *file, int line)
{
    if (!req)
        return;
    uint8_t irql = ksl_spin_acquire(&bus->lock, file, line);
    /* Pending, or completed while a second submission is still on the bus: either way the bus
     * holds it. */
    bool pending = req->state == REQ_PENDING;
    for (uint32_t i = 0; i < bus->n;)
        if (bus->ent[i].req == req) {
            pending = true;
            remove_at(bus, i);
        } else {
            i++;
        }
    ksl_spin_release(&bus->lock, irql, file, line);
    if (pending) {
        ksl_report(KSL_LOWERBUS_RULE_FREED_PENDING, file, line,
                   "lower-bus request #%" PRIu32 " freed while pending (submission %" PRIu32 " not completed): the bus would "
                   "write its data into freed memory",
                   req->id, req->gen);
        return; /* the run stops; the request is left allocated rather than freed under the bus */
    }
    req->magic = REQ_DEAD;
    ksl_pool_free(req, KSL_LOWERBUS_POOL_TAG, file, line);
}

ksl_status ksl_lowerbus_submit_at(ksl_lowerbus *bus, ksl_lowerbus_req *req, const char *file, int line)
{
    ksl_require_irql(KSL_IRQL_PASSIVE, "ksl_lowerbus_submit", file, line);
    if (!req || req->magic != REQ_LIVE || !req->done || req->length < KSL_FRAME_MIN_BYTES ||
        req->length % KSL_FRAME_ALIGN || req->length > req->capacity) {
        uint8_t irql = ksl_spin_acquire(&bus->lock, file, line);
        bus->st.refused++;
        ksl_spin_release(&bus->lock, irql, file, line);
        return KSL_STATUS_INVALID_PARAMETER;
    }
    uint8_t irql = ksl_spin_acquire(&bus->lock, file, line);
    if (bus->n == bus->cfg.max_pending) {
        bus->st.refused++;
        ksl_spin_release(&bus->lock, irql, file, line);
        return KSL_STATUS_INSUFFICIENT_RESOURCES;
    }
    uint64_t now = ksl_time_now();
    bus_entry en = {req, 0, (uint32_t)bus->seq, now, 0, false, file, line};
    en.due_ns = round_up_unit(now + latency_of(bus, bus->seq) + atomic_exchange(&bus->delay_next_ns, 0));
    if (en.due_ns < bus->last_due_ns)
        en.due_ns = bus->last_due_ns;
    bus->last_due_ns = en.due_ns;
    bus->seq++;
    /* A request submitted again while pending keeps its submission number: the bus holds it twice
     * and its second completion is the finding. */
    if (req->state != REQ_PENDING) {
        req->gen++;
        req->state = REQ_PENDING;
        req->status = KSL_STATUS_PENDING;
        req->transferred = 0;
    }
    en.gen = req->gen;
    insert_sorted(bus, &en);
    bus->st.submitted++;
    if (bus->ent[0].req == req && bus->ent[0].gen == en.gen && bus->ent[0].due_ns == en.due_ns)
        arm(bus, file, line);
    ksl_spin_release(&bus->lock, irql, file, line);
    return KSL_STATUS_PENDING;
}

bool ksl_lowerbus_cancel_at(ksl_lowerbus *bus, ksl_lowerbus_req *req, const char *file, int line)
{
    uint8_t irql = ksl_spin_acquire(&bus->lock, file, line);
    bool found = false;
    for (uint32_t i = 0; i < bus->n; i++) {
        if (bus->ent[i].req != req || bus->ent[i].gen != req->gen || bus->ent[i].cancelled)
            continue;
        bus_entry en = bus->ent[i];
        remove_at(bus, i);
        en.cancelled = true;
        en.due_ns = round_up_unit(ksl_time_now());
        /* Due now: ahead of everything due later (the order by due time stays). */
        insert_sorted(bus, &en);
        found = true;
        break;
    }
    if (found)
        arm(bus, file, line);
    ksl_spin_release(&bus->lock, irql, file, line);
    return found;
}
