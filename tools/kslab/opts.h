/* SPDX-License-Identifier: MIT */
/*
 * The command line's options: one table for every command, so that an option means the same
 * and is checked the same wherever it appears, and `--help` is written from it.  Parsing only
 * fills a structure: it never prints, exits or runs anything (the fuzz harness calls it).
 */
#ifndef KSLAB_TOOLS_OPTS_H
#define KSLAB_TOOLS_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kslab/campaign.h>

/* The commands, as bits (an option lists the commands that take it). */
enum {
    CMD_STRESS = 1u << 0,
    CMD_DEMO = 1u << 1,
    CMD_PLAY = 1u << 2,
    CMD_CAPTURE = 1u << 3,
    CMD_STREAM = 1u << 4,
    CMD_REPLAY = 1u << 5,
    CMD_MERGE = 1u << 6,
};

/* Results `kslab merge` takes at most. */
#define CLI_MAX_FILES 4096

typedef struct cli_opts {
    unsigned cmd;              /* one CMD_ bit */
    bool help;
    /* what to run */
    const char *driver;        /* --driver, or stress's positional DRIVER */
    const char *device;        /* --device */
    const char *token;         /* replay's TOKEN */
    const char *input;         /* play / capture IN.wav; replay --input */
    ksl_config cfg;
    double timeout_s;          /* 0: the default */
    double step_cpu_s;         /* 0: the default */
    /* stress / demo */
    const char *scenario;
    uint64_t schedules;
    bool schedules_set;
    double time_s;
    unsigned jobs;
    bool no_shrink;
    bool keep_going;
    double status_every_s;    /* a pipe: a status line this often (0: none) */
    const char *baseline;
    const char *rules;
    const char *suppressions;
    uint64_t max_findings;
    bool coverage;             /* print the race windows reached */
    uint32_t shard_index, shard_count; /* --shard I/N (0/0: none) */
    bool threaded;
    /* jobs */
    ksl_job job;
    uint64_t seconds;          /* the built-in signal's length */
    /* outputs */
    const char *output;        /* -o */
    const char *trace;
    const char *sarif;
    const char *srcroot;
    const char *junit;
    const char *docs_url;      /* NULL: the build's default */
    const char *scenario_file; /* --scenario-file */
    const char *registry;      /* --registry */
    bool markdown;             /* rules --markdown */
    bool json;
    /* merge: the results to merge */
    const char *files[CLI_MAX_FILES];
    size_t nfiles;
} cli_opts;

/* Fill `o` for command `cmd` (a CMD_ bit) from argv[0, argc) (the command name excluded).
 * 0, or -1 with a message in err ("unknown option '--x'", "--cpus 0: must be 1..64", ...). */
int cli_parse(unsigned cmd, int argc, char **argv, cli_opts *o, char *err, size_t errlen);
/* The options of `cmd`, one per line with their help, for usage texts. */
void cli_print_options(FILE *f, unsigned cmd);
/* The CMD_ bit of a command name, or 0. */
unsigned cli_command(const char *name);

#endif
