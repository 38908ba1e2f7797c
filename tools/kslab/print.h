/* SPDX-License-Identifier: MIT */
/* The command line's human-readable report of a result (<kslab/result.h>). */
#ifndef KSLAB_TOOLS_PRINT_H
#define KSLAB_TOOLS_PRINT_H

#include <stdio.h>

#include <kslab/result.h>

#include "opts.h"

/* The line a run starts with, once the driver is known. */
void print_start(FILE *f, const cli_opts *o, const ksl_result *r);
/* A scenario of a campaign is done. */
void print_scenario(FILE *f, const ksl_result_scenario *s);
/* The whole report after the run: counts, the verdict, every finding with its token. */
void print_report(FILE *f, const cli_opts *o, const ksl_result *r);
/* What the driver printed, labelled and indented (nothing when it printed nothing). */
void print_driver_output(FILE *f, const char *label, const char *text);

#endif
