/* SPDX-License-Identifier: MIT */
/*
 * The plugins' own data, the same at the start of every execution.  A worker process runs many
 * executions with one copy of each plugin loaded; a driver's global variables (a debug level, a
 * static object, a counter) would otherwise carry what one execution left to the next, and a
 * replay in a fresh worker would differ from the run it came from.  After the plugins are loaded
 * (their constructors have run), ksl__plugin_state_save copies their writable data — the
 * writable PT_LOAD segments, less the part the dynamic linker made read-only after relocation
 * (PT_GNU_RELRO) — and ksl__plugin_state_restore copies it back before each execution.
 * Thread-local data of a plugin is not covered.  Worker processes only; host code.
 */
#define _GNU_SOURCE /* dl_iterate_phdr, dlinfo */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers.h"

#define MAX_RANGES 32

typedef struct saved_range {
    uint8_t *addr;
    size_t len;
    uint8_t *copy;
} saved_range;

static saved_range ranges[MAX_RANGES];
static size_t nranges;

typedef struct find_ctx {
    uintptr_t base; /* the object's load address (its link map's l_addr) */
    const char *name;
} find_ctx;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KSL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define KSL_ASAN 1
#endif

/* Under the address sanitizer, a byte copy it does not check: a plugin built with it has poisoned
 * red zones between its globals, which belong to the segment as much as the globals do.
 * (Volatile, so that the loop does not become a call to the intercepted memcpy.) */
#ifdef KSL_ASAN
__attribute__((no_sanitize_address)) static void raw_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
    volatile uint8_t *d = dst;
    const volatile uint8_t *s = src;
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
}
#else
static void raw_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
    memcpy(dst, src, n);
}
#endif

static void add_range(uintptr_t start, uintptr_t end)
{
    if (end <= start || nranges == MAX_RANGES)
        return;
    uint8_t *copy = malloc(end - start);
    if (!copy)
        return;
    raw_copy(copy, (const uint8_t *)start, end - start);
    ranges[nranges++] = (saved_range){(uint8_t *)start, end - start, copy};
}

static int save_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    const find_ctx *c = arg;
    if (info->dlpi_addr != c->base || !info->dlpi_name || strcmp(info->dlpi_name, c->name) != 0)
        return 0;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t relro_start = 0, relro_end = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO) {
            /* what the dynamic linker write-protects: whole pages, rounded down at both ends */
            relro_start = (info->dlpi_addr + info->dlpi_phdr[i].p_vaddr) & ~(page - 1);
            relro_end = (info->dlpi_addr + info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz) & ~(page - 1);
        }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
        if (relro_end > relro_start && start < relro_end && end > relro_start) {
            add_range(start, relro_start > start ? relro_start : start);
            add_range(relro_end > start ? relro_end : start, end);
        } else {
            add_range(start, end);
        }
    }
    return 1;
}

void ksl__plugin_state_save(void)
{
    void *handles[16];
    size_t n = ksl__plugins_opened(handles, sizeof handles / sizeof handles[0]);
    for (size_t i = 0; i < n; i++) {
        struct link_map *lm = NULL;
        if (dlinfo(handles[i], RTLD_DI_LINKMAP, &lm) != 0 || !lm)
            continue;
        find_ctx c = {lm->l_addr, lm->l_name};
        dl_iterate_phdr(save_object, &c);
    }
}

void ksl__plugin_state_restore(void)
{
    for (size_t i = 0; i < nranges; i++)
        raw_copy(ranges[i].addr, ranges[i].copy, ranges[i].len);
}
