/* SPDX-License-Identifier: MIT */
/*
 * The first error of a reader of an input file (a result, a scenario file, a registry file): the
 * message is WHERE ": " WHAT, and later errors are dropped so that the message names the first
 * thing wrong.  And the 64-bit FNV-1a hash those readers give what they read.  Host code; a leaf
 * of the layers.
 */
#ifndef KSLAB_UTIL_READER_ERROR_H
#define KSLAB_UTIL_READER_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KSL__FNV_OFFSET 0xCBF29CE484222325ull

/* Unless *failed: set it and write "where: what" (fmt, ap) into err. */
void ksl__reader_error(bool *failed, char *err, size_t errlen, const char *where, const char *fmt, va_list ap);
/* A JSON parser's error (its text and line; a line below 1: the file could not be read) as
 * "where: not JSON: text (line N)" or "where: text". */
void ksl__json_load_error(char *err, size_t errlen, const char *where, const char *text, int line);
/* FNV-1a of n bytes, continuing from h (KSL__FNV_OFFSET to start). */
uint64_t ksl__fnv1a(uint64_t h, const void *data, size_t n);

#endif
