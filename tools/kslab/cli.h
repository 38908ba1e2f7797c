/* SPDX-License-Identifier: MIT */
/* Helpers shared by the command-line tool's commands.  Host code. */
#ifndef KSLAB_TOOLS_CLI_H
#define KSLAB_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <kslab/engine.h>

#define EXIT_CLEAN 0
#define EXIT_FINDING 1
#define EXIT_USAGE 2

/* Parse an unsigned number (decimal or 0x hex); 0, or -1 when it is not one. */
int parse_u64(const char *s, uint64_t *out);
/* Parse "random", "pct" or "pct:D" into cfg; 0, or -1. */
int parse_strategy(const char *s, ksl_config *cfg);
/* Print a finding: rule, message, call site, catalog entry, detail. */
void print_finding(const ksl_finding *f);
/* `kslab play` (capture = false) and `kslab capture`. */
int cmd_audio(int argc, char **argv, bool capture);
/* `kslab stream`. */
int cmd_stream(int argc, char **argv);

#endif
