/* SPDX-License-Identifier: MIT */
/*
 * The calling process's memory against the number of executions (docs/BENCHMARKS.md): a campaign
 * of N executions of one scenario through libkslab's public API, then the process's peak and
 * final resident set (VmHWM and VmRSS of /proc/self/status; getrusage's maximum is updated
 * lazily and can lag the current figure).  The executions run in worker processes, so what grows
 * here is only what the campaign keeps per execution: it must stay flat.
 *
 *     bench_rss N [SCENARIO [DRIVER [JOBS]]]      (default: steady, ac97, 2)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/campaign.h>

static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0)
            v = strtol(line + strlen(key), NULL, 10);
    if (f)
        fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_rss EXECUTIONS [SCENARIO [DRIVER [JOBS]]]\n");
        return 2;
    }
    ksl_stress_opts o;
    ksl_stress_opts_default(&o);
    o.schedules = strtoull(argv[1], NULL, 10);
    o.scenario = argc > 2 ? argv[2] : "steady";
    o.run.driver = argc > 3 ? argv[3] : "ac97";
    o.jobs = argc > 4 ? (unsigned)atoi(argv[4]) : 2;
    long before = status_kib("VmRSS:");
    ksl_result *r = ksl_stress(&o);
    if (!r || r->verdict == KSL_VERDICT_ERROR) {
        fprintf(stderr, "bench_rss: %s\n", r && r->error ? r->error : "out of memory");
        return 2;
    }
    printf("%llu executions (%s, %s, %u jobs, %.1f s): RSS before %ld KiB, after %ld KiB, peak %ld KiB\n",
           (unsigned long long)r->executions, o.scenario, ksl_verdict_name(r->verdict), o.jobs, r->wall_s, before,
           status_kib("VmRSS:"), status_kib("VmHWM:"));
    ksl_result_free(r);
    return 0;
}
