/* SPDX-License-Identifier: MIT */
/*
 * Scenario files (`--scenario-file`, docs/SCENARIOS.md): a campaign's scenarios written as JSON,
 * composing the events the built-in scenarios are made of, read with jansson and checked field
 * by field; and the same format written back (the built-in scenarios, or a file's, canonical).
 * Host code.
 */
#ifndef KSLAB_CAMPAIGN_SCENARIO_FILE_H
#define KSLAB_CAMPAIGN_SCENARIO_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "scenarios.h"

typedef struct ksl__scenario_set {
    ksl__scenario *list;      /* each with its def_hash; the strings are the set's */
    size_t n;
    uint64_t hash;            /* of the whole set: names and definitions, in order */
} ksl__scenario_set;

/* Read and check `path`.  0, or -1 with a message naming the file, the scenario and the key. */
int ksl__scenario_file_load(const char *path, ksl__scenario_set *set, char *err, size_t errlen);
/* The same from `n` bytes of text; `name` names it in messages. */
int ksl__scenario_text_load(const char *text, size_t n, const char *name, ksl__scenario_set *set, char *err,
                            size_t errlen);
void ksl__scenario_set_free(ksl__scenario_set *set);
/* The WavePci and stream class scenarios of `list` as a scenario file (malloc'd, ends in a
 * newline), or NULL when out of memory. */
char *ksl__scenarios_json(const ksl__scenario *list, size_t n);
/* The hash of one scenario's definition (what its executions depend on: kind, job, events); never
 * 0.  Replay tokens carry it. */
uint64_t ksl__scenario_hash(const ksl__scenario *sc);

#endif
