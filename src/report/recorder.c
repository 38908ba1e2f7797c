/* SPDX-License-Identifier: MIT */
/* The run recorder: Chrome Trace Event JSON and the ring of the last events (see recorder.h). */
#include "recorder.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

#define PID 1
#define DEVICE_TID (KSL_MAX_CPUS + 1) /* CPU n is tid n + 1; tid 0 is "swapper" to some viewers */
#define DEPTH 16                      /* slice names kept per track: the engine nests 16 frames */

typedef struct track {
    uint64_t last_ns;                     /* latest timestamp written on it */
    uint32_t depth;                       /* open slices (may exceed DEPTH: then names are "?") */
    char open[DEPTH][RECORDER_CONTEXT];   /* their names, innermost last */
} track;

struct recorder {
    FILE *out;                  /* the trace, or NULL */
    track device;
    track *cpus;                /* ncpus tracks */
    uint32_t ncpus;
    uint64_t last_ns;           /* latest timestamp of the run on any track */
    recorder_entry *ring;       /* 2 * cap slots; the kept events are ring[start, start + count) */
    size_t cap, start, count;
    recorder_entry *marks[KSL_MAX_RUN_FINDINGS]; /* the ring as it was at each finding ('F') */
    size_t nmark[KSL_MAX_RUN_FINDINGS];
    size_t nmarks;
    bool closed;
    int close_rc;
};

/* ---- helpers ------------------------------------------------------------------------------ */

static void copy_str(char *dst, size_t n, const char *src)
{
    size_t i = 0;
    if (src)
        for (; i + 1 < n && src[i]; i++)
            dst[i] = src[i];
    dst[i] = 0;
}

const char *recorder_category(const char *what)
{
    if (!what)
        return "other";
    if (strstr(what, "spin lock") || strstr(what, "mutex") || strcmp(what, "synchronize with interrupt") == 0)
        return "lock";
    if (strncmp(what, "register ", 9) == 0)
        return "register";
    if (strstr(what, "::"))
        return "port"; /* "IPortWavePciStream::GetMapping", "IMiniportWavePciStream::Service" */
    return "other";
}

void recorder_describe(const recorder_entry *ev, char *buf, size_t len)
{
    const char *what = ev->phase == 'B' ? "begins running" : ev->phase == 'E' ? "stops running" : ev->what;
    char ib[16];
    if (ev->cpu < 0)
        snprintf(buf, len, "device: %s", what);
    else
        snprintf(buf, len, "CPU %d %s %s: %s", (int)ev->cpu, ksl_irql_name(ev->irql, ib, sizeof ib), ev->context,
                 what);
}

/* "thread 'client'", "DPC 'service group'", "work item on 'worker0'" (as findings name them). */
static void context_name(char *buf, size_t len, const char *kind, const char *name)
{
    if (!name)
        name = "?";
    if (kind && strcmp(kind, "work item") == 0)
        snprintf(buf, len, "work item on '%s'", name);
    else
        snprintf(buf, len, "%s '%s'", kind ? kind : "context", name);
}

static void write_ts(FILE *f, uint64_t ns)
{
    fprintf(f, "\"ts\":%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

static int tid_of(int32_t cpu)
{
    return cpu < 0 ? DEVICE_TID : cpu + 1;
}

static void write_track_names(FILE *f, int tid, const char *name, int sort)
{
    fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":", PID, tid);
    ksl__json_put_string(f, name);
    fprintf(f, "}},\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"sort_index\":%d}}",
            PID, tid, sort);
}

/* The track of `cpu`, growing the CPU tracks when a CPU beyond those announced shows up;
 * NULL when out of memory (the event then stays out of the trace). */
static track *track_of(recorder *r, int32_t cpu)
{
    if (cpu < 0)
        return &r->device;
    if ((uint32_t)cpu >= r->ncpus) {
        if (cpu >= KSL_MAX_CPUS)
            return NULL;
        track *t = realloc(r->cpus, ((size_t)cpu + 1) * sizeof *t);
        if (!t)
            return NULL;
        memset(t + r->ncpus, 0, ((size_t)cpu + 1 - r->ncpus) * sizeof *t);
        for (uint32_t c = r->ncpus; r->out && c <= (uint32_t)cpu; c++) {
            char name[16];
            snprintf(name, sizeof name, "CPU %u", c);
            write_track_names(r->out, tid_of((int32_t)c), name, (int)c);
        }
        r->cpus = t;
        r->ncpus = (uint32_t)cpu + 1;
    }
    return &r->cpus[cpu];
}

/* The next ring slot (the oldest event makes room when the ring is full), or NULL without a ring. */
static recorder_entry *ring_slot(recorder *r)
{
    if (!r->cap)
        return NULL;
    if (r->count == r->cap) {
        r->start++;
        r->count--;
    }
    if (r->start + r->count == 2 * r->cap) { /* keep the kept events contiguous */
        memmove(r->ring, r->ring + r->start, r->count * sizeof *r->ring);
        r->start = 0;
    }
    return &r->ring[r->start + r->count++];
}

/* ---- the recorder ------------------------------------------------------------------------- */

recorder *recorder_open(FILE *trace, uint32_t cpus, size_t ring)
{
    recorder *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->out = trace;
    r->cap = ring;
    if (ring && (ring > SIZE_MAX / 2 / sizeof *r->ring || !(r->ring = malloc(2 * ring * sizeof *r->ring)))) {
        free(r);
        return NULL;
    }
    if (trace) {
        fprintf(trace, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"
                       "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":\"kslab\"}}",
                PID, DEVICE_TID);
        write_track_names(trace, DEVICE_TID, "device", KSL_MAX_CPUS + 1);
    }
    if (cpus > KSL_MAX_CPUS)
        cpus = KSL_MAX_CPUS;
    if (cpus && !track_of(r, (int32_t)cpus - 1)) {
        recorder_free(r);
        return NULL;
    }
    return r;
}

/* A slice begins or ends; ev NULL: ends because the run ended with it still running. */
static void write_slice(FILE *f, char ph, const char *name, uint64_t ns, int tid, const ksl_trace_event *ev)
{
    char ib[16];
    fputs(",\n{\"name\":", f);
    ksl__json_put_string(f, name);
    fprintf(f, ",\"cat\":\"context\",\"ph\":\"%c\",", ph);
    write_ts(f, ns);
    if (ev)
        fprintf(f, ",\"pid\":%d,\"tid\":%d,\"args\":{\"step\":%" PRIu64 ",\"irql\":\"%s\"}}", PID, tid, ev->step,
                ksl_irql_name(ev->irql, ib, sizeof ib));
    else
        fprintf(f, ",\"pid\":%d,\"tid\":%d,\"args\":{\"end\":\"still running when the run stopped\"}}", PID, tid);
}

static void write_at(FILE *f, const char *file, int line)
{
    if (!file || !*file)
        return;
    char at[RECORDER_FILE + 16];
    snprintf(at, sizeof at, "%.*s:%d", RECORDER_FILE - 1, file, line);
    fputs(",\"at\":", f);
    ksl__json_put_string(f, at);
}

void recorder_event(void *user, const ksl_trace_event *ev)
{
    recorder *r = user;
    if (!r || !ev || r->closed)
        return;
    track *t = track_of(r, ev->cpu);
    uint64_t ns = ev->time_ns;
    if (t) {
        if (ns < t->last_ns)
            ns = t->last_ns; /* a track's timestamps never go back (the engine's clocks are monotone per CPU) */
        t->last_ns = ns;
    }
    if (ns > r->last_ns)
        r->last_ns = ns;
    if (ev->phase == 'F') { /* a finding: keep the events leading to it (the run may go on) */
        if (r->nmarks < KSL_MAX_RUN_FINDINGS && r->count &&
            (r->marks[r->nmarks] = malloc(r->count * sizeof *r->ring)) != NULL) {
            memcpy(r->marks[r->nmarks], r->ring + r->start, r->count * sizeof *r->ring);
            r->nmark[r->nmarks] = r->count;
        }
        if (r->nmarks < KSL_MAX_RUN_FINDINGS)
            r->nmarks++;
        return;
    }
    int tid = tid_of(ev->cpu);
    char name[RECORDER_CONTEXT];
    const char *ctx;
    if (ev->phase == 'B') {
        context_name(name, sizeof name, ev->kind, ev->what);
        ctx = name;
        if (t) {
            if (t->depth < DEPTH)
                copy_str(t->open[t->depth], sizeof t->open[0], name);
            t->depth++;
            if (r->out)
                write_slice(r->out, 'B', name, ns, tid, ev);
        }
    } else if (ev->phase == 'E') {
        if (t && t->depth) { /* the innermost open slice ends (the engine nests them strictly) */
            t->depth--;
            copy_str(name, sizeof name, t->depth < DEPTH ? t->open[t->depth] : "?");
            if (r->out)
                write_slice(r->out, 'E', name, ns, tid, ev);
        } else { /* an end without a begin stays out of the trace, which must balance */
            context_name(name, sizeof name, ev->kind, ev->what);
        }
        ctx = name;
    } else {
        ctx = ev->cpu < 0 ? "device" : t && t->depth ? (t->depth <= DEPTH ? t->open[t->depth - 1] : "?") : "idle";
        if (r->out && t) {
            FILE *f = r->out;
            char ib[16];
            fputs(",\n{\"name\":", f);
            ksl__json_put_string(f, ev->what ? ev->what : "?");
            fprintf(f, ",\"cat\":\"%s\",\"ph\":\"i\",\"s\":\"t\",", recorder_category(ev->what));
            write_ts(f, ns);
            fprintf(f, ",\"pid\":%d,\"tid\":%d,\"args\":{\"step\":%" PRIu64 ",\"irql\":\"%s\"", PID, tid, ev->step,
                    ksl_irql_name(ev->irql, ib, sizeof ib));
            write_at(f, ev->file, ev->line);
            fputs("}}", f);
        }
    }
    recorder_entry *slot = ring_slot(r);
    if (slot) {
        slot->step = ev->step;
        slot->time_ns = ns;
        slot->cpu = ev->cpu;
        slot->irql = ev->irql;
        slot->phase = ev->phase == 'B' || ev->phase == 'E' ? ev->phase : 'i';
        slot->line = ev->file ? ev->line : 0;
        copy_str(slot->what, sizeof slot->what, ev->phase == 'B' || ev->phase == 'E' ? ctx : ev->what ? ev->what : "?");
        copy_str(slot->context, sizeof slot->context, ctx);
        copy_str(slot->file, sizeof slot->file, ev->file);
    }
}

static void write_finding(recorder *r, const ksl_finding *f)
{
    FILE *out = r->out;
    track *t = track_of(r, f->cpu);
    if (!t)
        t = &r->device;
    uint64_t ns = f->time_ns < t->last_ns ? t->last_ns : f->time_ns;
    t->last_ns = ns;
    if (ns > r->last_ns)
        r->last_ns = ns;
    char name[sizeof f->rule + 16];
    snprintf(name, sizeof name, "finding %s", f->rule);
    fputs(",\n{\"name\":", out);
    ksl__json_put_string(out, name);
    fputs(",\"cat\":\"finding\",\"ph\":\"i\",\"s\":\"g\",", out);
    write_ts(out, ns);
    fprintf(out, ",\"pid\":%d,\"tid\":%d,\"args\":{\"rule\":", PID, t == &r->device ? DEVICE_TID : tid_of(f->cpu));
    ksl__json_put_string(out, f->rule);
    fputs(",\"message\":", out);
    ksl__json_put_string(out, f->message);
    fputs(",\"context\":", out);
    ksl__json_put_string(out, f->context);
    fprintf(out, ",\"step\":%" PRIu64, f->step);
    write_at(out, f->file, f->line);
    fputs("}}", out);
}

int recorder_close(recorder *r, const ksl_finding *findings, size_t n)
{
    if (!r)
        return -1;
    if (r->closed)
        return r->close_rc;
    r->closed = true;
    FILE *out = r->out;
    if (!out)
        return r->close_rc = 0;
    for (size_t i = 0; i < n; i++)
        write_finding(r, &findings[i]);
    /* Close what is still running (a run stopped at a finding) at the end of the run. */
    for (uint32_t c = 0; c <= r->ncpus; c++) {
        track *t = c < r->ncpus ? &r->cpus[c] : &r->device;
        int tid = c < r->ncpus ? tid_of((int32_t)c) : DEVICE_TID;
        while (t->depth) {
            t->depth--;
            write_slice(out, 'E', t->depth < DEPTH ? t->open[t->depth] : "?", r->last_ns, tid, NULL);
        }
        t->last_ns = r->last_ns;
    }
    fputs("\n]}\n", out);
    r->close_rc = fflush(out) != 0 || ferror(out) ? -1 : 0;
    return r->close_rc;
}

size_t recorder_ring(const recorder *r, const recorder_entry **out)
{
    *out = r && r->count ? r->ring + r->start : NULL;
    return r ? r->count : 0;
}

size_t recorder_marked(const recorder *r, size_t k, const recorder_entry **out)
{
    *out = NULL;
    if (!r || k >= r->nmarks || !r->marks[k])
        return 0;
    *out = r->marks[k];
    return r->nmark[k];
}

void recorder_free(recorder *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nmarks && i < KSL_MAX_RUN_FINDINGS; i++)
        free(r->marks[i]);
    free(r->ring);
    free(r->cpus);
    free(r);
}
