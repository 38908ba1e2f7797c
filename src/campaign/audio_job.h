/* SPDX-License-Identifier: MIT */
/*
 * One audio job end to end: an engine, simulated memory, the AC'97 device, the WavePci port with
 * a driver, and client threads that stream a PCM signal through it (render: IN is played and the
 * device's output collected; capture: IN is what the microphone hears and the IRPs' data is
 * collected), optionally cancelling IRPs, pausing, and stopping early.  After the run the output
 * is checked against IN: it must be IN without exactly the bytes the cancelled IRPs did not
 * transfer (and, after an early stop, without the IRPs never submitted).  The result lists what
 * became of every IRP (audio_result.irps) for callers that check the bytes themselves.
 * Shared by `kslab play` / `kslab capture`, the tests and the benchmark.  Host code.
 */
#ifndef KSLAB_CAMPAIGN_AUDIO_JOB_H
#define KSLAB_CAMPAIGN_AUDIO_JOB_H

#include <stdio.h>

#include <kslab/audio.h>
#include <kslab/device.h>
#include <kslab/engine.h>
#include <kslab/hw/ac97.h>
#include <kslab/wavepci.h>

#include "job_client.h"

/* What the built-in scenarios vary beyond a plain job (all 0 / false: a plain job). */
enum { AUDIO_AIM_GETMAPPING = KSL_WP_EV_GETMAPPING, AUDIO_AIM_RELEASE = KSL_WP_EV_RELEASE,
       AUDIO_AIM_SERVICE = KSL_WP_EV_SERVICE, AUDIO_AIM_EACH = KSL__AIM_EACH };
typedef struct audio_shape {
    uint8_t aim;                 /* picked IRPs are cancelled at the port's next event of this kind
                                  * (AUDIO_AIM_EACH: the three in turn), not at a seeded moment */
    uint32_t underrun_every;     /* after every N-th completed IRP, submit nothing until every
                                  * submitted one has completed (the ring runs dry), then refill;
                                  * the first IRP of each refill is cancelled at once */
    bool duplex;                 /* play: a capture pin of the same format runs at the same time */
    bool seeded_format;          /* rate and channels from the seed (exec.c picks the signal) */
    uint32_t irp_frames_max;     /* IRP lengths from the seed, 1..this many frames (not irp_ms), every
                                  * other one a sample (2 bytes) longer: not a whole number of frames
                                  * in stereo, of pages ever */
    uint32_t zero_every;         /* every N-th IRP carries no data */
    uint8_t state_walk;          /* the pauser walks RUN->PAUSE->ACQUIRE->PAUSE->RUN (KSL__WALK_ACQUIRE),
                                  * or through STOP and back (KSL__WALK_STOP: the port cancels what
                                  * is queued; a submission refused in STOP is made again after) */
    bool power_cycle;            /* the pauser powers the device down (D3) for its pause instead */
    uint32_t query_every_ms;     /* a thread calls GetPosition this often while the pin is open, and
                                  * SetFormat (the pin's own format) every 4th time */
    uint32_t submitters;         /* 2: two client threads feed the (playback) pin, each keeping half
                                  * the IRPs in flight; the output is checked in the order the port
                                  * queued them */
    uint32_t faults;             /* device faults shown at seeded moments of the audio (faults.h) */
    uint32_t jitter_ns;          /* the engine's seeded jitter (ksl_config): device events ... */
    uint32_t timer_jitter_ns;    /* ... and timer expiries */
    const char *fault;           /* ...each this one; NULL: each picked by the seed */
} audio_shape;

typedef struct audio_job {
    bool capture;
    const ksl_pcm *in;
    const ksl_wavepci_driver *driver;
    const ksl_device_model *device; /* the audio device to run it on; NULL: the built-in one the
                                     * driver names (the AC'97) */
    ksl_config cfg;              /* engine settings (cpus, seed, strategy, ...) */
    uint32_t irp_ms;             /* audio per IRP, default 10 */
    uint32_t irps_in_flight;     /* IRPs the client keeps queued, default 4 */
    uint32_t cancel_every;       /* cancel every K-th IRP while in flight (0: never) */
    uint32_t pause_every_ms;     /* pause for 1 ms every this much virtual time (0: never); the
                                  * pauser stops as soon as the client is done */
    bool scatter;                /* scatter physical pages (default true) */
    uint32_t buffer_offset;      /* IRP buffers' offset in their first page (multiple of 4) */
    bool keep_output;            /* keep the output bytes (else only their hash) */
    uint32_t stop_after_irps;    /* STOP the pin once this many IRPs have completed, with the later
                                  * ones still queued (they complete STATUS_CANCELLED), submit no
                                  * more, then close as usual (0: never; play to the end) */
    ksl_trace_fn *trace_fn;      /* every event of the run to this hook (deterministic engine), e.g.
                                  * recorder_event (recorder.h) for a trace file or a SARIF flow */
    void *trace_user;
    bool keep_choices;           /* copy the strategy's choice list into the result */
    audio_shape shape;
} audio_job;

/* What became of one IRP of the job (IRP i carries IN[offset, offset + len)), in submission order. */
typedef struct audio_irp {
    uint64_t offset;
    uint32_t len;
    uint32_t transferred;        /* IoStatus.Information: bytes the device moved (capture: a PAUSE
                                  * ends the packet being filled early, by TerminatePacket, and it
                                  * succeeds with what it holds) */
    int32_t status;              /* IoStatus.Status (STATUS_SUCCESS or STATUS_CANCELLED) */
    bool submitted;              /* false: never submitted (after stop_after_irps, or a failed run) */
    bool cancel;                 /* picked for cancellation by cancel_every */
    uint64_t seq;                /* its place in the pin's queue (ksl_wavepci_irp_sequence) */
} audio_irp;

typedef struct audio_result {
    int rc;                      /* 0 clean, 1 finding, 2 bad input, -1 internal error */
    char err[512];               /* when rc is 2 or -1 */
    bool format_refused;         /* a seeded format the driver refused at open: a clean run that
                                  * played nothing (no data check) */
    ksl_finding findings[KSL_MAX_RUN_FINDINGS]; /* when rc is 1: the run's, in the order recorded */
    uint32_t nfindings;
    bool checked;                /* the output check ran (see data_ok): a clean run, or one whose
                                  * findings all let it go on */
    ksl_wavepci_stats port;
    ksl_ac97_stats dev;           /* the device's counters of the same names (<kslab/device.h>) */
    uint64_t codec_master_volume, codec_pcm_out_volume; /* its "codec.*" counters (0: none) */
    ksl_stats engine;
    uint64_t trace_hash;         /* ksl_engine_trace_hash: equal hashes = equal runs */
    uint32_t *choices;           /* keep_choices: the choices the strategy made (malloc'd) */
    size_t nchoices;
    audio_irp *irps;             /* every IRP of the job, in order (malloc'd; after rc 0 or 1) */
    uint32_t nirps;
    uint8_t *out;                /* kept output (keep_output), malloc'd */
    size_t out_len;
    uint64_t out_hash;
    uint64_t expected_len;       /* what the output must be, from IN and the cancellations */
    uint64_t expected_hash;
    uint32_t faults_injected;    /* device faults shown (shape.faults) */
    bool data_ok;                /* the output equals the expected bytes, and the port's counters
                                  * balance (every IRP completed once, every byte accounted for) */
    const char *check_rule;      /* when !data_ok after a clean run: the rule id the check breaks */
    char data_msg[256];
} audio_result;

/* Defaults for a job playing (or capturing) `in` through `driver`. */
void audio_job_default(audio_job *job, const ksl_pcm *in, const ksl_wavepci_driver *driver, bool capture);
/* Run it.  Returns res->rc. */
int audio_job_run(const audio_job *job, audio_result *res);
void audio_result_free(audio_result *res);

#endif
