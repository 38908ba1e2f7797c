/* SPDX-License-Identifier: MIT */
/*
 * The drivers `--driver` names: a built-in driver ("ac97") or a driver plugin, a shared object
 * exporting kslab_plugin() (<kslab/plugin.h>).  An argument containing '/' or ending in ".so" is
 * a plugin path; anything else is a built-in name.  A plugin is dlopen'ed with RTLD_NOW |
 * RTLD_LOCAL, its every kslab symbol resolved in this executable (which exports them all), and
 * stays loaded for the life of the process.  Host code.
 */
#ifndef KSLAB_TOOLS_DRIVERS_H
#define KSLAB_TOOLS_DRIVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <kslab/wdk/portcls.h>
#include <kslab/wdk/strmini.h>

/* DRIVER_ANY: only as what driver_resolve_kind wants (a command that runs either kind). */
typedef enum driver_kind { DRIVER_ANY = 0, DRIVER_WAVEPCI = 1, DRIVER_STREAM = 2 } driver_kind;

typedef struct driver_ref {
    driver_kind kind;                 /* which of the two below is set */
    const ksl_wavepci_driver *driver; /* DRIVER_WAVEPCI: never NULL after a successful resolve */
    const ksl_stream_driver *stream;  /* DRIVER_STREAM: never NULL after a successful resolve */
    const char *name;                 /* display name: the driver's own name */
    bool plugin;                      /* loaded from a shared object */
    const char *arg;                  /* the --driver argument exactly as given (a built-in name
                                       * or the plugin path, not made absolute): what replay
                                       * tokens carry to load the same driver again */
} driver_ref;

/* Resolve a --driver argument for a command that runs drivers of `want` kind.  0, or -1 with a
 * one-line message in err (without "kslab: ") — unknown built-in name, missing file, not a shared
 * object (with dlerror()), no kslab_plugin(), another plugin ABI version, a driver of the other
 * kind (naming the command that runs it), a malformed driver.  `arg` must outlive `out` (out->arg
 * points to it). */
int driver_resolve_kind(const char *arg, driver_kind want, driver_ref *out, char *err, size_t errlen);
/* driver_resolve_kind(arg, DRIVER_WAVEPCI, ...): the WavePci commands. */
int driver_resolve(const char *arg, driver_ref *out, char *err, size_t errlen);

/* True when `arg` names a plugin path rather than a built-in driver. */
bool driver_arg_is_path(const char *arg);

/* The built-in drivers (WavePci and stream class), for `kslab list`. */
void driver_list(FILE *f);

#endif
