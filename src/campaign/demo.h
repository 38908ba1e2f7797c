/* SPDX-License-Identifier: MIT */
/* Built-in demonstration scenarios of the engine (until driver scenarios exist). */
#ifndef KSLAB_DEMO_H
#define KSLAB_DEMO_H

#include <kslab/engine.h>

typedef struct demo_result {
    uint64_t counter;    /* increments that reached the shared counter */
    uint64_t expected;
    uint64_t ticks;      /* device interrupts handled */
} demo_result;

typedef struct demo_scenario {
    const char *name;
    const char *summary;
    int buggy;
    /* Set up devices, objects and client threads on `e`; results land in *r after the run. */
    void *(*setup)(ksl_engine *e, demo_result *r);
    void (*teardown)(void *state);
} demo_scenario;

const demo_scenario *demo_find(const char *name);
const demo_scenario *demo_list(size_t *n);

#endif
