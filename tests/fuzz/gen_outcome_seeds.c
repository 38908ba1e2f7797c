/* SPDX-License-Identifier: MIT */
/*
 * Writes seed inputs for fuzz_outcome into the folder named: real requests and outcomes of the
 * worker protocol (src/campaign/proto.c), encoded.  Run by hand when the format changes:
 *     build/default/tests/gen_outcome_seeds tests/fuzz/corpus/outcome
 */
#include <stdio.h>
#include <string.h>

#include "proto.h"

static int put(const char *dir, const char *name, const ksl__wbuf *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->p, 1, b->n, f) != b->n || fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_outcome_seeds FOLDER\n");
        return 2;
    }
    int rc = 0;
    uint32_t choices[] = {0, 3, 1, 0, 0, 2};
    ksl__request rq = {.type = KSL__RQ_EXEC, .scenario = 3, .flags = KSL__RQ_KEEP_CHOICES | KSL__RQ_RECORD};
    ksl_config_default(&rq.cfg);
    rq.cfg.strategy = KSL_STRATEGY_REPLAY;
    rq.cfg.choices = choices;
    rq.cfg.nchoices = 6;
    ksl_job_default(&rq.job, KSL_JOB_CAPTURE);
    ksl__wbuf b = {0};
    ksl__request_encode(&b, &rq);
    rc |= put(argv[1], "request-replay", &b);
    ksl__wbuf_free(&b);

    ksl__outcome o;
    memset(&o, 0, sizeof o);
    o.rc = 1;
    o.steps = 1906;
    o.trace_hash = 0x1234;
    snprintf(o.finding.rule, sizeof o.finding.rule, "W6.removed-twice");
    snprintf(o.finding.message, sizeof o.finding.message, "ReleaseMapping(0x59): already revoked");
    snprintf(o.finding.context, sizeof o.finding.context, "DPC 'service group'");
    o.finding.line = 150;
    snprintf(o.file, sizeof o.file, "miniports/ac97/stream.c");
    o.choices = choices;
    o.nchoices = 6;
    ksl__counter c[2] = {{"engine.steps", 1906}, {"bytes.transferred", 384000}};
    o.counters = c;
    o.ncounters = 2;
    recorder_entry ev[2] = {{.step = 5, .cpu = 0, .phase = 'i', .line = 12, .what = "acquire spin lock",
                             .context = "thread 'client'", .file = "x.c"},
                            {.step = 6, .cpu = -1, .phase = 'B', .what = "device", .context = "device"}};
    o.events = ev;
    o.nevents = 2;
    int16_t samples[8] = {1, -1, 2, -2, 3, -3, 4, -4};
    o.output = samples;
    o.output_frames = 4;
    o.output_rate = 48000;
    o.output_channels = 2;
    ksl__outcome_encode(&b, &o);
    rc |= put(argv[1], "outcome-finding", &b);
    ksl__wbuf_free(&b);

    /* The same with two more findings of the run (it went on after the first). */
    ksl__extra x[2];
    memset(x, 0, sizeof x);
    snprintf(x[0].finding.rule, sizeof x[0].finding.rule, "S6.dispatch-over-budget");
    snprintf(x[0].finding.message, sizeof x[0].finding.message, "timer routine ran 1577.430 us");
    x[0].events = ev;
    x[0].nevents = 1;
    snprintf(x[1].finding.rule, sizeof x[1].finding.rule, "K.deadlock");
    x[1].finding.ended_run = true;
    snprintf(x[1].file, sizeof x[1].file, "miniports/ac97/stream.c");
    o.extra = x;
    o.nextra = 2;
    o.output = NULL;
    o.output_frames = 0;
    ksl__outcome_encode(&b, &o);
    rc |= put(argv[1], "outcome-findings", &b);
    ksl__wbuf_free(&b);

    ksl__outcome p;
    memset(&p, 0, sizeof p);
    p.probe.kind = KSL__DRV_STREAM;
    snprintf(p.probe.name, sizeof p.probe.name, "isr-regs");
    snprintf(p.probe.device, sizeof p.probe.device, "fifocap");
    ksl__outcome_encode(&b, &p);
    rc |= put(argv[1], "outcome-probe", &b);
    ksl__wbuf_free(&b);
    p.rc = 2;
    snprintf(p.err, sizeof p.err, "cannot load driver plugin 'x.so': not a shared object");
    ksl__outcome_encode(&b, &p);
    rc |= put(argv[1], "outcome-error", &b);
    ksl__wbuf_free(&b);
    return rc;
}
