/* SPDX-License-Identifier: MIT */
/* Writing JSON strings: the escaping the trace and SARIF writers share.  Host code. */
#ifndef KSLAB_TOOLS_JSON_H
#define KSLAB_TOOLS_JSON_H

#include <stdio.h>

/*
 * Write `s` (NULL: the empty string) to `f` as a quoted JSON string: '"' and '\\' escaped,
 * control characters as \n, \t, ... or \u00XX, valid UTF-8 passed through as is, and every byte
 * that is not part of a valid UTF-8 sequence (Latin-1 text, a sequence cut short) as \ufffd, so
 * the output is always valid UTF-8 JSON whatever a driver printed.  Write errors stay in
 * ferror(f).
 */
void json_write_string(FILE *f, const char *s);

#endif
