/* SPDX-License-Identifier: MIT */
/*
 * Registry files (`--registry FILE`, docs/REAL-DRIVERS.md "Seeding the registry"): the keys and
 * values an adapter's registry holds before DriverEntry, read with jansson into the seed the
 * workers copy into every bring-up (src/portcls/registry_seed.h).  Host code.
 */
#ifndef KSLAB_CAMPAIGN_REGISTRY_FILE_H
#define KSLAB_CAMPAIGN_REGISTRY_FILE_H

#include <stddef.h>

#include "../portcls/registry_seed.h"

/* Read and check `path`.  0, or -1 with a message naming the file, the key and the value. */
int ksl__registry_file_load(const char *path, ksl__reg_seed *seed, char *err, size_t errlen);
/* The same from `n` bytes of text; `name` names it in messages. */
int ksl__registry_text_load(const char *text, size_t n, const char *name, ksl__reg_seed *seed, char *err,
                            size_t errlen);
void ksl__reg_seed_free(ksl__reg_seed *seed);

#endif
