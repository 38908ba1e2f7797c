/* SPDX-License-Identifier: MIT */
/* `kslab stress` and the replay of its tokens, WavePci and stream class (stress.c).  Host code. */
#ifndef KSLAB_TOOLS_STRESS_H
#define KSLAB_TOOLS_STRESS_H

#include <stdbool.h>
#include <stdio.h>

#include <kslab/token.h>

/* `kslab stress DRIVER [options]`: exit 0 nothing found, 1 a finding, 2 usage error. */
int cmd_stress(int argc, char **argv);
/* Does a token's scenario belong to the stress scenarios ("wavepci/..." or "stream/...")? */
bool replay_is_stress(const char *scenario);
/* Replay a decoded stress token (`text` is the token itself, for the reports), in a worker
 * process that may take `timeout_s` of wall time; exit code as `kslab replay`'s: 1 when the
 * finding reproduces. */
int replay_stress(const ksl_token *t, const char *text, bool json, const char *trace, const char *sarif,
                  double timeout_s);
/* The scenarios, for `kslab list`. */
void stress_list(FILE *f);

#endif
