/* SPDX-License-Identifier: MIT */
/*
 * The drivers a run names: a built-in reference driver, or a driver plugin, a shared object
 * exporting kslab_plugin() (<kslab/plugin.h>).  An argument containing '/' or ending in ".so"
 * is a plugin path; anything else is a built-in name.
 *
 * A plugin is untrusted code: ksl__driver_load (dlopen, which runs its constructors) is called
 * only in worker processes (worker.h); the calling process resolves built-in names itself and
 * learns a plugin's name and kind from a worker's probe.  Host code.
 */
#ifndef KSLAB_CAMPAIGN_DRIVERS_H
#define KSLAB_CAMPAIGN_DRIVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kslab/device.h>
#include <kslab/wdk/portcls.h>
#include <kslab/wdk/strmini.h>

typedef enum ksl__drv_kind { KSL__DRV_NONE = 0, KSL__DRV_WAVEPCI = 1, KSL__DRV_STREAM = 2 } ksl__drv_kind;

typedef struct ksl__driver {
    ksl__drv_kind kind;                /* NONE: no driver (the engine's demonstrations) */
    const ksl_wavepci_driver *wavepci; /* KSL__DRV_WAVEPCI (in a worker, or a built-in driver) */
    const ksl_stream_driver *stream;   /* KSL__DRV_STREAM */
    char name[64];
    char description[160];
    char device[64];                   /* the device model it names */
    bool plugin;
    uint64_t hash;                     /* a plugin's file (ksl__file_hash) */
} ksl__driver;

/* True when `arg` names a plugin path rather than a built-in driver. */
bool ksl__driver_is_path(const char *arg);
/* The built-in driver `name`: 0, or -1 with "unknown driver ..." (listing the built-in names and
 * how to name a plugin). */
int ksl__driver_builtin(const char *name, ksl__driver *out, char *err, size_t errlen);
/*
 * Load the plugin at `path` and check it (ABI version, its kind against `want` (NONE: any), a
 * well-formed driver, a device kslab simulates: a built-in one or `extra_device`, the name of the
 * device plugin's model, when there is one).  Worker processes only.  0, or -1 with a message naming the file: missing, not a
 * shared object (dlerror()), a symbol kslab lacks, no kslab_plugin(), another ABI, a malformed
 * driver.  A loaded plugin stays loaded.
 */
int ksl__driver_load(const char *path, ksl__drv_kind want, const char *extra_device, ksl__driver *out, char *err,
                     size_t errlen);
/*
 * Load the device-model plugin at `path` (<kslab/device.h>, KSLAB_DEVICE_PLUGIN) and check it.
 * Worker processes only.  0 with *out, or -1 with a message naming the file.
 */
int ksl__device_load(const char *path, const ksl_device_model **out, char *err, size_t errlen);
/* Close the plugins this process opened, newest first: their destructors run (a plugin built with
 * --coverage writes its .gcda files then).  Only when none of their code can still run (a worker
 * between executions, about to end). */
void ksl__plugins_close(void);
/* The handles of the plugins this process opened, oldest first (up to max): how many. */
size_t ksl__plugins_opened(void **out, size_t max);
/* Save the opened plugins' writable data (after loading: their constructors ran), and put it back
 * (before each execution), so that no execution sees what an earlier one left in a plugin's
 * globals (plugin_state.c).  Worker processes only. */
void ksl__plugin_state_save(void);
void ksl__plugin_state_restore(void);
/* A 64-bit hash of the file's bytes (what tokens carry): 0, or -1 with a message. */
int ksl__file_hash(const char *path, uint64_t *out, char *err, size_t errlen);
/* "a WavePci driver" / "a stream class minidriver". */
const char *ksl__drv_kind_text(ksl__drv_kind k);
/* The commands that run drivers of kind `k`: "`kslab stream` and `stress`". */
const char *ksl__drv_commands(ksl__drv_kind k);
/* "wavepci" / "stream" / "". */
const char *ksl__drv_kind_name(ksl__drv_kind k);

#endif
