/* SPDX-License-Identifier: MIT */
/*
 * One streaming job end to end through the stream class: an engine, the device model the
 * minidriver names (<kslab/device.h>: a built-in frame device or a device plugin's, its port
 * range, interrupt or lower device given to the adapter; "none" for a filter), the class adapter
 * built from the driver's DriverEntry, and client threads (job_client.h): a reader
 * that keeps `in_flight` read SRBs submitted and checks every frame bit for bit as it completes
 * (the frame format of <kslab/hw/frame.h>: the device's magic, or the reference filter's), a
 * canceller that cancels every K-th SRB somewhere in its life, and a state churner that pauses the
 * stream for 1 ms every `pause_every_ms`.  The result counts frames (delivered, missing, bad) and
 * SRBs (completed, cancelled, timed out), with the class's per-entry-point times
 * (ksl_stream_get_stats), and gives a verdict: the run's finding, or a data-check failure.
 * Shared by `kslab stream` and the tests.  Host code.
 */
#ifndef KSLAB_CAMPAIGN_STREAM_JOB_H
#define KSLAB_CAMPAIGN_STREAM_JOB_H

#include <kslab/device.h>
#include <kslab/engine.h>
#include <kslab/stream.h>

/* Where the job puts the device. */
#define STREAM_JOB_PORT_BASE 0xD000u
#define STREAM_JOB_IRQ_LINE 7u
#define STREAM_JOB_DIRQL 7u
#define STREAM_JOB_BUFFER_BYTES 8192u /* every read SRB's buffer */

typedef struct stream_job {
    const ksl_stream_driver *driver;
    const ksl_device_model *device; /* the device model to run it on; NULL: the built-in one the
                                     * driver names ("none": no device, a filter) */
    ksl_config cfg;            /* engine settings (cpus, seed, strategy, ...); the device's data seed too */
    uint32_t frames;           /* read SRBs the reader submits in all (default 200) */
    uint32_t in_flight;        /* read SRBs kept submitted (default 4) */
    uint32_t cancel_every;     /* cancel every K-th SRB while it is outstanding (0: never) */
    uint32_t pause_every_ms;   /* the churner pauses the stream 1 ms every this much (0: never; default 7) */
    uint32_t wait_ms;          /* how long the reader waits for one SRB before counting it timed out
                                * and cancelling it (virtual time; default 1000) */
    uint32_t close_after;      /* once this many SRBs have completed, stop waiting: STOP and close the
                                * stream with the rest still outstanding (the class cancels them; they
                                * count as cancelled, or delivered if they completed); 0: never */
    ksl_trace_fn *trace_fn;    /* every event of the run to this hook (e.g. recorder_event) */
    void *trace_user;
    bool keep_choices;
    uint32_t faults;           /* device faults shown at seeded moments of the run (faults.h) */
    const char *fault;         /* ...each this one; NULL: each picked by the seed */
    uint32_t query_every_ms;   /* a second PASSIVE client asks the pin its state (SRB_GET_STREAM_STATE)
                                * this often while it is open (0: none) */
    uint8_t aim;               /* picked SRBs are cancelled at the class's next event of this kind
                                * (KSL_STRM_EV_*; KSL__AIM_EACH: receive and Low in turn), not at a seeded moment */
} stream_job;

typedef struct stream_result {
    int rc;                    /* 0 ran to the end (see data_ok), 1 finding, 2 bad input, -1 internal error */
    char err[256];             /* when rc is 2 or -1 */
    ksl_finding findings[KSL_MAX_RUN_FINDINGS]; /* when rc is 1: the run's, in the order recorded */
    uint32_t nfindings;
    bool checked;              /* the output check ran (see data_ok): a clean run, or one whose
                                * findings all let it go on */
    ksl_stream_stats cls;      /* the class's counters and per-entry-point times */
    ksl_stats engine;
    uint64_t trace_hash;
    uint32_t *choices;         /* keep_choices (malloc'd) */
    size_t nchoices;
    /* the reader's view */
    uint64_t srbs_submitted;   /* read SRBs */
    uint64_t srbs_ok;          /* completed STATUS_SUCCESS */
    uint64_t srbs_cancelled;   /* completed STATUS_CANCELLED */
    uint64_t srbs_failed;      /* completed with another status */
    uint64_t srbs_timed_out;   /* not completed within wait_ms (then cancelled) */
    uint64_t state_queries;    /* query_every_ms: SRB_GET_STREAM_STATE requests that succeeded */
    uint32_t faults_injected;  /* device faults shown (faults) */
    uint64_t srbs_picked;      /* picked for cancellation */
    uint64_t frames_delivered; /* good frames */
    uint64_t frames_missing;   /* gaps in the frame numbers (frames the device dropped) */
    uint64_t frames_bad;       /* failed the frame check (or the wrong seed) */
    uint64_t frames_disorder;  /* not in increasing order */
    uint32_t frame_bytes;      /* size of the frames seen */
    /* the device's view (fifocap / polldev / lowerbus) */
    uint64_t dev_frames;       /* produced (lowerbus: requests submitted, each numbered) */
    uint64_t dev_dropped;      /* lowerbus: requests cancelled (their frame numbers are gaps) */
    uint64_t dev_interrupts;
    bool data_ok;              /* rc 0 and every check passed */
    const char *check_rule;    /* when !data_ok after rc 0: the rule the check breaks */
    char data_msg[256];
} stream_result;

/* Defaults for a job streaming through `driver`. */
void stream_job_default(stream_job *job, const ksl_stream_driver *driver);
/* Run it.  Returns res->rc. */
int stream_job_run(const stream_job *job, stream_result *res);
void stream_result_free(stream_result *res);

#endif
