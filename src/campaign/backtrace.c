/* SPDX-License-Identifier: MIT */
/* A crashing driver's backtrace (see backtrace.h). */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include <execinfo.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backtrace.h"
#include "symbolize.h"
#include "../util/path.h"

#define MAX_MODULES 64
#define MAX_RANGES 4 /* executable segments per module */

typedef struct bt_module {
    char path[KSL__BT_PATH];
    uintptr_t base; /* the load bias: an offset is an address minus it */
    uintptr_t lo[MAX_RANGES], hi[MAX_RANGES];
    unsigned nranges;
} bt_module;

static bt_module modules[MAX_MODULES];
static unsigned nmodules;

static int note_one(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size, (void)data;
    if (nmodules == MAX_MODULES)
        return 1;
    bt_module *m = &modules[nmodules];
    memset(m, 0, sizeof *m);
    if (info->dlpi_name && info->dlpi_name[0]) {
        snprintf(m->path, sizeof m->path, "%s", info->dlpi_name);
    } else { /* the program itself */
        ssize_t k = readlink("/proc/self/exe", m->path, sizeof m->path - 1);
        m->path[k > 0 ? k : 0] = 0;
    }
    m->base = (uintptr_t)info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum && m->nranges < MAX_RANGES; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        m->lo[m->nranges] = m->base + ph->p_vaddr;
        m->hi[m->nranges] = m->base + ph->p_vaddr + ph->p_memsz;
        m->nranges++;
    }
    if (m->nranges)
        nmodules++;
    return 0;
}

void ksl__bt_note_modules(void)
{
    nmodules = 0;
    dl_iterate_phdr(note_one, NULL);
    void *warm[2];
    (void)backtrace(warm, 2); /* loads the unwinder now, not in a signal handler */
}

static const bt_module *module_at(uintptr_t pc)
{
    for (unsigned i = 0; i < nmodules; i++)
        for (unsigned r = 0; r < modules[i].nranges; r++)
            if (pc >= modules[i].lo[r] && pc < modules[i].hi[r])
                return &modules[i];
    return NULL;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

size_t ksl__bt_capture(uintptr_t fault_pc, uint8_t *buf)
{
    void *pcs[KSL__BT_MAX_FRAMES + 8];
    int n = backtrace(pcs, (int)(sizeof pcs / sizeof pcs[0]));
    int from = 0;
    if (fault_pc) { /* drop the handler's own frames: start at the faulting instruction */
        from = n;
        for (int i = 0; i < n; i++)
            if ((uintptr_t)pcs[i] == fault_pc) {
                from = i;
                break;
            }
    }
    if (fault_pc && from == n) { /* the unwinder did not reach it: the faulting frame alone */
        pcs[0] = (void *)fault_pc;
        from = 0;
        n = 1;
    }
    uint32_t count = 0;
    uint8_t *p = buf + 4;
    for (int i = from; i < n && count < KSL__BT_MAX_FRAMES; i++, count++) {
        uintptr_t pc = (uintptr_t)pcs[i];
        const bt_module *m = module_at(pc);
        memset(p, 0, KSL__BT_FRAME_BYTES);
        put_u64(p, m ? pc - m->base : 0);
        put_u32(p + 8, fault_pc && i == from ? KSL__BT_FAULT : 0);
        if (m) {
            size_t k = strlen(m->path);
            memcpy(p + 12, m->path, k < KSL__BT_PATH - 1 ? k : KSL__BT_PATH - 1);
        }
        p += KSL__BT_FRAME_BYTES;
    }
    put_u32(buf, count);
    return 4 + (size_t)count * KSL__BT_FRAME_BYTES;
}

int ksl__bt_decode(const uint8_t *p, size_t n, ksl__bt_frame *out)
{
    if (n < 4)
        return -1;
    uint32_t count = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (count > KSL__BT_MAX_FRAMES || n != 4 + (size_t)count * KSL__BT_FRAME_BYTES)
        return -1;
    p += 4;
    for (uint32_t i = 0; i < count; i++, p += KSL__BT_FRAME_BYTES) {
        ksl__bt_frame *f = &out[i];
        f->offset = 0;
        for (int k = 0; k < 8; k++)
            f->offset |= (uint64_t)p[k] << (8 * k);
        f->flags = (uint32_t)p[8] | (uint32_t)p[9] << 8 | (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24;
        memcpy(f->module, p + 12, KSL__BT_PATH);
        if (f->module[KSL__BT_PATH - 1] || (f->flags & ~KSL__BT_FAULT))
            return -1;
    }
    return (int)count;
}

/* The last two components of a source path ("ac97/stream.c"): enough to read, short to print. */
static const char *short_src(const char *path)
{
    const char *end = path + strlen(path);
    int slashes = 0;
    for (const char *s = end; s > path; s--)
        if (s[-1] == '/' && ++slashes == 2)
            return s;
    return path;
}

static void frame_text(const ksl__bt_frame *f, const ksl__sym *s, char *buf, size_t len)
{
    if (!f->module[0]) {
        snprintf(buf, len, "an address in no loaded module");
        return;
    }
    int k = snprintf(buf, len, "%s+0x%llx", ksl__base_name(f->module), (unsigned long long)f->offset);
    if (k < 0 || (size_t)k >= len)
        return;
    if (s->function[0] && s->file[0])
        snprintf(buf + k, len - (size_t)k, " (%s, %s:%d)", s->function, short_src(s->file), s->line);
    else if (s->function[0])
        snprintf(buf + k, len - (size_t)k, " (%s)", s->function);
}

void ksl__bt_describe(const ksl__bt_frame *f, int n, const char *driver, char *where, size_t wlen, char *detail,
                      size_t dlen, char *file, size_t flen, int *line)
{
    where[0] = detail[0] = file[0] = 0;
    *line = 0;
    if (n <= 0)
        return;
    ksl__symbolizer *sz = ksl__symbolizer_new();
    size_t used = (size_t)snprintf(detail, dlen, "  backtrace, innermost first:\n");
    int loc = -1, loc_any = -1;
    ksl__sym loc_sym, any_sym;
    for (int i = 0; i < n; i++) {
        ksl__sym s;
        memset(&s, 0, sizeof s);
        if (sz)
            (void)ksl__symbolize(sz, f[i].module, f[i].offset, !(f[i].flags & KSL__BT_FAULT), &s);
        char text[512];
        frame_text(&f[i], &s, text, sizeof text);
        if (i == 0)
            snprintf(where, wlen, "%s", text);
        if (used < dlen)
            used += (size_t)snprintf(detail + used, dlen - used, "    #%d %s\n", i, text);
        if (s.file[0] && loc_any < 0) {
            loc_any = i;
            any_sym = s;
        }
        if (s.file[0] && loc < 0 && driver && strcmp(ksl__base_name(f[i].module), ksl__base_name(driver)) == 0) {
            loc = i;
            loc_sym = s;
        }
    }
    const ksl__sym *at = loc >= 0 ? &loc_sym : loc_any >= 0 ? &any_sym : NULL;
    if (at) {
        snprintf(file, flen, "%s", at->file);
        *line = at->line;
    }
    ksl__symbolizer_free(sz);
}
