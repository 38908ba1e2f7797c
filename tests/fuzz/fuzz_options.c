/* SPDX-License-Identifier: MIT */
/* The command line's options (tools/kslab/opts.c): any words, for any command, parse or are
 * refused with a message; what parses is within every range.  The input's first byte picks the
 * command, the rest is the arguments, separated by NUL bytes. */
#include <string.h>

#include "fuzz.h"
#include "opts.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned cmds[] = {CMD_STRESS, CMD_DEMO, CMD_PLAY, CMD_CAPTURE, CMD_STREAM, CMD_REPLAY};
    if (!size)
        return 0;
    unsigned cmd = cmds[data[0] % (sizeof cmds / sizeof cmds[0])];
    char *words = malloc(size);
    if (!words)
        return 0;
    memcpy(words, data + 1, size - 1);
    words[size - 1] = 0;
    char *argv[MAX_ARGS];
    int argc = 0;
    for (size_t i = 0; i < size - 1 && argc < MAX_ARGS;) {
        argv[argc++] = words + i;
        i += strlen(words + i) + 1;
    }
    cli_opts o;
    char err[600] = "";
    if (cli_parse(cmd, argc, argv, &o, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != 0);
    } else if (!o.help) {
        FUZZ_CHECK(o.cfg.cpus >= 1 && o.cfg.cpus <= KSL_MAX_CPUS);
        FUZZ_CHECK(o.jobs >= 1 && o.jobs <= KSL_MAX_JOBS);
        FUZZ_CHECK(o.schedules >= 1 && o.schedules <= KSL_MAX_SCHEDULES);
        FUZZ_CHECK(o.timeout_s >= 0 && o.timeout_s <= KSL_MAX_TIMEOUT_S);
        FUZZ_CHECK(o.cfg.strategy != KSL_STRATEGY_PCT || (o.cfg.pct_depth >= 1 && o.cfg.pct_depth <= 64));
        if (cmd & (CMD_PLAY | CMD_CAPTURE | CMD_STREAM))
            FUZZ_CHECK(ksl_job_check(&o.job, err, sizeof err) == 0);
        if (cmd == CMD_STRESS)
            FUZZ_CHECK(o.driver != NULL);
        if (cmd == CMD_REPLAY)
            FUZZ_CHECK(o.token != NULL);
    }
    free(words);
    return 0;
}
