/* SPDX-License-Identifier: MIT */
/* The catalog of checks as Markdown (checks_md.c). */
#ifndef KSLAB_TOOLS_CHECKS_MD_H
#define KSLAB_TOOLS_CHECKS_MD_H

#include <stdio.h>

/* docs/CHECKS.md: every rule under a heading of its id, then the device faults. */
void print_checks_markdown(FILE *f);

#endif
