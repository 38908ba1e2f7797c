/* SPDX-License-Identifier: MIT */
/* JSON helpers over jansson (see jsonw.h). */
#include <stdlib.h>
#include <string.h>

#include "../util/utf8.h"
#include "jsonw.h"

json_t *ksl__json_str(const char *s)
{
    if (!s)
        s = "";
    char *clean = ksl__utf8_clean(s, strlen(s));
    if (!clean)
        return NULL;
    json_t *v = json_string(clean);
    free(clean);
    return v;
}

void ksl__json_put_string(FILE *f, const char *s)
{
    json_t *v = ksl__json_str(s);
    if (!v || json_dumpf(v, f, JSON_ENCODE_ANY) != 0)
        fputs("\"\"", f);
    json_decref(v);
}
