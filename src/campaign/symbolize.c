/* SPDX-License-Identifier: MIT */
/* Naming the code at a crash with libdw (see symbolize.h). */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize.h"

#define MAX_MODULES 16

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

typedef struct module {
    char *path;
    Dwfl *dwfl;          /* NULL: the file could not be read */
    Dwfl_Module *mod;
} module;

struct ksl__symbolizer {
    module m[MAX_MODULES];
    size_t n;
};

ksl__symbolizer *ksl__symbolizer_new(void)
{
    return calloc(1, sizeof(ksl__symbolizer));
}

void ksl__symbolizer_free(ksl__symbolizer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        if (s->m[i].dwfl)
            dwfl_end(s->m[i].dwfl);
        free(s->m[i].path);
    }
    free(s);
}

/* The module at `path`, reported at base 0 so that its addresses are the file's own (what a
 * frame's offset from the load address is); NULL when it cannot be read. */
static Dwfl_Module *module_of(ksl__symbolizer *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->m[i].path, path) == 0)
            return s->m[i].mod;
    if (s->n == MAX_MODULES)
        return NULL;
    module *m = &s->m[s->n];
    if (!(m->path = strdup(path)))
        return NULL;
    s->n++;
    if (!(m->dwfl = dwfl_begin(&callbacks)))
        return NULL;
    dwfl_report_begin(m->dwfl);
    m->mod = dwfl_report_elf(m->dwfl, path, path, -1, 0, false);
    dwfl_report_end(m->dwfl, NULL, NULL);
    return m->mod;
}

int ksl__symbolize_site(ksl__symbolizer *s, const char *path, const char *file, int line, char *fn, size_t n)
{
    fn[0] = 0;
    Dwfl_Module *mod = path && path[0] && file && line > 0 ? module_of(s, path) : NULL;
    if (!mod)
        return -1;
    Dwfl_Line **srcs = NULL;
    size_t nsrcs = 0;
    if (dwfl_module_getsrc_file(mod, file, line, 0, &srcs, &nsrcs) != 0 || !nsrcs) {
        free(srcs);
        return -1;
    }
    Dwarf_Addr a = 0;
    const char *src = dwfl_lineinfo(srcs[0], &a, NULL, NULL, NULL, NULL);
    free(srcs);
    if (!src)
        return -1;
    /* The innermost function there, an inlined one included (its symbol is its caller's). */
    const char *name = NULL;
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(mod, a, &bias);
    Dwarf_Die *scopes = NULL;
    int nscopes = cu ? dwarf_getscopes(cu, a - bias, &scopes) : 0;
    for (int i = 0; i < nscopes && !name; i++) {
        int tag = dwarf_tag(&scopes[i]);
        Dwarf_Attribute at;
        if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine)
            name = dwarf_formstring(dwarf_attr_integrate(&scopes[i], DW_AT_name, &at));
    }
    if (!name)
        name = dwfl_module_addrname(mod, a);
    if (name)
        snprintf(fn, n, "%s", name);
    free(scopes);
    return name ? 0 : -1;
}

int ksl__symbolize(ksl__symbolizer *s, const char *path, uint64_t offset, bool return_address, ksl__sym *out)
{
    memset(out, 0, sizeof *out);
    Dwfl_Module *mod = path && path[0] ? module_of(s, path) : NULL;
    if (!mod)
        return -1;
    Dwarf_Addr bias = 0;
    dwfl_module_getelf(mod, &bias);
    Dwarf_Addr a = (Dwarf_Addr)offset + bias - (return_address && offset ? 1 : 0);
    const char *name = dwfl_module_addrname(mod, a);
    if (name)
        snprintf(out->function, sizeof out->function, "%s", name);
    Dwfl_Line *l = dwfl_module_getsrc(mod, a);
    if (l) {
        int line = 0;
        const char *src = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
        if (src) {
            snprintf(out->file, sizeof out->file, "%s", src);
            out->line = line;
        }
    }
    return 0;
}
