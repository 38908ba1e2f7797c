/* SPDX-License-Identifier: MIT */
/*
 * What a finding is, beyond where: the function its call site is in, read from the module's
 * DWARF line table (the driver plugin's, else libkslab's own for the built-in drivers and
 * kslab's layers), and a fingerprint of the rule, the call site's file name and that function.
 * Code scanning and baselines match findings by it: a line moved by an unrelated edit keeps it,
 * a finding in another function or file does not.  Host code, as the result is assembled.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "result.h"
#include "symbolize.h"

static const char anchor; /* an address inside the module this code is in */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (const char *p = s ? s : ""; ; p++) {
        h ^= (unsigned char)*p;
        h *= 0x100000001B3ull;
        if (!*p)
            return h; /* the terminator too: "ab","c" differs from "a","bc" */
    }
}

/* The function `file`:`line` is in: the plugin's DWARF first, then libkslab's. */
static void function_of(const char *file, int line, const char *plugin_path, char *fn, size_t len)
{
    fn[0] = 0;
    if (!file || line <= 0)
        return;
    ksl__symbolizer *s = ksl__symbolizer_new();
    Dl_info info;
    if (s && plugin_path)
        ksl__symbolize_site(s, plugin_path, file, line, fn, len);
    if (s && !fn[0] && dladdr(&anchor, &info) && info.dli_fname)
        ksl__symbolize_site(s, info.dli_fname, file, line, fn, len);
    ksl__symbolizer_free(s);
}

void ksl__finding_identify(ksl_result_finding *f, const char *plugin_path)
{
    char fn[KSL__SYM_FUNC], racing[KSL__SYM_FUNC];
    function_of(f->file, f->line, plugin_path, fn, sizeof fn);
    function_of(f->racing_file, f->racing_line, plugin_path, racing, sizeof racing);
    f->function = fn[0] ? ksl__text(fn) : NULL;
    f->racing_function = racing[0] ? ksl__text(racing) : NULL;
    const char *base = f->file ? strrchr(f->file, '/') : NULL;
    uint64_t h = 0xCBF29CE484222325ull;
    h = fnv1a(h, f->rule);
    h = fnv1a(h, base ? base + 1 : f->file);
    h = fnv1a(h, fn);
    if (racing[0]) /* a race: which function it races with too (none: as before, baselines keep) */
        h = fnv1a(h, racing);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
    f->fingerprint = ksl__text(hex);
}

uint64_t ksl__finding_origin(const char *rule, const char *file, int line)
{
    char ln[16];
    snprintf(ln, sizeof ln, "%d", line);
    uint64_t h = fnv1a(0xCBF29CE484222325ull, rule);
    h = fnv1a(h, file);
    h = fnv1a(h, ln);
    return h ? h : 1;
}
