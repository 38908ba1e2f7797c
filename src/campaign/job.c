/* SPDX-License-Identifier: MIT */
/* Jobs: their defaults and ranges (see <kslab/campaign.h>). */
#include <stdio.h>
#include <string.h>

#include <kslab/campaign.h>

#define DEFAULT_RATE 48000u
#define DEFAULT_CHANNELS 2u
#define DEFAULT_SECONDS 2u

void ksl_job_default(ksl_job *job, ksl_job_kind kind)
{
    memset(job, 0, sizeof *job);
    job->kind = kind;
    job->rate = DEFAULT_RATE;
    job->channels = DEFAULT_CHANNELS;
    job->frames = (uint64_t)DEFAULT_RATE * DEFAULT_SECONDS;
    job->irp_ms = 10;
    job->in_flight = 4;
    job->srbs = 200;
    job->wait_ms = 1000;
    if (kind == KSL_JOB_STREAM)
        job->pause_every_ms = 7;
}

static int range(char *err, size_t errlen, const char *what, uint64_t v, uint64_t lo, uint64_t hi)
{
    if (v >= lo && v <= hi)
        return 0;
    snprintf(err, errlen, "%s %llu is out of range (%llu..%llu)", what, (unsigned long long)v, (unsigned long long)lo,
             (unsigned long long)hi);
    return -1;
}

int ksl_job_check(const ksl_job *j, char *err, size_t errlen)
{
    if (j->kind != KSL_JOB_PLAY && j->kind != KSL_JOB_CAPTURE && j->kind != KSL_JOB_STREAM) {
        snprintf(err, errlen, "unknown job kind %d", (int)j->kind);
        return -1;
    }
    if (range(err, errlen, "--in-flight", j->in_flight, 1, 64) || range(err, errlen, "--pause-every", j->pause_every_ms, 0, 3600000))
        return -1;
    if (j->kind == KSL_JOB_STREAM)
        return range(err, errlen, "--frames", j->srbs, 1, 1000000) || range(err, errlen, "the SRB wait", j->wait_ms, 1, 3600000)
                   ? -1
                   : 0;
    if (range(err, errlen, "--rate", j->rate, 1, 192000) || range(err, errlen, "--channels", j->channels, 1, 8) ||
        range(err, errlen, "the signal's frames", j->frames, 1, (uint64_t)j->rate * 3600) ||
        range(err, errlen, "--irp-ms", j->irp_ms, 1, 1000) || range(err, errlen, "--buffer-offset", j->buffer_offset, 0, 4092))
        return -1;
    if (j->buffer_offset % 4) {
        snprintf(err, errlen, "--buffer-offset %u is not a multiple of 4", (unsigned)j->buffer_offset);
        return -1;
    }
    return 0;
}
