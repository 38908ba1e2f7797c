/* SPDX-License-Identifier: MIT */
#include "e2e.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ac97_miniport.h>
#include <kslab/wdk/wdm.h>

ksl_pcm e2e_signal(uint32_t rate, uint16_t channels, size_t frames, uint64_t seed)
{
    ksl_pcm p = {0};
    assert_int_equal(ksl_pcm_generate(&p, rate, channels, frames, seed), 0);
    return p;
}

uint32_t e2e_irp_bytes(const ksl_pcm *in, uint32_t irp_ms)
{
    uint64_t frames = (uint64_t)in->rate * irp_ms / 1000;
    return (uint32_t)((frames ? frames : 1) * in->channels * 2u);
}

void e2e_job(audio_job *job, const ksl_pcm *in, bool capture)
{
    audio_job_default(job, in, &ksl_ac97_driver, capture);
    job->keep_output = true;
}

double e2e_seconds(const ksl_pcm *in)
{
    return (double)in->frames / in->rate;
}

void e2e_run(const audio_job *job, audio_result *res, const char *what)
{
    int rc = audio_job_run(job, res);
    if (rc == 1)
        fail_msg("%s: finding %s: %s\n%s", what, res->findings[0].rule, res->findings[0].message, res->findings[0].detail);
    if (rc != 0)
        fail_msg("%s: rc %d: %s", what, rc, res->err);
    e2e_check(job, res, what);
}

#define CHECK(cond, ...)                                                                                          \
    do {                                                                                                          \
        if (!(cond)) {                                                                                            \
            char m_[400];                                                                                         \
            snprintf(m_, sizeof m_, __VA_ARGS__);                                                                 \
            fail_msg("%s: %s (%s)", what, m_, #cond);                                                             \
        }                                                                                                         \
    } while (0)

void e2e_check(const audio_job *job, const audio_result *res, const char *what)
{
    const uint8_t *in = (const uint8_t *)job->in->samples;
    size_t in_len = ksl_pcm_bytes(job->in);
    uint32_t irp_bytes = e2e_irp_bytes(job->in, job->irp_ms);
    uint32_t nirps = (uint32_t)((in_len + irp_bytes - 1) / irp_bytes);
    CHECK(res->irps != NULL && res->nirps == nirps, "%u IRP records, %u expected", res->nirps, nirps);

    uint64_t submitted = 0, succeeded = 0, cancelled = 0, bytes_sub = 0, bytes_moved = 0;
    uint64_t maps_min = 0, maps_max = 0;
    for (uint32_t i = 0; i < nirps; i++) {
        const audio_irp *r = &res->irps[i];
        uint64_t off = (uint64_t)i * irp_bytes;
        uint32_t len = (uint32_t)(in_len - off < irp_bytes ? in_len - off : irp_bytes);
        CHECK(r->offset == off && r->len == len, "IRP %u covers [%" PRIu64 ", +%u), expected [%" PRIu64 ", +%u)", i,
              r->offset, r->len, off, len);
        bool picked = job->cancel_every && (i + 1) % job->cancel_every == 0;
        CHECK(r->cancel == picked, "IRP %u cancel mark %d", i, r->cancel);
        if (!job->stop_after_irps)
            CHECK(r->submitted, "IRP %u never submitted", i);
        else if (i < job->stop_after_irps)
            CHECK(r->submitted, "IRP %u (before the stop) never submitted", i);
        if (!r->submitted) {
            CHECK(r->transferred == 0, "unsubmitted IRP %u moved %u bytes", i, r->transferred);
            continue;
        }
        uint32_t maps = (uint32_t)((job->buffer_offset + (uint64_t)len + KSL_PAGE_SIZE - 1) / KSL_PAGE_SIZE);
        submitted++;
        bytes_sub += len;
        bytes_moved += r->transferred;
        maps_max += maps;
        if (r->status == STATUS_SUCCESS) {
            succeeded++;
            if (r->transferred == len)
                maps_min += maps;
            /* capture: a PAUSE makes the miniport TerminatePacket the IRP being filled, which
             * then completes with what was captured into it */
            bool short_ok = job->capture && res->port.terminate_calls > 0;
            CHECK(r->transferred == len || (short_ok && r->transferred < len), "IRP %u succeeded with %u of %u bytes",
                  i, r->transferred, len);
        } else if (r->status == STATUS_CANCELLED) {
            cancelled++;
            CHECK(r->transferred <= len, "IRP %u cancelled after %u of %u bytes", i, r->transferred, len);
            CHECK(picked || (job->stop_after_irps && i >= job->stop_after_irps),
                  "IRP %u was cancelled but nothing cancelled it", i);
        } else {
            CHECK(false, "IRP %u completed with status 0x%08X", i, (unsigned)r->status);
        }
        CHECK(r->transferred % (job->in->channels * 2u) == 0, "IRP %u moved %u bytes: not whole frames", i,
              r->transferred);
    }

    /* the bytes, computed here from IN */
    uint8_t *want = malloc(bytes_moved ? bytes_moved : 1);
    assert_non_null(want);
    size_t at = 0;
    for (uint32_t i = 0; i < nirps; i++) {
        const audio_irp *r = &res->irps[i];
        if (!r->submitted)
            continue;
        memcpy(want + at, in + (job->capture ? at : r->offset), r->transferred);
        at += r->transferred;
    }
    CHECK(res->out_len == bytes_moved, "%zu bytes out, the IRPs moved %" PRIu64, res->out_len, bytes_moved);
    CHECK(res->out != NULL || res->out_len == 0, "no output kept");
    if (res->out_len && memcmp(res->out, want, res->out_len) != 0) {
        size_t k = 0;
        while (res->out[k] == want[k])
            k++;
        free(want);
        CHECK(false, "output differs from the expected bytes first at byte %zu of %zu", k, res->out_len);
    }
    free(want);
    CHECK(res->out_hash == ksl_hash64_of(res->out, res->out_len), "output hash");
    CHECK(res->data_ok && res->expected_len == res->out_len && res->expected_hash == res->out_hash,
          "the job's own check disagrees: %s", res->data_msg);

    /* the port's counters */
    const ksl_wavepci_stats *p = &res->port;
    CHECK(p->irps_submitted == submitted && p->irps_completed == succeeded && p->irps_cancelled == cancelled,
          "IRPs submitted/completed/cancelled %" PRIu64 "/%" PRIu64 "/%" PRIu64 ", the records say %" PRIu64
          "/%" PRIu64 "/%" PRIu64,
          p->irps_submitted, p->irps_completed, p->irps_cancelled, submitted, succeeded, cancelled);
    CHECK(p->irps_completed + p->irps_cancelled == p->irps_submitted, "an IRP did not complete exactly once");
    CHECK(p->bytes_submitted == bytes_sub && p->bytes_transferred == bytes_moved,
          "bytes submitted %" PRIu64 " (expected %" PRIu64 "), transferred %" PRIu64 " (expected %" PRIu64 ")",
          p->bytes_submitted, bytes_sub, p->bytes_transferred, bytes_moved);
    CHECK(p->bytes_submitted == p->bytes_transferred + p->bytes_cancelled,
          "bytes submitted %" PRIu64 " != transferred %" PRIu64 " + cancelled %" PRIu64, p->bytes_submitted,
          p->bytes_transferred, p->bytes_cancelled);
    CHECK(p->mappings_handed == p->mappings_released + p->mappings_revoked,
          "mappings handed %" PRIu64 " != released %" PRIu64 " + revoked %" PRIu64, p->mappings_handed,
          p->mappings_released, p->mappings_revoked);
    CHECK(p->mappings_handed >= maps_min && p->mappings_handed <= maps_max,
          "%" PRIu64 " mappings handed out, the IRPs hold %" PRIu64 "..%" PRIu64, p->mappings_handed, maps_min,
          maps_max);
    if (!cancelled)
        CHECK(p->mappings_revoked == 0 && p->revoke_calls == 0, "revocations without a cancelled IRP");

    /* the device moved exactly the output */
    const ksl_ac97_stats *d = &res->dev;
    CHECK(d->dma_errors == 0, "%" PRIu64 " DMA errors", d->dma_errors);
    if (job->capture)
        CHECK(d->bytes_captured == res->out_len && d->bytes_played == 0,
              "device captured %" PRIu64 " bytes, played %" PRIu64 ", for %zu bytes out", d->bytes_captured,
              d->bytes_played, res->out_len);
    else
        CHECK(d->bytes_played == res->out_len && d->bytes_captured == 0,
              "device played %" PRIu64 " bytes, captured %" PRIu64 ", for %zu bytes out", d->bytes_played,
              d->bytes_captured, res->out_len);
    /* (a revoke can end every buffer before it completes; a PAUSE can release a finished one
     * before its interrupt is serviced) */
    if (res->out_len && !cancelled && !job->pause_every_ms)
        CHECK(d->interrupts > 0 && d->buffers_completed > 0 && res->engine.interrupts > 0 && res->engine.dpcs > 0,
              "data moved without interrupts");
    CHECK(d->buffers_completed <= p->mappings_handed, "%" PRIu64 " buffers completed for %" PRIu64 " mappings",
          d->buffers_completed, p->mappings_handed);
    CHECK(res->engine.time_ns > 0 && res->engine.steps > 0, "the engine did not run");
}
