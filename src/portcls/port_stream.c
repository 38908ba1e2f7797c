/* SPDX-License-Identifier: MIT */
/*
 * IPortWavePciStream: the port's side of one stream.  IRPs queue in submission order; each is cut
 * into mappings at page boundaries; GetMapping hands them out in order, ReleaseMapping takes them
 * back in the same order, and an IRP completes when the last of its mappings is back.  Cancelling
 * an IRP, or STOP, makes the port call the miniport's RevokeMappings for the run of the IRP's
 * mappings the miniport holds, at DISPATCH_LEVEL, holding the stream lock (as PortCls does).
 *
 * Revoke racing release (rule W6): a mapping the miniport has already taken off its queue, and is
 * about to release, is not in its revoke count.  Those are the oldest of the run, so the port
 * keeps the first (held - revoked) of the run "held, release due" and revokes the rest.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "../util/path.h"

#define LOCK_FILE __FILE__

static pcl_stream *stream_of(IPortWavePciStream *This)
{
    return ((pcl_port_stream *)This)->s;
}

static void stat_add(pcl_stream *s, uint64_t *field, uint64_t v)
{
    pthread_mutex_lock(&s->f->ledger.mu);
    *field += v;
    pthread_mutex_unlock(&s->f->ledger.mu);
}

/* ---- the held FIFO ------------------------------------------------------------------------ */

static pcl_mapping *held_at(const pcl_stream *s, uint32_t i)
{
    return s->held[(s->held_head + i) % s->held_cap];
}

static bool held_push(pcl_stream *s, pcl_mapping *m)
{
    if (s->held_count == s->held_cap) {
        uint32_t cap = s->held_cap ? s->held_cap * 2 : 64;
        pcl_mapping **n = malloc(cap * sizeof *n);
        if (!n)
            return false;
        for (uint32_t i = 0; i < s->held_count; i++)
            n[i] = held_at(s, i);
        free(s->held);
        s->held = n;
        s->held_head = 0;
        s->held_cap = cap;
    }
    s->held[(s->held_head + s->held_count++) % s->held_cap] = m;
    return true;
}

static void held_remove(pcl_stream *s, uint32_t i)
{
    for (uint32_t k = i; k + 1 < s->held_count; k++)
        s->held[(s->held_head + k) % s->held_cap] = held_at(s, k + 1);
    s->held_count--;
}

static int held_find(const pcl_stream *s, void *tag)
{
    for (uint32_t i = 0; i < s->held_count; i++)
        if (held_at(s, i)->tag == tag)
            return (int)i;
    return -1;
}

/* The running context, at driver line file:line, ends the miniport's right to `m`. */
static void gone(pcl_mapping *m, const char *file, int line)
{
    snprintf(m->gone_by, sizeof m->gone_by, "%s", ksl_context_name());
    m->gone_file = file;
    m->gone_line = line;
}

/* `m` leaves the miniport, taken back by the running context, whose driver line is file:line. */
static void retire(pcl_stream *s, pcl_mapping *m, pcl_map_state state, const char *file, int line)
{
    ksl__pcl_ledger_set(&s->f->ledger, m, state);
    m->irp->held--;
    uint32_t slot = s->nretired++ % (uint32_t)(sizeof s->retired / sizeof s->retired[0]);
    s->retired[slot].tag = m->tag;
    s->retired[slot].state = (uint8_t)state;
    s->retired[slot].irp_id = m->irp->id;
    snprintf(s->retired[slot].by, sizeof s->retired[slot].by, "%s", ksl_context_name());
    s->retired[slot].by_file = file;
    s->retired[slot].by_line = line;
    gone(m, file, line);
}

/* The most recent retired mapping with this tag, or -1. */
static int retired_find(const pcl_stream *s, void *tag)
{
    uint32_t n = (uint32_t)(sizeof s->retired / sizeof s->retired[0]);
    uint32_t have = s->nretired < n ? s->nretired : n;
    for (uint32_t k = 1; k <= have; k++) {
        uint32_t slot = (s->nretired - k) % n;
        if (s->retired[slot].tag == tag)
            return (int)slot;
    }
    return -1;
}

/* ---- completion --------------------------------------------------------------------------- */

/* Under the stream lock: take the IRP off the queue if nothing more can happen to it.  True when
 * the caller now owns its completion (on the normal path, only if claim_completion says so). */
static bool try_finish(pcl_stream *s, pcl_irp *p)
{
    (void)s;
    if (p->finishing || p->held || (!p->cancelled && p->next < p->limit))
        return false;
    p->finishing = true;
    p->queued = false;
    RemoveEntryList(&p->link);
    return true;
}

/* Complete an IRP taken off the queue, whose cancel routine can no longer run.  Not under the
 * stream lock.  IRQL <= DISPATCH. */
static void finalize(pcl_stream *s, pcl_irp *p)
{
    uint32_t moved = 0;
    pthread_mutex_lock(&s->f->ledger.mu);
    for (uint32_t i = 0; i < p->nmaps; i++)
        moved += p->maps[i].dma_bytes;
    ksl_wavepci_stats *st = &s->f->ledger.st;
    if (p->cancelled)
        st->irps_cancelled++;
    else
        st->irps_completed++;
    st->bytes_cancelled += p->len - moved;
    pthread_mutex_unlock(&s->f->ledger.mu);
    p->irp->IoStatus.Status = p->cancelled ? STATUS_CANCELLED : STATUS_SUCCESS;
    p->irp->IoStatus.Information = moved;
    p->completed = true;
    IoCompleteRequest(p->irp, IO_NO_INCREMENT);
    KeSetEvent(&p->done, IO_NO_INCREMENT, FALSE);
}

/* Under the stream lock, for an IRP try_finish just took off the queue on the normal path: does
 * this path complete it (then with finalize, after dropping the lock)?  Not if IoCancelIrp has
 * already taken its cancel routine: that routine finds the IRP finishing and completes it.  This
 * must be decided before the lock is dropped: from then on the cancel routine may complete the
 * IRP and its owner free it (and `p` with it) at any moment. */
static bool claim_completion(pcl_irp *p)
{
    return p->cancelled || IoSetCancelRoutine(p->irp, NULL) != NULL;
}

/* ---- revocation --------------------------------------------------------------------------- */

/* Under the stream lock, at DISPATCH: stop handing out `p`'s mappings and revoke the ones the
 * miniport holds. */
static void revoke_irp(pcl_stream *s, pcl_irp *p)
{
    for (uint32_t i = p->next; i < p->nmaps; i++)
        ksl__pcl_ledger_set(&s->f->ledger, &p->maps[i], MAP_DROPPED);
    p->limit = p->next;
    pcl_mapping *first = NULL, *last = NULL;
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->held_count; i++) {
        pcl_mapping *m = held_at(s, i);
        if (m->irp != p || m->expect_release)
            continue;
        if (!first)
            first = m;
        last = m;
        k++;
    }
    if (!k)
        return;
    ULONG n = 0;
    if (ksl_span_open_elsewhere(KSL_SPAN_WP_GETMAPPING_GAP, s))
        ksl_window_hit(KSL_WIN_WP_REVOKE_IN_GETMAPPING_GAP);
    if (ksl_span_open_elsewhere(KSL_SPAN_WP_RELEASE, s))
        ksl_window_hit(KSL_WIN_WP_REVOKE_IN_RELEASE);
    stat_add(s, &s->f->ledger.st.revoke_calls, 1);
    ksl_trace_note("IMiniportWavePciStream::RevokeMappings", __FILE__, __LINE__);
    s->mini->lpVtbl->RevokeMappings(s->mini, first->tag, last->tag, &n);
    const char *rfile = NULL; /* the miniport's RevokeMappings: its latest line */
    int rline = 0;
    ksl_driver_site(&rfile, &rline);
    if (n > k) {
        ksl_report("W1.revoke-count-wrong", NULL, 0,
                   "RevokeMappings(%p, %p) reported %lu mappings revoked, but the miniport held only %u in that range",
                   first->tag, last->tag, (unsigned long)n, k);
        n = k;
    }
    /* The first k - n of the run are on their way back through ReleaseMapping. */
    uint32_t keep = k - (uint32_t)n, seen = 0;
    for (uint32_t i = 0; i < s->held_count;) {
        pcl_mapping *m = held_at(s, i);
        if (m->irp != p || m->expect_release) {
            i++;
            continue;
        }
        if (seen++ < keep) {
            m->expect_release = 1;
            gone(m, rfile, rline); /* the device may no longer move its data */
            i++;
            continue;
        }
        held_remove(s, i);
        retire(s, m, MAP_REVOKED, rfile, rline);
    }
}

static void cancel_routine(PDEVICE_OBJECT device, PIRP irp)
{
    (void)device;
    IoReleaseCancelSpinLock(irp->CancelIrql);
    pcl_irp *p = irp->Tail.Overlay.DriverContext[0];
    pcl_stream *s = p->s;
    KIRQL old;
    bool fin;
    if (ksl_span_open_elsewhere(KSL_SPAN_WP_SERVICE, s))
        ksl_window_hit(KSL_WIN_WP_CANCEL_IN_SERVICE);
    KeAcquireSpinLock(&s->lock, &old);
    if (s->held_count == 0 && atomic_load(&s->state) == KSSTATE_RUN)
        ksl_window_hit(KSL_WIN_WP_CANCEL_RING_DRY);
    if (p->finishing) {
        fin = true; /* every mapping came back first: it completes with its data */
    } else {
        p->cancelled = true;
        revoke_irp(s, p);
        fin = try_finish(s, p);
    }
    KeReleaseSpinLock(&s->lock, old);
    if (fin)
        finalize(s, p);
}

/* ---- IPortWavePciStream ------------------------------------------------------------------- */

static NTSTATUS ps_query_interface(IPortWavePciStream *This, REFIID iid, PVOID *out)
{
    if (IsEqualGUID(iid, &IID_IUnknown) || IsEqualGUID(iid, &IID_IPortWavePciStream)) {
        *out = This;
        return STATUS_SUCCESS;
    }
    *out = NULL;
    return STATUS_NOINTERFACE;
}

static ULONG ps_add_ref(IPortWavePciStream *This)
{
    (void)This;
    return 1; /* owned by the pin */
}

static ULONG ps_release(IPortWavePciStream *This)
{
    (void)This;
    return 1;
}

static void site(const char **file, int *line, const char *fallback)
{
    ksl__pcl_take_site(file, line);
    if (!*file) {
        *file = fallback;
        *line = 0;
    }
}

/* Rule W3: the miniport holds none of its spin locks while it calls the port.  Reported at the
 * call, whether or not a deadlock would follow.  The stream's own lock is left to the kernel
 * checks (a call back into the port from RevokeMappings is a recursive acquire). */
static void check_no_miniport_lock(const pcl_stream *s, const char *call, const char *file, int line)
{
    const ksl_spinlock *held[8];
    uint32_t n = ksl_held_spinlocks(held, 8);
    for (uint32_t i = n < 8 ? n : 8; i-- > 0;) {
        const ksl_spinlock *l = held[i];
        if (l == &s->lock)
            continue;
        ksl_report_continue("W3.lock-held-across-port-call", file, line,
                   "%s called holding spin lock '%s' (acquired at %s:%d); the port may call back into the miniport "
                   "(RevokeMappings) holding its own lock, and the two orders deadlock",
                   call, l->name ? l->name : "?", l->acq_file ? l->acq_file : "?", l->acq_line);
        return;
    }
}

static NTSTATUS ps_get_mapping(IPortWavePciStream *This, PVOID Tag, PPHYSICAL_ADDRESS PhysicalAddress,
                               PVOID *VirtualAddress, PULONG ByteCount, PULONG Flags)
{
    const char *file;
    int line;
    site(&file, &line, LOCK_FILE);
    ksl_trace_note("IPortWavePciStream::GetMapping", file, line);
    ksl_require_irql(DISPATCH_LEVEL, "IPortWavePciStream::GetMapping", file, line);
    if (!PhysicalAddress || !VirtualAddress || !ByteCount || !Flags)
        return STATUS_INVALID_PARAMETER;
    pcl_stream *s = stream_of(This);
    check_no_miniport_lock(s, "IPortWavePciStream::GetMapping", file, line);
    KIRQL old;
    KeAcquireSpinLock(&s->lock, &old);
    if (held_find(s, Tag) >= 0) {
        ksl_report("W4.tag-reused", file, line,
                   "GetMapping with tag %p, which the miniport still holds: a slot reused while still queued", Tag);
        KeReleaseSpinLock(&s->lock, old);
        return STATUS_INVALID_PARAMETER;
    }
    pcl_irp *p = NULL;
    for (PLIST_ENTRY e = s->irps.Flink; e != &s->irps; e = e->Flink) {
        pcl_irp *q = CONTAINING_RECORD(e, pcl_irp, link);
        if (!q->cancelled && q->next < q->limit) {
            p = q;
            break;
        }
    }
    if (!p) {
        s->out_of_mappings = true;
        KeReleaseSpinLock(&s->lock, old);
        stat_add(s, &s->f->ledger.st.get_refused, 1);
        return STATUS_NOT_FOUND;
    }
    pcl_mapping *m = &p->maps[p->next++];
    if (!held_push(s, m)) {
        p->next--;
        KeReleaseSpinLock(&s->lock, old);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    m->tag = Tag;
    m->seq = s->next_seq++;
    m->get_file = file;
    m->get_line = line;
    p->held++;
    ksl__pcl_ledger_set(&s->f->ledger, m, MAP_HELD);
    PhysicalAddress->QuadPart = (LONGLONG)m->pa;
    *VirtualAddress = p->buf + m->offset;
    *ByteCount = m->len;
    *Flags = m->index + 1 == p->nmaps ? 1u : 0u;
    KeReleaseSpinLock(&s->lock, old);
    ksl_span_open(KSL_SPAN_WP_GETMAPPING_GAP, s, 0, KSL_SPAN_UNTIL_LOCK);
    ksl__pcl_event(s, KSL_WP_EV_GETMAPPING);
    return STATUS_SUCCESS;
}

static NTSTATUS release_mapping(IPortWavePciStream *This, PVOID Tag, const char *file, int line)
{
    ksl_trace_note("IPortWavePciStream::ReleaseMapping", file, line);
    ksl_require_irql(DISPATCH_LEVEL, "IPortWavePciStream::ReleaseMapping", file, line);
    pcl_stream *s = stream_of(This);
    check_no_miniport_lock(s, "IPortWavePciStream::ReleaseMapping", file, line);
    KIRQL old;
    KeAcquireSpinLock(&s->lock, &old);
    int i = held_find(s, Tag);
    if (i < 0) {
        int r = retired_find(s, Tag);
        if (r >= 0 && s->retired[r].state == MAP_REVOKED) {
            if (s->retired[r].by_file) { /* the race's other side: the revoke in the miniport */
                ksl_report_involves(s->retired[r].by);
                ksl_report_racing(s->retired[r].by, s->retired[r].by_file, s->retired[r].by_line);
            }
            ksl_report("W6.removed-twice", file, line,
                       "ReleaseMapping(%p): that mapping (IRP #%" PRIu64 ") was already taken back by RevokeMappings "
                       "(in %s, at %s:%d): revoke and release both removed it",
                       Tag, s->retired[r].irp_id, s->retired[r].by, ksl__base_name(s->retired[r].by_file),
                       s->retired[r].by_line);
        } else if (r >= 0) {
            ksl_report("W1.double-release", file, line,
                       "ReleaseMapping(%p): that mapping (IRP #%" PRIu64 ") was already released (by %s at %s:%d)", Tag,
                       s->retired[r].irp_id, s->retired[r].by, ksl__base_name(s->retired[r].by_file), s->retired[r].by_line);
        }
        else
            ksl_report("W1.release-unknown-tag", file, line,
                       "ReleaseMapping(%p): no mapping with that tag was handed out", Tag);
        KeReleaseSpinLock(&s->lock, old);
        return STATUS_INVALID_PARAMETER;
    }
    if (i != 0) {
        ksl_report("W1.release-out-of-order", file, line,
                   "ReleaseMapping(%p) while %p, acquired earlier, is still held: mappings must be released in "
                   "the order they were acquired",
                   Tag, held_at(s, 0)->tag);
        KeReleaseSpinLock(&s->lock, old);
        return STATUS_INVALID_PARAMETER;
    }
    pcl_mapping *m = held_at(s, 0);
    if (m->dma_bytes < m->len && !m->expect_release)
        ksl_report("W4.data-mismatch", file, line,
                   "ReleaseMapping(%p) after the device moved only %u of its %u bytes: audio %s", Tag, m->dma_bytes,
                   m->len, s->capture ? "would be left uncaptured" : "would be skipped");
    held_remove(s, 0);
    retire(s, m, MAP_RELEASED, file, line);
    pcl_irp *p = m->irp;
    bool fin = try_finish(s, p) && claim_completion(p);
    KeReleaseSpinLock(&s->lock, old);
    if (fin)
        finalize(s, p);
    return STATUS_SUCCESS;
}

static NTSTATUS ps_release_mapping(IPortWavePciStream *This, PVOID Tag)
{
    const char *file;
    int line;
    site(&file, &line, LOCK_FILE);
    pcl_stream *s = stream_of(This);
    if (ksl_span_open_elsewhere(KSL_SPAN_WP_RELEASING, s))
        ksl_window_hit(KSL_WIN_WP_TWO_DRAINERS);
    ksl_span_open(KSL_SPAN_WP_RELEASING, s, 0, 0); /* until the port call it is part of returns */
    uint32_t span = ksl_span_open(KSL_SPAN_WP_RELEASE, s, 0, 0);
    ksl__pcl_event(s, KSL_WP_EV_RELEASE);
    NTSTATUS st = release_mapping(This, Tag, file, line);
    ksl_span_close(span);
    return st;
}

static NTSTATUS ps_terminate_packet(IPortWavePciStream *This)
{
    const char *file;
    int line;
    site(&file, &line, LOCK_FILE);
    ksl_trace_note("IPortWavePciStream::TerminatePacket", file, line);
    ksl_require_irql(DISPATCH_LEVEL, "IPortWavePciStream::TerminatePacket", file, line);
    pcl_stream *s = stream_of(This);
    check_no_miniport_lock(s, "IPortWavePciStream::TerminatePacket", file, line);
    stat_add(s, &s->f->ledger.st.terminate_calls, 1);
    KIRQL old;
    KeAcquireSpinLock(&s->lock, &old);
    pcl_irp *fin = NULL;
    for (PLIST_ENTRY e = s->irps.Flink; e != &s->irps; e = e->Flink) {
        pcl_irp *q = CONTAINING_RECORD(e, pcl_irp, link);
        if (q->cancelled || q->next == 0 || q->next == q->limit)
            continue;
        /* the packet being mapped: hand out nothing more of it */
        for (uint32_t i = q->next; i < q->nmaps; i++)
            ksl__pcl_ledger_set(&s->f->ledger, &q->maps[i], MAP_DROPPED);
        q->limit = q->next;
        if (try_finish(s, q) && claim_completion(q))
            fin = q;
        break;
    }
    KeReleaseSpinLock(&s->lock, old);
    if (fin)
        finalize(s, fin);
    return STATUS_SUCCESS;
}

static const IPortWavePciStreamVtbl port_stream_vtbl = {ps_query_interface, ps_add_ref,         ps_release,
                                                        ps_get_mapping,     ps_release_mapping, ps_terminate_packet};

/* ---- the service sink --------------------------------------------------------------------- */

static NTSTATUS sink_query_interface(IServiceSink *This, REFIID iid, PVOID *out)
{
    if (IsEqualGUID(iid, &IID_IUnknown) || IsEqualGUID(iid, &IID_IServiceSink)) {
        *out = This;
        return STATUS_SUCCESS;
    }
    *out = NULL;
    return STATUS_NOINTERFACE;
}

static ULONG sink_add_ref(IServiceSink *This)
{
    return (ULONG)(atomic_fetch_add(&((pcl_sink *)This)->refs, 1) + 1);
}

static ULONG sink_release(IServiceSink *This)
{
    pcl_sink *k = (pcl_sink *)This;
    int left = atomic_fetch_sub(&k->refs, 1) - 1;
    if (left == 0 && k->final)
        k->final(k->ctx);
    return (ULONG)left;
}

void ksl__pcl_sink_release(pcl_sink *k)
{
    sink_release(&k->iface);
}

static void sink_request_service(IServiceSink *This)
{
    pcl_sink *k = (pcl_sink *)This;
    k->service(k->ctx);
}

static const IServiceSinkVtbl sink_vtbl = {sink_query_interface, sink_add_ref, sink_release, sink_request_service};

void ksl__pcl_sink_init(pcl_sink *k, void (*service)(void *ctx), void (*final)(void *ctx), void *ctx)
{
    k->iface.lpVtbl = &sink_vtbl;
    k->service = service;
    k->final = final;
    k->ctx = ctx;
    atomic_store(&k->refs, 1);
}

void ksl__pcl_stream_service(void *ctx)
{
    pcl_stream *s = ctx;
    /* Announce the call before looking at `closed`: close sets `closed` before it waits for
     * in_service to drain, so one of the two sees the other. */
    atomic_fetch_add(&s->in_service, 1);
    /* As on Windows XP and later: only streams in RUN are serviced. */
    if (!atomic_load(&s->closed) && atomic_load(&s->state) == KSSTATE_RUN) {
        ksl_trace_note("IMiniportWavePciStream::Service", __FILE__, __LINE__);
        uint32_t span = ksl__pcl_drain_enter(s, true);
        ksl__pcl_event(s, KSL_WP_EV_SERVICE);
        s->mini->lpVtbl->Service(s->mini);
        ksl__pcl_drain_leave(s, span);
    }
    atomic_fetch_sub(&s->in_service, 1);
}

uint32_t ksl__pcl_drain_enter(pcl_stream *s, bool service)
{
    if (ksl_span_open_elsewhere(KSL_SPAN_WP_RELEASING, s))
        ksl_window_hit(KSL_WIN_WP_TWO_DRAINERS);
    if (!service)
        return 0;
    return ksl_span_open(KSL_SPAN_WP_SERVICE, s, KSL_WIN_WP_ISR_DURING_SERVICE + 1, KSL_SPAN_ISR_OTHER_CPU);
}

void ksl__pcl_event(pcl_stream *s, ksl_wavepci_event ev)
{
    if (s->f->event_fn)
        s->f->event_fn(s->f->event_user, s, ev);
}

void ksl_wavepci_set_event_hook(ksl_wavepci_filter *f, ksl_wavepci_event_fn *fn, void *user)
{
    f->event_fn = fn;
    f->event_user = user;
}

void ksl__pcl_drain_leave(pcl_stream *s, uint32_t span)
{
    ksl_span_close(span);
    ksl_span_close_mine(KSL_SPAN_WP_RELEASING, s);
}

/* The last reference to the stream's sink: nothing can call into the stream any more. */
static void stream_free(void *ctx)
{
    pcl_stream *s = ctx;
    free(s->held);
    free(s);
}

static void timer_dpc(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    (void)dpc;
    (void)a1;
    (void)a2;
    ksl__pcl_stream_service(ctx);
}

NTSTATUS ksl__pcl_stream_init(pcl_stream *s, ksl_wavepci_filter *f, bool capture, uint32_t block_align)
{
    memset(s, 0, sizeof *s);
    s->f = f;
    s->capture = capture;
    s->block_align = block_align;
    s->port_stream.iface.lpVtbl = &port_stream_vtbl;
    s->port_stream.s = s;
    ksl__pcl_sink_init(&s->sink, ksl__pcl_stream_service, stream_free, s);
    ksl_spin_init(&s->lock, "WavePci port stream lock", __FILE__, __LINE__);
    InitializeListHead(&s->irps);
    atomic_store(&s->state, KSSTATE_STOP);
    KeInitializeTimer(&s->timer);
    ksl_dpc_init(&s->timer_dpc, timer_dpc, s, "WavePci port timer");
    return STATUS_SUCCESS;
}

/* ---- client side -------------------------------------------------------------------------- */

PIRP ksl_wavepci_irp_alloc(ksl_wavepci_pin *s, uint32_t bytes)
{
    ksl_require_irql(PASSIVE_LEVEL, "ksl_wavepci_irp_alloc", __FILE__, __LINE__);
    ksl_wavepci_filter *f = s->f;
    pcl_irp *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    uint32_t off = f->buffer_offset;
    p->nmaps = bytes ? (uint32_t)((off + (uint64_t)bytes + KSL_PAGE_SIZE - 1) / KSL_PAGE_SIZE) : 0;
    p->maps = calloc(p->nmaps ? p->nmaps : 1, sizeof *p->maps);
    p->irp = p->maps ? IoAllocateIrp(1, FALSE) : NULL;
    if (!p->irp || ksl__pcl_ledger_add(&f->ledger, p) != 0) {
        if (p->irp)
            IoFreeIrp(p->irp);
        free(p->maps);
        free(p);
        return NULL;
    }
    p->buf = ksl_physmem_alloc(f->pm, bytes ? bytes : 4u, off, false, p->id); /* a packet with no data
                                                                                * still has a buffer */
    if (!p->buf) {
        ksl__pcl_ledger_remove(&f->ledger, p);
        IoFreeIrp(p->irp);
        free(p->maps);
        free(p);
        return NULL;
    }
    p->s = s;
    p->len = bytes;
    p->limit = p->nmaps;
    for (uint32_t i = 0, at = 0; i < p->nmaps; i++) {
        uint32_t room = KSL_PAGE_SIZE - (i == 0 ? off : 0);
        uint32_t n = bytes - at < room ? bytes - at : room;
        p->maps[i] = (pcl_mapping){.irp = p, .index = i, .offset = at, .len = n,
                                   .pa = ksl_physmem_pa(f->pm, p->buf + at)};
        at += n;
    }
    KeInitializeEvent(&p->done, NotificationEvent, FALSE);
    p->irp->UserBuffer = p->buf;
    p->irp->Tail.Overlay.DriverContext[0] = p;
    p->irp->ksl_device = &f->device;
    return p->irp;
}

static pcl_irp *irp_rec(PIRP irp)
{
    return irp ? irp->Tail.Overlay.DriverContext[0] : NULL;
}

void ksl_wavepci_irp_free(ksl_wavepci_pin *s, PIRP irp)
{
    pcl_irp *p = irp_rec(irp);
    if (!p)
        return;
    if (p->queued) {
        ksl_report("K.driver-assert", __FILE__, __LINE__, "ksl_wavepci_irp_free of IRP #%" PRIu64 " still queued",
                   p->id);
        return;
    }
    IoFreeIrp(p->irp);
    ksl__pcl_irp_destroy(s->f, p);
}

void ksl__pcl_irp_destroy(ksl_wavepci_filter *f, pcl_irp *p)
{
    ksl__pcl_ledger_remove(&f->ledger, p);
    ksl_physmem_free(f->pm, p->buf);
    free(p->maps);
    free(p);
}

NTSTATUS ksl_wavepci_submit(ksl_wavepci_pin *s, PIRP irp)
{
    ksl_require_irql(DISPATCH_LEVEL, "ksl_wavepci_submit", __FILE__, __LINE__);
    pcl_irp *p = irp_rec(irp);
    if (!p || p->s != s || p->queued || p->completed || p->finishing)
        return STATUS_INVALID_PARAMETER;
    /* The state is read under the stream lock: set_state stores STOP before ksl__pcl_stream_stop
     * takes the lock to cancel the queue, so an IRP is either refused here or queued in time for
     * that sweep.  Read before the lock, a STOP could complete in between and leave the IRP
     * queued in STOP, where nothing would ever complete it. */
    KIRQL old;
    KeAcquireSpinLock(&s->lock, &old);
    if (atomic_load(&s->state) == KSSTATE_STOP) {
        KeReleaseSpinLock(&s->lock, old);
        return STATUS_INVALID_DEVICE_STATE;
    }
    stat_add(s, &s->f->ledger.st.irps_submitted, 1);
    stat_add(s, &s->f->ledger.st.bytes_submitted, p->len);
    IoMarkIrpPending(irp);
    if (!p->nmaps) {
        /* no data: nothing to map, it completes at once */
        p->finishing = true;
        KeReleaseSpinLock(&s->lock, old);
        finalize(s, p);
        return STATUS_PENDING;
    }
    IoSetCancelRoutine(irp, cancel_routine);
    if (irp->Cancel && IoSetCancelRoutine(irp, NULL) != NULL) {
        /* cancelled before it was queued: nothing was handed out */
        p->cancelled = true;
        p->finishing = true;
        for (uint32_t i = 0; i < p->nmaps; i++)
            ksl__pcl_ledger_set(&s->f->ledger, &p->maps[i], MAP_DROPPED);
        KeReleaseSpinLock(&s->lock, old);
        finalize(s, p);
        return STATUS_PENDING;
    }
    InsertTailList(&s->irps, &p->link);
    p->queued = true;
    p->seq = ++s->queued;
    bool notify = s->out_of_mappings;
    s->out_of_mappings = false;
    KeReleaseSpinLock(&s->lock, old);
    ksl__pcl_event(s, KSL_WP_EV_QUEUED);
    if (notify) {
        stat_add(s, &s->f->ledger.st.mapping_available_calls, 1);
        uint32_t span = ksl__pcl_drain_enter(s, false);
        s->mini->lpVtbl->MappingAvailable(s->mini);
        ksl__pcl_drain_leave(s, span);
    }
    return STATUS_PENDING;
}

NTSTATUS ksl_wavepci_wait(PIRP irp)
{
    pcl_irp *p = irp_rec(irp);
    if (!p)
        return STATUS_INVALID_PARAMETER;
    KeWaitForSingleObject(&p->done, Executive, KernelMode, FALSE, NULL);
    return irp->IoStatus.Status;
}

NTSTATUS ksl_wavepci_wait_for(PIRP irp, int64_t timeout_100ns)
{
    pcl_irp *p = irp_rec(irp);
    if (!p || timeout_100ns <= 0)
        return STATUS_INVALID_PARAMETER;
    LARGE_INTEGER t = {.QuadPart = -timeout_100ns};
    if (KeWaitForSingleObject(&p->done, Executive, KernelMode, FALSE, &t) == STATUS_TIMEOUT)
        return STATUS_TIMEOUT;
    return irp->IoStatus.Status;
}

bool ksl_wavepci_irp_done(PIRP irp)
{
    pcl_irp *p = irp_rec(irp);
    return p && ksl_event_read(&p->done) != 0;
}

uint64_t ksl_wavepci_irp_sequence(PIRP irp)
{
    pcl_irp *p = irp_rec(irp);
    return p ? p->seq : 0;
}

uint32_t ksl_wavepci_irp_transferred(PIRP irp)
{
    pcl_irp *p = irp_rec(irp);
    if (!p)
        return 0;
    pthread_mutex_lock(&p->s->f->ledger.mu);
    uint32_t moved = 0;
    for (uint32_t i = 0; i < p->nmaps; i++)
        moved += p->maps[i].dma_bytes;
    pthread_mutex_unlock(&p->s->f->ledger.mu);
    return moved;
}

void ksl__pcl_stream_stop(pcl_stream *s)
{
    KIRQL old;
    KeAcquireSpinLock(&s->lock, &old);
    LIST_ENTRY done;
    InitializeListHead(&done);
    for (PLIST_ENTRY e = s->irps.Flink; e != &s->irps;) {
        pcl_irp *p = CONTAINING_RECORD(e, pcl_irp, link);
        e = e->Flink;
        if (p->cancelled || IoSetCancelRoutine(p->irp, NULL) == NULL)
            continue; /* its cancel routine runs, or ran: it completes the IRP */
        p->cancelled = true;
        revoke_irp(s, p);
        if (try_finish(s, p))
            InsertTailList(&done, &p->link);
    }
    s->out_of_mappings = false;
    KeReleaseSpinLock(&s->lock, old);
    while (!IsListEmpty(&done)) {
        pcl_irp *p = CONTAINING_RECORD(RemoveHeadList(&done), pcl_irp, link);
        finalize(s, p);
    }
}
