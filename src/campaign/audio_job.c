/* SPDX-License-Identifier: MIT */
/* One audio job end to end (see audio_job.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/wdk/wdm.h>

#include "audio_job.h"
#include "faults.h"
#include "job_client.h"
#include "job_run.h"

/* Where the device sits in the port space, and its interrupt. */
#define JOB_PORT_BASE 0xE000u
#define JOB_IRQ_LINE 5u
#define JOB_DIRQL 5u
#define JOB_MEMORY (64u << 20)
#define JOB_PAUSE_MS 1
#define DUPLEX_SKEW_US 150 /* the capture pin of a duplex run starts this close after playback */
#define STOP_GRACE_100NS (100 * 10000) /* 100 ms: how long IRPs may take to leave after STOP */
#define STOP_RETRY_100NS 1000           /* 100 us: a submission refused in STOP is tried again */

typedef struct irp_rec {
    PIRP irp;
    size_t offset;      /* of its data within IN */
    uint32_t len;
    int32_t status;
    uint32_t info;
    bool cancel;        /* picked for cancellation */
    bool submitted;
    uint64_t seq;       /* its place in the pin's queue (ksl_wavepci_irp_sequence) */
    KEVENT cancel_done; /* the canceller is finished with it */
} irp_rec;

/* The duplex run's capture pin (shape.duplex): its own client thread, IRPs of the main pin's
 * length, its data checked against the microphone's tape. */
typedef struct dup_state {
    ksl_wavepci_pin *pin;
    irp_rec *recs;
    uint32_t n;
    ksl_capture_sink captured;
    KEVENT done;                /* the capture pin is closed (or never opened) */
    bool opened;
} dup_state;

typedef struct job_state {
    const audio_job *job;
    audio_result *res;
    ksl_wavepci_filter *f;
    ksl_wavepci_pin *pin;
    const uint8_t *in;
    size_t in_len;
    uint32_t irp_bytes;
    irp_rec *recs;
    uint32_t nrecs;
    ksl_capture_sink captured;  /* capture: the IRPs' data, in order */
    ksl_pcm_sink captured_sink;
    ksl__job_client cl; /* the canceller, the pauser, the state lock */
    bool pin_open;
    bool stopped;       /* stop_after_irps: the pin went to STOP; the pauser leaves it there */
    bool format_refused;        /* a seeded format the pin refused (shape.seeded_format) */
    char client_err[400];
    WAVEFORMATEX format;
    KEVENT started;     /* the filter is started (or failed: f_ok false) */
    KEVENT running;     /* the pin is being set to RUN, or will not be */
    bool f_ok;
    dup_state dup;
    volatile LONG taken;        /* shape.submitters: IRPs the feeders have taken, in turn */
    ksl__faults *faults;        /* shape.faults: told of every completed IRP */
    KEVENT feeder_done;         /* the second feeder is finished (or never ran) */
} job_state;

/* The client's set_state (its lock held): the pin's state, unless it is closed or stopped for
 * good. */
static void pin_state(void *job, KSSTATE to)
{
    job_state *js = job;
    if (js->pin_open && !js->stopped)
        ksl_wavepci_set_state(js->pin, to);
}

/* The client's power change (its lock held): D3 or back to D0, once the filter is started. */
static void filter_power(void *job, bool on)
{
    job_state *js = job;
    if (js->f_ok)
        ksl_wavepci_set_power(js->f, on ? PowerDeviceD0 : PowerDeviceD3);
}

/* Stop the filter under the client's lock: a power change of the pauser's is not half done. */
static void stop_filter(job_state *js)
{
    ksl__client_lock(&js->cl);
    js->f_ok = false;
    ksl__client_unlock(&js->cl);
    ksl_wavepci_stop(js->f);
}

/* The client's cancel: IRP `i`, and say the canceller is done with it. */
static void cancel_irp(void *job, uint32_t i)
{
    job_state *js = job;
    IoCancelIrp(js->recs[i].irp);
    KeSetEvent(&js->recs[i].cancel_done, IO_NO_INCREMENT, FALSE);
}

static void set_state(job_state *js, KSSTATE to)
{
    ksl__client_set_state(&js->cl, to);
}

/* stop_after_irps: step the pin down to STOP (the port cancels what is still queued). */
static void stop_pin(job_state *js)
{
    ksl__client_lock(&js->cl);
    while (ksl_wavepci_get_state(js->pin) != KSSTATE_STOP)
        if (!NT_SUCCESS(ksl_wavepci_set_state(js->pin, (KSSTATE)(ksl_wavepci_get_state(js->pin) - 1)))) {
            ksl_report("K.driver-assert", __FILE__, __LINE__, "the pin refused to leave state %d",
                       (int)ksl_wavepci_get_state(js->pin));
            break;
        }
    js->stopped = true;
    ksl__client_unlock(&js->cl);
}

static void submit(job_state *js, uint32_t i)
{
    irp_rec *r = &js->recs[i];
    r->irp = ksl_wavepci_irp_alloc(js->pin, r->len);
    if (!r->irp) {
        ksl_report("K.driver-assert", __FILE__, __LINE__, "out of simulated memory for IRP %u", i);
        return;
    }
    if (!js->job->capture)
        memcpy(r->irp->UserBuffer, js->in + r->offset, r->len);
    r->submitted = true;
    /* The walk through STOP (shape.state_walk) refuses submissions for its 1 ms there: the
     * client, as an audio stack would, submits again once the pin has left STOP. */
    LARGE_INTEGER later = {.QuadPart = -STOP_RETRY_100NS};
    while (ksl_wavepci_submit(js->pin, r->irp) == STATUS_INVALID_DEVICE_STATE &&
           js->job->shape.state_walk == KSL__WALK_STOP)
        KeDelayExecutionThread(KernelMode, FALSE, &later);
    if (r->cancel)
        ksl__client_pick(&js->cl, i);
}

/* A completed IRP of the main pin: what became of it, its data (capture), and it is freed. */
static void reap(job_state *js, irp_rec *r, NTSTATUS status)
{
    r->status = status;
    r->info = (uint32_t)r->irp->IoStatus.Information;
    r->seq = ksl_wavepci_irp_sequence(r->irp);
    ksl__faults_progress(js->faults);
    if (r->cancel)
        KeWaitForSingleObject(&r->cancel_done, Executive, KernelMode, FALSE, NULL);
    if (js->job->capture)
        js->captured_sink.put(js->captured_sink.ctx, r->irp->UserBuffer, r->info);
    ksl_wavepci_irp_free(js->pin, r->irp);
    r->irp = NULL;
}

/* shape.submitters == 2: one of two threads feeding the playback pin.  Each takes the next IRP in
 * turn, fills it (a seeded time) and keeps half the in-flight count queued, so the two race to
 * the port's queue: the order they reach it is the order their data plays in (the check sorts
 * by it). */
#define FEED_MAX 16u
static void feed_half(job_state *js)
{
    uint32_t quota = js->job->irps_in_flight / 2u, ring[FEED_MAX], head = 0, n = 0;
    quota = quota < 1u ? 1u : quota > FEED_MAX ? FEED_MAX : quota;
    for (;;) {
        while (n < quota) {
            uint32_t i = (uint32_t)(InterlockedIncrement(&js->taken) - 1);
            if (i >= js->nrecs)
                break;
            /* Filling the buffer takes a seeded 0-999 us: the other feeder may take a later IRP
             * meanwhile and queue it first. */
            LARGE_INTEGER fill = {.QuadPart = -(LONGLONG)(ksl__mix(js->job->cfg.seed ^ (0xF11Lu << 32) ^ i) % 1000u) * 10};
            KeDelayExecutionThread(KernelMode, FALSE, &fill);
            submit(js, i);
            ring[(head + n++) % FEED_MAX] = i;
        }
        if (!n)
            return;
        irp_rec *r = &js->recs[ring[head]];
        head = (head + 1) % FEED_MAX;
        n--;
        reap(js, r, ksl_wavepci_wait(r->irp));
    }
}

static void feeder2(void *arg)
{
    job_state *js = arg;
    KeWaitForSingleObject(&js->started, Executive, KernelMode, FALSE, NULL);
    if (js->f_ok)
        KeWaitForSingleObject(&js->running, Executive, KernelMode, FALSE, NULL); /* set either way */
    if (js->pin_open)
        feed_half(js);
    KeSetEvent(&js->feeder_done, IO_NO_INCREMENT, FALSE);
}

/* The port's events, for an aimed canceller (shape.aim). */
static void port_event(void *user, ksl_wavepci_pin *pin, ksl_wavepci_event ev)
{
    job_state *js = user;
    if (pin == js->pin)
        ksl__client_event(&js->cl, (uint32_t)ev);
}

/* shape.query_every_ms: the audio stack polling the position (and trying SetFormat) while the
 * pin is open; what the miniport answers is its own business, the calls' timing is the test. */
/* The mixer a control panel would be: read and change the topology's volume and mute (a driver
 * without a topology answers STATUS_NOT_FOUND at once, and nothing of the run changes).  The
 * requests' results are the driver's business; a wrong answer shows in its own findings. */
static void mixer_requests(job_state *js, uint32_t k)
{
    LONG channel = (LONG)(k / 4 % 2), v = 0;
    if (ksl_wavepci_topology_property(js->f, &KSNODETYPE_VOLUME, KSPROPERTY_AUDIO_VOLUMELEVEL, false, channel, &v) ==
        STATUS_NOT_FOUND)
        return;
    v = k / 8 % 2 ? -6 * 65536 : -12 * 65536;
    ksl_wavepci_topology_property(js->f, &KSNODETYPE_VOLUME, KSPROPERTY_AUDIO_VOLUMELEVEL, true, channel, &v);
    LONG mute = 0;
    ksl_wavepci_topology_property(js->f, &KSNODETYPE_MUTE, KSPROPERTY_AUDIO_MUTE, false, channel, &mute);
    mute = 0; /* unmuted again at once, so that what plays is still the signal */
    ksl_wavepci_topology_property(js->f, &KSNODETYPE_MUTE, KSPROPERTY_AUDIO_MUTE, true, channel, &mute);
}

static void querier(void *arg)
{
    job_state *js = arg;
    LARGE_INTEGER period = {.QuadPart = -(LONGLONG)js->job->shape.query_every_ms * 10000};
    for (uint32_t k = 0;; k++) {
        if (KeWaitForSingleObject(&js->cl.quit_ev, Executive, KernelMode, FALSE, &period) == STATUS_SUCCESS)
            break;
        ksl__client_lock(&js->cl);
        if (js->pin_open) {
            ULONGLONG pos;
            ksl_wavepci_get_position(js->pin, &pos);
            if (k % 4 == 3)
                ksl_wavepci_set_format(js->pin, &js->format);
            if (k % 4 == 1)
                mixer_requests(js, k);
        }
        ksl__client_unlock(&js->cl);
    }
}

/* shape.duplex: the capture pin's client. */
static void dup_client(void *arg)
{
    job_state *js = arg;
    dup_state *d = &js->dup;
    KeWaitForSingleObject(&js->started, Executive, KernelMode, FALSE, NULL);
    if (!js->f_ok || !NT_SUCCESS(ksl_wavepci_open(js->f, true, &js->format, &d->pin))) {
        KeSetEvent(&d->done, IO_NO_INCREMENT, FALSE);
        return;
    }
    d->opened = true;
    ksl_wavepci_set_state(d->pin, KSSTATE_ACQUIRE);
    ksl_wavepci_set_state(d->pin, KSSTATE_PAUSE);
    uint32_t next = 0, done = 0;
    for (; next < d->n && next < js->job->irps_in_flight; next++) {
        d->recs[next].irp = ksl_wavepci_irp_alloc(d->pin, d->recs[next].len);
        if (!d->recs[next].irp)
            break;
        d->recs[next].submitted = true;
        ksl_wavepci_submit(d->pin, d->recs[next].irp);
    }
    /* Run a seeded 0-149 us after the playback pin: the two engines' interrupts then come close
     * together, as for two streams started together on one clock, and meet each other's
     * service routines. */
    KeWaitForSingleObject(&js->running, Executive, KernelMode, FALSE, NULL);
    uint64_t us = ksl__mix(js->job->cfg.seed ^ 0xD0D0ull) % DUPLEX_SKEW_US;
    LARGE_INTEGER delay = {.QuadPart = -(LONGLONG)us * 10};
    KeDelayExecutionThread(KernelMode, FALSE, &delay);
    ksl_wavepci_set_state(d->pin, KSSTATE_RUN);
    while (done < next) {
        irp_rec *r = &d->recs[done++];
        r->status = ksl_wavepci_wait(r->irp);
        r->info = (uint32_t)r->irp->IoStatus.Information;
        ksl_capture_sink_as_sink(&d->captured).put(&d->captured, r->irp->UserBuffer, r->info);
        ksl_wavepci_irp_free(d->pin, r->irp);
        r->irp = NULL;
        if (next < d->n && (d->recs[next].irp = ksl_wavepci_irp_alloc(d->pin, d->recs[next].len)) != NULL) {
            d->recs[next].submitted = true;
            ksl_wavepci_submit(d->pin, d->recs[next++].irp);
        }
    }
    ksl_wavepci_close(d->pin);
    KeSetEvent(&d->done, IO_NO_INCREMENT, FALSE);
}

static void client(void *arg)
{
    job_state *js = arg;
    const audio_job *job = js->job;
    NTSTATUS st = ksl_wavepci_start(js->f);
    js->f_ok = NT_SUCCESS(st);
    KeSetEvent(&js->started, IO_NO_INCREMENT, FALSE);
    if (!NT_SUCCESS(st)) {
        const char *why = ksl_wavepci_start_error(js->f);
        snprintf(js->client_err, sizeof js->client_err, "driver '%s' failed to start: NTSTATUS 0x%08X%s%s",
                 job->driver->name, (unsigned)st, why[0] ? ": " : "", why);
        ksl__client_quit(&js->cl);
        return;
    }
    st = ksl_wavepci_open(js->f, job->capture, &js->format, &js->pin);
    /* A driver may refuse a format (hardware that plays only stereo): in a scenario that draws
     * formats from the seed, that is the run's clean outcome; anywhere else the job cannot run. */
    js->format_refused = !NT_SUCCESS(st) && job->shape.seeded_format &&
                         (st == STATUS_NO_MATCH || st == STATUS_INVALID_PARAMETER || st == STATUS_NOT_SUPPORTED);
    if (!NT_SUCCESS(st) && !js->format_refused) {
        snprintf(js->client_err, sizeof js->client_err,
                 "driver '%s' does not %s %u-channel 16-bit PCM at %u Hz (NTSTATUS 0x%08X)", job->driver->name,
                 job->capture ? "capture" : "play", (unsigned)job->in->channels, (unsigned)job->in->rate,
                 (unsigned)st);
    }
    if (!NT_SUCCESS(st)) {
        KeSetEvent(&js->running, IO_NO_INCREMENT, FALSE);
        if (job->shape.duplex)
            KeWaitForSingleObject(&js->dup.done, Executive, KernelMode, FALSE, NULL);
        stop_filter(js);
        ksl__client_quit(&js->cl);
        return;
    }
    js->pin_open = true;
    set_state(js, KSSTATE_ACQUIRE);
    set_state(js, KSSTATE_PAUSE);
    if (job->shape.submitters == 2) {
        KeSetEvent(&js->running, IO_NO_INCREMENT, FALSE);
        set_state(js, KSSTATE_RUN);
        feed_half(js);
        KeWaitForSingleObject(&js->feeder_done, Executive, KernelMode, FALSE, NULL);
        goto close;
    }
    uint32_t next = 0, done = 0;
    while (next < js->nrecs && next < job->irps_in_flight)
        submit(js, next++);
    KeSetEvent(&js->running, IO_NO_INCREMENT, FALSE);
    set_state(js, KSSTATE_RUN);
    bool stopped = false, dry = false;
    uint32_t underrun = job->shape.underrun_every;
    while (done < next) { /* next < nrecs only once stopped: every submitted IRP is waited for */
        irp_rec *r = &js->recs[done];
        if (stopped) {
            /* After STOP the port cancels what is queued and revokes what the miniport holds: an
             * IRP still pending after a while has a mapping the miniport never gave back.  Close
             * anyway: the port reports the mapping (W1.mapping-held-at-close). */
            r->status = ksl_wavepci_wait_for(r->irp, STOP_GRACE_100NS);
            if (r->status == STATUS_TIMEOUT)
                break; /* still queued: it stays with the port (and the canceller may hold it) */
        } else {
            r->status = ksl_wavepci_wait(r->irp);
        }
        reap(js, r, r->status);
        done++;
        if (job->stop_after_irps && done == job->stop_after_irps) {
            stop_pin(js);
            stopped = true;
        }
        if (stopped)
            continue;
        if (underrun && done % underrun == 0)
            dry = true; /* let the ring run dry */
        if (dry && done == next && next < js->nrecs) {
            /* Everything submitted has completed: the miniport holds nothing.  Refill, and
             * cancel the first IRP of the refill the moment it is queued, against the
             * miniport's first GetMapping after the dry spell. */
            dry = false;
            js->recs[next].cancel = true; /* the client waits for the canceller before freeing it */
            ksl__client_pick_aimed(&js->cl, next, KSL_WP_EV_QUEUED);
            js->recs[next].cancel = false; /* picked already: submit must not pick it again */
            submit(js, next);
            js->recs[next++].cancel = true;
            while (next < js->nrecs && next - done < job->irps_in_flight)
                submit(js, next++);
        } else if (!dry && next < js->nrecs) {
            submit(js, next++);
        }
    }
close:
    ksl__client_quit(&js->cl);
    ksl__client_lock(&js->cl);
    ksl_wavepci_close(js->pin);
    js->pin_open = false;
    ksl__client_unlock(&js->cl);
    if (job->shape.duplex)
        KeWaitForSingleObject(&js->dup.done, Executive, KernelMode, FALSE, NULL);
    stop_filter(js);
}

/* ---- the job ------------------------------------------------------------------------------ */

/* IRP i's length: irp_bytes, or (sh->irp_frames_max) 1..max frames from the seed, often tiny;
 * every sh->zero_every-th has none (sh NULL: all irp_bytes).  Fills `recs` (offsets and lengths)
 * when given; returns how many IRPs carry the `in_len` bytes. */
static uint32_t irp_layout(const audio_job *job, const audio_shape *sh, uint32_t irp_bytes, size_t in_len,
                           irp_rec *recs)
{
    static const audio_shape plain;
    if (!sh)
        sh = &plain;
    uint32_t block = job->in->channels * 2u, n = 0;
    for (size_t at = 0; at < in_len; n++) {
        uint32_t len = irp_bytes;
        if (sh->irp_frames_max) {
            /* a third tiny (1-8 frames: interrupts tens of us apart), a third short, a third up to the
             * maximum */
            uint64_t m = ksl__mix(job->cfg.seed * 0x9E3779B1u + n);
            uint32_t cap = m % 3 == 0 ? 8u : m % 3 == 1 ? 96u : sh->irp_frames_max;
            len = block * (1u + (uint32_t)((m >> 8) % (cap < sh->irp_frames_max ? cap : sh->irp_frames_max)));
            /* every other one a sample longer: in stereo a frame then straddles two IRPs (the
             * device moves 16-bit words, so whole samples are the unit that must survive) */
            if ((m >> 40) & 1)
                len += 2u;
        }
        if (sh->zero_every && (n + 1) % sh->zero_every == 0)
            len = 0;
        if (len > in_len - at)
            len = (uint32_t)(in_len - at);
        if (recs)
            recs[n] = (irp_rec){.offset = at, .len = len};
        at += len;
    }
    return n;
}

void audio_job_default(audio_job *job, const ksl_pcm *in, const ksl_wavepci_driver *driver, bool capture)
{
    memset(job, 0, sizeof *job);
    job->capture = capture;
    job->in = in;
    job->driver = driver;
    ksl_config_default(&job->cfg);
    job->irp_ms = 10;
    job->irps_in_flight = 4;
    job->scatter = true;
    job->buffer_offset = 0;
}

/* The duplex capture pin recorded the microphone's tape from its start. */
static bool dup_ok(const job_state *js)
{
    ksl_hash64 h;
    ksl_hash64_init(&h);
    uint64_t n = js->dup.captured.hash.length;
    if (n > js->in_len)
        return false;
    ksl_hash64_update(&h, js->in, (size_t)n);
    ksl_capture_sink cap = js->dup.captured;
    return ksl_hash64_final(&h) == ksl_hash64_final(&cap.hash) && (n > 0 || !js->dup.opened);
}

/* Playback with two feeders: the IRPs in the order the port queued them (never-queued ones carry
 * no data), malloc'd; NULL: in submission order (one feeder, or capture). */
static uint32_t *play_order(const job_state *js)
{
    if (js->job->capture || js->job->shape.submitters != 2)
        return NULL;
    uint32_t *order = malloc((js->nrecs ? js->nrecs : 1) * sizeof *order);
    if (!order)
        return NULL;
    for (uint32_t i = 0; i < js->nrecs; i++) { /* insertion sort: stable, and nearly sorted already */
        uint32_t k = i;
        for (; k > 0 && js->recs[order[k - 1]].seq > js->recs[i].seq; k--)
            order[k] = order[k - 1];
        order[k] = i;
    }
    return order;
}

static void check_output(const job_state *js, audio_result *res)
{
    /* What must have come out: each IRP's transferred bytes, in order. */
    ksl_hash64 h;
    ksl_hash64_init(&h);
    uint64_t len = 0, cap_at = 0;
    uint32_t *order = play_order(js);
    for (uint32_t k = 0; k < js->nrecs; k++) {
        const irp_rec *r = &js->recs[order ? order[k] : k];
        if (js->job->capture) {
            ksl_hash64_update(&h, js->in + cap_at, r->info); /* the tape advances only as captured */
            cap_at += r->info;
        } else {
            ksl_hash64_update(&h, js->in + r->offset, r->info);
        }
        len += r->info;
    }
    free(order);
    res->expected_len = len;
    res->expected_hash = ksl_hash64_final(&h);
    res->data_ok = res->expected_len == res->out_len && res->expected_hash == res->out_hash;
    const ksl_wavepci_stats *st = &res->port;
    uint64_t submitted = 0;
    for (uint32_t i = 0; i < js->nrecs; i++)
        submitted += js->recs[i].submitted;
    for (uint32_t i = 0; i < js->dup.n; i++)
        submitted += js->dup.recs[i].submitted;
    if (!res->data_ok) {
        res->check_rule = "W4.data-mismatch";
        snprintf(res->data_msg, sizeof res->data_msg,
                 "output differs from the input minus the cancelled bytes: %zu bytes out, %" PRIu64 " expected",
                 res->out_len, res->expected_len);
    } else if (st->irps_completed + st->irps_cancelled != st->irps_submitted || st->irps_submitted != submitted) {
        res->check_rule = "W1.irp-not-completed";
        snprintf(res->data_msg, sizeof res->data_msg,
                 "%" PRIu64 " IRPs submitted, %" PRIu64 " completed and %" PRIu64 " cancelled: not every IRP "
                 "completed exactly once",
                 st->irps_submitted, st->irps_completed, st->irps_cancelled);
    } else if (st->bytes_submitted != st->bytes_transferred + st->bytes_cancelled ||
               st->mappings_handed != st->mappings_released + st->mappings_revoked) {
        res->check_rule = "W1.bytes-unaccounted";
        snprintf(res->data_msg, sizeof res->data_msg,
                 "%" PRIu64 " bytes submitted but %" PRIu64 " transferred + %" PRIu64 " cancelled; %" PRIu64
                 " mappings handed out, %" PRIu64 " released + %" PRIu64 " revoked",
                 st->bytes_submitted, st->bytes_transferred, st->bytes_cancelled, st->mappings_handed,
                 st->mappings_released, st->mappings_revoked);
    } else if (js->job->shape.duplex && !dup_ok(js)) {
        res->check_rule = "W4.data-mismatch";
        snprintf(res->data_msg, sizeof res->data_msg,
                 "the duplex run's capture pin recorded %" PRIu64 " bytes that differ from what the microphone heard",
                 js->dup.captured.hash.length);
    } else {
        snprintf(res->data_msg, sizeof res->data_msg, "output is bit-exact: the input minus the cancelled bytes%s",
                 js->job->shape.duplex ? ", and the capture pin's recording is too" : "");
        return;
    }
    res->data_ok = false;
}

int audio_job_run(const audio_job *job, audio_result *res)
{
    memset(res, 0, sizeof *res);
    res->rc = -1;
    if (!job->in || !job->driver || job->in->channels == 0 || job->irp_ms == 0 || job->irps_in_flight == 0) {
        snprintf(res->err, sizeof res->err, "bad job");
        return res->rc = 2;
    }
    job_state js = {.job = job, .res = res};
    js.in = (const uint8_t *)job->in->samples;
    js.in_len = ksl_pcm_bytes(job->in);
    uint32_t block = job->in->channels * 2u;
    uint64_t frames_per_irp = (uint64_t)job->in->rate * job->irp_ms / 1000;
    js.irp_bytes = (uint32_t)((frames_per_irp ? frames_per_irp : 1) * block);
    js.nrecs = irp_layout(job, &job->shape, js.irp_bytes, js.in_len, NULL);
    js.recs = calloc(js.nrecs ? js.nrecs : 1, sizeof *js.recs);
    js.format = (WAVEFORMATEX){WAVE_FORMAT_PCM, job->in->channels, job->in->rate, job->in->rate * block, (USHORT)block,
                               16, 0};
    KeInitializeEvent(&js.started, NotificationEvent, FALSE);
    KeInitializeEvent(&js.running, NotificationEvent, FALSE);
    KeInitializeEvent(&js.dup.done, NotificationEvent, FALSE);
    KeInitializeEvent(&js.feeder_done, NotificationEvent, FALSE);
    ksl_capture_sink_init(&js.dup.captured, false);
    if (job->shape.duplex) {
        js.dup.n = irp_layout(job, NULL, js.irp_bytes, js.in_len, NULL);
        if ((js.dup.recs = calloc(js.dup.n ? js.dup.n : 1, sizeof *js.dup.recs)) != NULL)
            irp_layout(job, NULL, js.irp_bytes, js.in_len, js.dup.recs);
    }
    ksl_capture_sink played, *out = job->capture ? &js.captured : &played;
    ksl_capture_sink_init(&played, job->keep_output);
    ksl_capture_sink_init(&js.captured, job->keep_output);
    js.captured_sink = ksl_capture_sink_as_sink(&js.captured);
    ksl_tape_source tape;
    ksl_tape_source_init(&tape, js.in, js.in_len);
    ksl_config cfg = job->cfg;
    /* a long stream needs many scheduling points: about 2 000 per ms of audio covers it */
    uint64_t audio_ms = (uint64_t)job->in->frames * 1000 / job->in->rate;
    if (cfg.max_steps < audio_ms * 4000 + 1000000)
        cfg.max_steps = audio_ms * 4000 + 1000000;
    ksl_engine *e = ksl_engine_create(&cfg, res->err, sizeof res->err);
    ksl_physmem *pm = ksl_physmem_create(JOB_MEMORY, job->scatter, cfg.seed);
    const char *dev_name = job->driver->device ? job->driver->device : "ac97";
    const ksl_device_model *model = job->device ? job->device : ksl_device_model_find(dev_name);
    void *dev = NULL;
    ksl_wavepci_filter *f = NULL;
    ksl__faults faults;
    if (!e || !pm || !js.recs || (job->shape.duplex && !js.dup.recs)) {
        if (!res->err[0])
            snprintf(res->err, sizeof res->err, "out of memory");
        goto out;
    }
    irp_layout(job, &job->shape, js.irp_bytes, js.in_len, js.recs);
    for (uint32_t i = 0; i < js.nrecs; i++) {
        js.recs[i].cancel = job->cancel_every && (i + 1) % job->cancel_every == 0;
        KeInitializeEvent(&js.recs[i].cancel_done, NotificationEvent, FALSE);
    }
    ksl_pcm_sink sink = ksl_capture_sink_as_sink(&played);
    ksl_pcm_source source = ksl_tape_source_as_source(&tape);
    if (!model || model->cls != KSL_DEVICE_AUDIO) {
        snprintf(res->err, sizeof res->err, "driver '%s' is for device '%s', which is not an audio device kslab has",
                 job->driver->name, dev_name);
        res->rc = 2;
        goto out;
    }
    ksl_device_env env = {e, pm, cfg.seed, JOB_PORT_BASE, JOB_IRQ_LINE, JOB_DIRQL, &sink, &source, 0};
    ksl_device_resources dres;
    memset(&dres, 0, sizeof dres);
    if (!(dev = model->create(&env, &dres, res->err, sizeof res->err)))
        goto out;
    /* The driver's resource list: the device's port ranges in order, then its interrupt. */
    CM_PARTIAL_RESOURCE_DESCRIPTOR resources[KSL_DEVICE_MAX_RANGES + 1];
    ULONG nres = 0;
    for (uint32_t i = 0; i < dres.nports && i < KSL_DEVICE_MAX_RANGES; i++)
        resources[nres++] = (CM_PARTIAL_RESOURCE_DESCRIPTOR){
            .Type = CmResourceTypePort,
            .u.Port = {.Start = {.QuadPart = (LONGLONG)dres.ports[i].base}, .Length = dres.ports[i].size}};
    if (dres.has_interrupt)
        resources[nres++] = (CM_PARTIAL_RESOURCE_DESCRIPTOR){
            .Type = CmResourceTypeInterrupt, .u.Interrupt = {.Level = dres.irql, .Vector = dres.irq_line}};
    f = ksl_wavepci_create(e, job->driver, pm, resources, nres, job->buffer_offset, res->err, sizeof res->err);
    if (!f)
        goto out;
    /* Faults come within the first 70 % of the IRPs: the rest lets the driver show it recovered. */
    if (ksl__faults_arm(&faults, e, model, dev, &dres, cfg.seed, job->shape.faults, job->shape.fault,
                        js.nrecs * 7u / 10u, res->err, sizeof res->err)) {
        res->rc = 2;
        goto out;
    }
    js.f = f;
    js.faults = &faults;
    js.cl = (ksl__job_client){.seed = job->cfg.seed, .cancel_window_us = job->irp_ms * 1000u,
                              .pause_every_ms = job->pause_every_ms, .churner_name = "pauser", .job = &js,
                              .cancel = cancel_irp, .set_state = pin_state, .walk = job->shape.state_walk,
                              .set_power = job->shape.power_cycle ? filter_power : NULL,
                              .aim = job->shape.aim};
    ksl__client_init(&js.cl);
    if (job->shape.aim || job->shape.underrun_every)
        ksl_wavepci_set_event_hook(f, port_event, &js);
    ksl_thread_create(e, "client", client, &js);
    if (job->shape.submitters == 2)
        ksl_thread_create(e, "submitter 2", feeder2, &js);
    ksl__client_threads(&js.cl, e);
    if (job->shape.duplex)
        ksl_thread_create(e, "capture client", dup_client, &js);
    else
        KeSetEvent(&js.dup.done, IO_NO_INCREMENT, FALSE);
    if (job->shape.query_every_ms)
        ksl_thread_create(e, "position poller", querier, &js);
    int rc = job_run_engine(e, job->trace_fn, job->trace_user, job->keep_choices, &res->engine, &res->trace_hash,
                            &res->choices, &res->nchoices);
    res->irps = calloc(js.nrecs ? js.nrecs : 1, sizeof *res->irps);
    if (res->irps) {
        res->nirps = js.nrecs;
        for (uint32_t i = 0; i < js.nrecs; i++)
            res->irps[i] = (audio_irp){js.recs[i].offset,    js.recs[i].len,    js.recs[i].info, js.recs[i].status,
                                       js.recs[i].submitted, js.recs[i].cancel, js.recs[i].seq};
    }
    res->faults_injected = faults.injected;
    ksl_wavepci_get_stats(f, &res->port);
    res->dev = (ksl_ac97_stats){.interrupts = ksl_device_counter_of(model, dev, "interrupts"),
                                .buffers_completed = ksl_device_counter_of(model, dev, "buffers"),
                                .fill_samples = ksl_device_counter_of(model, dev, "fill_samples"),
                                .overrun_ns = ksl_device_counter_of(model, dev, "overrun_ns"),
                                .bytes_played = ksl_device_counter_of(model, dev, "bytes_played"),
                                .bytes_captured = ksl_device_counter_of(model, dev, "bytes_captured"),
                                .dma_errors = ksl_device_counter_of(model, dev, "dma_errors")};
    res->codec_master_volume = ksl_device_counter_of(model, dev, "codec.master_volume");
    res->codec_pcm_out_volume = ksl_device_counter_of(model, dev, "codec.pcm_out_volume");
    res->out_len = out->keep ? out->len : (size_t)out->hash.length;
    res->out_hash = ksl_hash64_final(&out->hash);
    if (out->keep) {
        res->out = out->data;
        out->data = NULL;
    }
    res->rc = job_verdict(e, rc, js.client_err, res->findings, &res->nfindings, res->err, sizeof res->err);
    res->format_refused = js.format_refused;
    if ((res->checked = !js.format_refused && job_checkable(res->rc, res->findings, res->nfindings)))
        check_output(&js, res);
    if (res->checked && !res->data_ok)
        ksl_fault_note_append(e, res->data_msg, sizeof res->data_msg);
out:
    ksl_wavepci_destroy(f);
    if (e)
        ksl_engine_destroy(e);
    if (dev)
        model->destroy(dev);
    ksl_physmem_destroy(pm);
    ksl_capture_sink_free(&played);
    ksl_capture_sink_free(&js.captured);
    ksl_capture_sink_free(&js.dup.captured);
    free(js.recs);
    free(js.dup.recs);
    return res->rc;
}

void audio_result_free(audio_result *res)
{
    free(res->out);
    res->out = NULL;
    free(res->irps);
    res->irps = NULL;
    res->nirps = 0;
    free(res->choices);
    res->choices = NULL;
    res->nchoices = 0;
}
