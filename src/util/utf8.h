/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 cleaning: text a driver printed (DbgPrint, printf) or a file name may hold any bytes,
 * and JSON, SARIF and terminals want valid UTF-8.  Host code; a leaf of the layers.
 */
#ifndef KSLAB_UTIL_UTF8_H
#define KSLAB_UTIL_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at `s` (whose first byte is >= 0x80), or 0 when it is not
 * one (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF); reads at most `n`. */
size_t ksl__utf8_seq_len(const unsigned char *s, size_t n);
/* A malloc'd copy of s[0, n) with every byte that is not part of a valid UTF-8 sequence, and
 * every NUL, replaced by U+FFFD; NULL when out of memory. */
char *ksl__utf8_clean(const char *s, size_t n);

#endif
