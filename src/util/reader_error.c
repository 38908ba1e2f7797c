/* SPDX-License-Identifier: MIT */
/* Readers' first error and hash (see reader_error.h). */
#include <stdio.h>

#include "reader_error.h"

void ksl__reader_error(bool *failed, char *err, size_t errlen, const char *where, const char *fmt, va_list ap)
{
    if (*failed)
        return;
    *failed = true;
    char what[400];
    vsnprintf(what, sizeof what, fmt, ap);
    snprintf(err, errlen, "%s: %s", where, what);
}

void ksl__json_load_error(char *err, size_t errlen, const char *where, const char *text, int line)
{
    if (line < 1)
        snprintf(err, errlen, "%s: %s", where, text);
    else
        snprintf(err, errlen, "%s: not JSON: %s (line %d)", where, text, line);
}

uint64_t ksl__fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001B3ull;
    }
    return h;
}
