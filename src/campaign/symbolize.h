/* SPDX-License-Identifier: MIT */
/*
 * Naming the code at a crash: a frame is a module (the path of a loaded ELF file) and an offset
 * from its load address, never a raw address (those change from run to run); symbolizing it reads
 * the module's symbol table and DWARF line table with elfutils' libdw.  Host code (the parent,
 * after a worker died).
 */
#ifndef KSLAB_CAMPAIGN_SYMBOLIZE_H
#define KSLAB_CAMPAIGN_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KSL__SYM_FUNC 128
#define KSL__SYM_FILE 256

typedef struct ksl__sym {
    char function[KSL__SYM_FUNC]; /* "" when the module has no symbol there */
    char file[KSL__SYM_FILE];     /* "" when it has no line table there */
    int line;
} ksl__sym;

/* A symbolizer that keeps each module it opened (free it with ksl__symbolizer_free). */
typedef struct ksl__symbolizer ksl__symbolizer;
ksl__symbolizer *ksl__symbolizer_new(void);
void ksl__symbolizer_free(ksl__symbolizer *s);
/* What is at `offset` in the module at `path`; `return_address`: the offset is a call's return
 * address (a caller's frame), so the call itself is what is named.  Returns 0, or -1 when the
 * module cannot be read (out is then empty). */
int ksl__symbolize(ksl__symbolizer *s, const char *path, uint64_t offset, bool return_address, ksl__sym *out);
/* The function whose code line `line` of source `file` is, in the module at `path` (its DWARF
 * line table, then its symbol table), into fn[0, n).  0, or -1 when the module cannot be read or
 * has no code for that line (fn is then ""). */
int ksl__symbolize_site(ksl__symbolizer *s, const char *path, const char *file, int line, char *fn, size_t n);

#endif
