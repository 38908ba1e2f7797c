/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the end-to-end tests: run a whole audio job (src/campaign/audio_job.h) and
 * check its result against what the test computes itself from IN — the bytes, every IRP's
 * outcome, the port's and the device's counters — never only against the job's own data_ok.
 */
#ifndef KSLAB_TEST_E2E_H
#define KSLAB_TEST_E2E_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audio_job.h"

/* The built-in test signal (fails the test when out of memory). */
ksl_pcm e2e_signal(uint32_t rate, uint16_t channels, size_t frames, uint64_t seed);
/* Bytes of audio per IRP, as the job cuts IN: irp_ms of frames, at least one frame. */
uint32_t e2e_irp_bytes(const ksl_pcm *in, uint32_t irp_ms);
/* The job's defaults for the reference AC'97 driver, keeping the output. */
void e2e_job(audio_job *job, const ksl_pcm *in, bool capture);
/* Run the job: rc 0 (else fail with the finding or error), then e2e_check.  `what` names the
 * case in failure messages. */
void e2e_run(const audio_job *job, audio_result *res, const char *what);
/*
 * Check a clean run (keep_output) from first principles:
 *  - the IRPs are IN cut at e2e_irp_bytes, in order; the ones cancel_every picks are marked;
 *    each submitted IRP completed exactly once, with STATUS_SUCCESS and all its bytes or with
 *    STATUS_CANCELLED and at most its bytes; without stop_after_irps every IRP was submitted and
 *    every IRP not picked for cancellation succeeded;
 *  - the output is, byte for byte, render: the concatenation over IRPs in order of
 *    IN[offset, offset + transferred); capture: IN[0, total transferred) (the microphone's tape
 *    advances only when captured);
 *  - port counters match those outcomes, completed + cancelled == submitted, bytes submitted ==
 *    transferred + cancelled, mappings handed == released + revoked; the device moved exactly
 *    the output and had no DMA error; the job's own check agrees.
 */
void e2e_check(const audio_job *job, const audio_result *res, const char *what);
/* Virtual seconds of audio in IN. */
double e2e_seconds(const ksl_pcm *in);

#endif
