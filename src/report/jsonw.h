/* SPDX-License-Identifier: MIT */
/*
 * JSON through jansson: a string of any bytes as a JSON value (cleaned to UTF-8 first, since
 * jansson takes only valid UTF-8 and a driver may print anything), and writing one value to a
 * stream.  Host code.
 */
#ifndef KSLAB_REPORT_JSONW_H
#define KSLAB_REPORT_JSONW_H

#include <stdio.h>

#include <jansson.h>

/* A JSON string of `s` (NULL: ""), invalid UTF-8 replaced by U+FFFD; NULL when out of memory. */
json_t *ksl__json_str(const char *s);
/* Write `s` as a JSON string to `f` (errors stay in ferror(f)). */
void ksl__json_put_string(FILE *f, const char *s);

#endif
