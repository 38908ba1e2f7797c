/* SPDX-License-Identifier: MIT */
/*
 * What a run seeds every adapter's in-memory registry with (--registry FILE, read by
 * src/campaign/registry_file.c): keys and values that exist before DriverEntry runs.  A worker
 * process is given the seed when it starts and every bring-up it makes copies it into the
 * adapter's fresh registry tree (registry.c).  Host code.
 */
#ifndef KSLAB_PORTCLS_REGISTRY_SEED_H
#define KSLAB_PORTCLS_REGISTRY_SEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KSL__REG_NAME_MAX 127u   /* characters of a key or value name (ASCII) */
#define KSL__REG_PATH_MAX 8u     /* keys below a root */

typedef struct ksl__reg_entry {
    uint32_t root;                                   /* a PcNewRegistryKey key type (0..4) */
    uint32_t depth;                                  /* keys below the root */
    char keys[KSL__REG_PATH_MAX][KSL__REG_NAME_MAX + 1];
    bool has_value;                                  /* false: the key only */
    char name[KSL__REG_NAME_MAX + 1];                /* the value's ("": the key's default value) */
    uint32_t type;                                   /* REG_SZ, REG_DWORD, ... */
    uint32_t len;
    uint8_t *data;                                   /* malloc'd */
} ksl__reg_entry;

typedef struct ksl__reg_seed {
    ksl__reg_entry *entries;
    size_t n;
    uint64_t hash;                                   /* of every entry, in order; never 0 */
} ksl__reg_seed;

/* The seed every later bring-up in this process starts from (NULL: an empty registry); kept by
 * the caller. */
void ksl__pcl_registry_seed_use(const ksl__reg_seed *seed);

#endif
