/* SPDX-License-Identifier: MIT */
/*
 * One execution: a scenario or a job run once through a driver under one schedule, in a worker
 * process, and its outcome.  The one runner for every kind of driver and every command: stress,
 * play, capture, stream, replay and the demonstrations all come here.  Host code.
 */
#ifndef KSLAB_CAMPAIGN_EXEC_H
#define KSLAB_CAMPAIGN_EXEC_H

#include <kslab/campaign.h>

#include "../report/recorder.h"
#include "drivers.h"

/* What a worker is asked. */
enum {
    KSL__RQ_PROBE = 1, /* load the driver (and device), say what it is */
    KSL__RQ_EXEC = 2,  /* run one execution */
};
/* Flags of an execution. */
#define KSL__RQ_KEEP_CHOICES 0x1u /* send back the strategy's choice list */
#define KSL__RQ_RECORD 0x2u       /* send back the last events (for reports) */
#define KSL__RQ_TRACE 0x4u        /* write the run as Chrome Trace Event JSON to the worker's trace fd */
#define KSL__RQ_KEEP_OUTPUT 0x8u  /* send back the played / captured samples */
#define KSL__RQ_INPUT 0x10u       /* play / capture the worker's input instead of the built-in signal */
#define KSL__RQ_RANDOM 0x20u      /* the random strategy, whatever cfg says (PCT's length estimate) */

typedef struct ksl__request {
    uint32_t type;
    int32_t scenario;   /* index in ksl__scenario_list, or -1: `job` */
    ksl_job job;
    ksl_config cfg;     /* cfg.choices / nchoices: a replay's schedule (strategy REPLAY) */
    uint32_t flags;
} ksl__request;

typedef struct ksl__counter {
    char name[48];
    uint64_t value;
} ksl__counter;

#define KSL__MAX_COUNTERS 96

/* A finding of an execution after its first. */
typedef struct ksl__extra {
    ksl_finding finding;     /* finding.file is not kept across processes: see file */
    char file[256];
    recorder_entry *events;  /* KSL__RQ_RECORD: the events leading to it, oldest first (malloc'd) */
    size_t nevents;
} ksl__extra;

/* The outcome of a request. */
typedef struct ksl__outcome {
    int32_t rc;              /* 0 clean; 1 a finding; 2 the job cannot run (the driver does not
                              * start, a bad input: err); -1 kslab failed (err) */
    uint64_t steps, time_ns, trace_hash;
    ksl_finding finding;     /* rc 1: the first finding; finding.file is not kept across
                              * processes: see file */
    char file[256];          /* the finding's call site ("" when unknown) */
    ksl__extra *extra;       /* rc 1: the execution's other findings, in the order recorded (a
                              * run goes on after a finding it survives; malloc'd) */
    uint32_t nextra;
    char err[512];
    char data_msg[256];      /* rc 0: what the output check says */
    char trace_err[256];     /* KSL__RQ_TRACE: why writing the trace failed ("" when it did not) */
    uint32_t *choices;       /* KSL__RQ_KEEP_CHOICES (malloc'd) */
    size_t nchoices;
    ksl__counter *counters;  /* (malloc'd) */
    size_t ncounters;
    recorder_entry *events;  /* KSL__RQ_RECORD: the events leading to the first finding (the
                              * last events of a clean run), oldest first (malloc'd) */
    size_t nevents;
    int16_t *output;         /* KSL__RQ_KEEP_OUTPUT after a clean run (malloc'd) */
    uint64_t output_frames;
    uint32_t output_rate;
    uint16_t output_channels;
    ksl__driver probe;       /* KSL__RQ_PROBE: what the driver is (its pointers are the worker's) */
    char *driver_output;     /* set by the parent: what the worker printed meanwhile (malloc'd) */
} ksl__outcome;

/* Run `rq` (KSL__RQ_EXEC) with the loaded driver `drv` on `device` (NULL: the built-in model the
 * driver names); `input` for KSL__RQ_INPUT, `trace_fd` for KSL__RQ_TRACE.  Fills `out` (zeroed
 * first). */
void ksl__execute(const ksl__driver *drv, const ksl_device_model *device, const ksl__request *rq,
                  const ksl_pcm *input, int trace_fd, ksl__outcome *out);
/* The job of a request (its scenario's, or its own). */
const ksl_job *ksl__request_job(const ksl__request *rq);
void ksl__outcome_free(ksl__outcome *o);
/* How many findings an outcome holds (rc 1: the first and the extras; else 0). */
size_t ksl__outcome_nfindings(const ksl__outcome *o);
/* The k-th finding of `o` (0: the first), with its call site (NULL when unknown) and its events. */
const ksl_finding *ksl__outcome_finding(const ksl__outcome *o, size_t k, const char **file,
                                        const recorder_entry **ev, size_t *nev);
/* Whether every rule `ref` found is among the findings of `o` (a replay reproduces a run). */
bool ksl__outcome_reproduces(const ksl__outcome *o, const ksl__outcome *ref);

#endif
