/* SPDX-License-Identifier: MIT */
/*
 * The run recorder: a ksl_trace_fn consumer that
 *
 *  (a) optionally streams the run as Chrome Trace Event JSON (what Perfetto and chrome://tracing
 *      open): one track per virtual CPU ("CPU 0", "CPU 1", ...) and one "device" track for the
 *      hardware (cpu -1); every context that runs on a CPU (thread, DPC, ISR, work item) is a
 *      slice on its CPU's track, nested as the engine nests them ("thread 'client'" with
 *      "ISR 'IInterruptSync'" inside it); every instant event is an instant on its track with
 *      the step, the IRQL and the call site, and a category ("cat"): "lock" (spin locks, fast
 *      mutexes, the cancel lock, synchronizing with an interrupt), "port" (I...::Method calls),
 *      "register" (device register reads and writes) or "other".  Timestamps are the virtual
 *      time in microseconds with nanosecond precision.  recorder_close ends the JSON: it adds
 *      a global "finding" instant for each finding of the run, and closes the slices still open
 *      (a run stopped at a finding leaves contexts running) at the last timestamp of the run,
 *      so every track's slices balance;
 *  (b) always keeps a ring of the last N events, each with the context it happened in
 *      ("DPC 'service group'"), for reports (sarif.h's thread flows), and a copy of it at each
 *      finding the engine records (the 'F' events): a run may go on after a finding.
 *
 * Use:
 *
 *     recorder *rec = recorder_open(trace_file_or_NULL, cfg.cpus, RECORDER_RING_DEFAULT);
 *     ksl_engine_set_trace(e, recorder_event, rec);     (audio_job: job.trace_fn / trace_user)
 *     ksl_engine_run(e);
 *     int wr = recorder_close(rec, findings, n);       -1: writing the trace failed
 *     const recorder_entry *ev;
 *     size_t n = recorder_ring(rec, &ev);                     the last n events, oldest first
 *     ... sarif_write(path, finding, ev, n, token, srcroot, err, sizeof err) ...
 *     recorder_free(rec);                                     then fclose(trace_file)
 *
 * The recorder copies every string it keeps (DbgPrint text lives only as long as the engine's
 * own log slot), so the ring outlives the engine.  It never closes the FILE.  One recorder per
 * run; not thread-safe (the deterministic engine calls the hook from one context at a time; the
 * threaded engine produces no events).  Host code.
 */
#ifndef KSLAB_REPORT_RECORDER_H
#define KSLAB_REPORT_RECORDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kslab/engine.h>

#define RECORDER_RING_DEFAULT 64 /* as many events as the engine's own log keeps by default */

#define RECORDER_WHAT 128 /* sizes of recorder_entry's strings, terminator included; longer */
#define RECORDER_CONTEXT 96 /* text is cut (at a byte; JSON output repairs a cut UTF-8 sequence) */
#define RECORDER_FILE 512

/* One event of the ring (recorder_event, without a type of that name, is the hook). */
typedef struct recorder_entry {
    uint64_t step;                 /* the engine's scheduling-point count */
    uint64_t time_ns;              /* virtual time on its CPU */
    int32_t cpu;                   /* -1: the device (hardware) */
    uint8_t irql;
    char phase;                    /* 'i' an instant; 'B' / 'E' a context begins / ends running */
    int line;                      /* of `file`; 0 when unknown */
    char what[RECORDER_WHAT];      /* 'i': what happened ("acquire spin lock", "register write",
                                    * DbgPrint text); 'B'/'E': the context, as in `context` */
    char context[RECORDER_CONTEXT]; /* the context it happened in: "thread 'client'",
                                    * "DPC 'service group'", "ISR 'IInterruptSync'",
                                    * "work item on 'worker'"; "idle" on a CPU running nothing;
                                    * "device" for cpu -1.  For 'B'/'E': the context itself */
    char file[RECORDER_FILE];      /* call site as the engine reported it (__FILE__); "" when unknown */
} recorder_entry;

typedef struct recorder recorder;

/*
 * A recorder for a run on `cpus` virtual CPUs (tracks for CPUs beyond that appear when they are
 * first used), keeping the last `ring` events (0: none).  With `trace` non-NULL the JSON header
 * and the track names are written at once and the events as they come.  NULL when out of memory.
 */
recorder *recorder_open(FILE *trace, uint32_t cpus, size_t ring);
/* The ksl_trace_fn: pass it with the recorder as `user`.  Ignored after recorder_close. */
void recorder_event(void *rec, const ksl_trace_event *ev);
/*
 * End the run: when tracing, write the finding (if `finding` is non-NULL) as a global instant,
 * close the slices still open and end the JSON document, then flush.  Returns 0, or -1 when a
 * write to the trace failed (now or earlier: disk full, closed pipe).  The ring stays readable.
 * A second call does nothing and returns the first call's result.
 */
int recorder_close(recorder *rec, const ksl_finding *findings, size_t n);
/* The ring: *out gets the kept events, oldest first, contiguous; returns how many (at most the
 * ring size).  The array is valid until the next recorder_event or recorder_free. */
size_t recorder_ring(const recorder *rec, const recorder_entry **out);
/* The ring as it was when the k-th finding of the run (0 first) was recorded: the events leading
 * to it, oldest first; returns how many (0: no such finding, or out of memory then).  Valid until
 * recorder_free. */
size_t recorder_marked(const recorder *rec, size_t k, const recorder_entry **out);
/* Free the recorder (NULL is fine).  Does not close the trace FILE. */
void recorder_free(recorder *rec);

/* One line for an event: "CPU 1 DISPATCH_LEVEL DPC 'service group': acquire spin lock",
 * "device: timer expires", "CPU 0 PASSIVE_LEVEL thread 'client': begins running". */
void recorder_describe(const recorder_entry *ev, char *buf, size_t len);
/* The category of an instant's `what`: "lock", "port", "register" or "other". */
const char *recorder_category(const char *what);

#endif
