/* SPDX-License-Identifier: MIT */
/*
 * Which of a few functions a shared object imports (its undefined dynamic symbols), read with
 * elfutils' libelf without loading it: what tells a driver built for Windows as it is — with a
 * DriverEntry and no kslab entry point — a PortCls adapter (PcInitializeAdapterDriver) from a
 * stream class minidriver (StreamClassRegisterAdapter).  Host code.
 */
#ifndef KSLAB_CAMPAIGN_ELF_IMPORTS_H
#define KSLAB_CAMPAIGN_ELF_IMPORTS_H

#include <stdbool.h>
#include <stddef.h>

/* For each of names[0..n): whether `path` imports it (found[i]).  0, or -1 with a message when
 * the file cannot be read as ELF. */
int ksl__elf_imports(const char *path, const char *const *names, bool *found, size_t n, char *err, size_t errlen);

#endif
