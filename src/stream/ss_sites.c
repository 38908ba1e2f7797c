/* SPDX-License-Identifier: MIT */
/*
 * The writers the extension-memory checks remember (S4, S5 in shared_state.c, S8 in selfsync.c):
 * context, routine kind and the driver's line of each write, by index, so that a race's report
 * names both sides.  A write is seen at the scheduling point after it; when that point is in
 * kslab's own code (the stream class driver, a kernel routine it called for the minidriver) the
 * line kept is the writer's latest call in the minidriver's own source.
 */
#include <stdio.h>
#include <string.h>

#include "strm.h"

uint16_t ksl__strm_site_add(strm_ss_site *sites, uint32_t *nsites, int entry, const char *file, int line,
                            const char *who)
{
    if (!file || ksl_site_in_kslab(file)) {
        const char *df;
        int dl;
        if (ksl_driver_site(&df, &dl)) {
            file = df;
            line = dl;
        }
    }
    if (*nsites) {
        const strm_ss_site *p = &sites[*nsites - 1];
        if (p->entry == entry && p->file == file && p->line == line && strcmp(p->ctx, who) == 0)
            return (uint16_t)*nsites;
    }
    if (*nsites >= STRM_SS_SITES)
        return 0;
    strm_ss_site *s = &sites[(*nsites)++];
    s->entry = entry;
    s->file = file;
    s->line = line;
    snprintf(s->ctx, sizeof s->ctx, "%s", who);
    return (uint16_t)*nsites;
}
