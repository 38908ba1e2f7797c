/* SPDX-License-Identifier: MIT */
/*
 * A crashing driver's backtrace, from the worker to the report.  In the worker, the crash handler
 * captures the frames from the faulting instruction outwards and encodes each as a module path
 * and an offset from the module's load address (a table of the loaded modules, taken before the
 * execution, keeps the handler async-signal-safe and the output free of raw addresses).  In the
 * parent, the frames are decoded and symbolized (symbolize.h): the faulting location as
 * module + offset, the function, file and line of each frame, and the driver's innermost line.
 */
#ifndef KSLAB_CAMPAIGN_BACKTRACE_H
#define KSLAB_CAMPAIGN_BACKTRACE_H

#include <stddef.h>
#include <stdint.h>

#define KSL__BT_MAX_FRAMES 24
#define KSL__BT_PATH 256
/* The encoded frames: a count (u32), then per frame its offset (u64), flags (u32) and the
 * module's path (KSL__BT_PATH bytes, NUL-terminated). */
#define KSL__BT_FRAME_BYTES (8u + 4u + KSL__BT_PATH)
#define KSL__BT_MAX_BYTES (4u + KSL__BT_MAX_FRAMES * KSL__BT_FRAME_BYTES)
#define KSL__BT_FAULT 0x1u /* the frame is the faulting instruction itself (not a return address) */

typedef struct ksl__bt_frame {
    uint64_t offset;
    uint32_t flags;
    char module[KSL__BT_PATH]; /* "" when the address is in no module kslab knows */
} ksl__bt_frame;

/* Worker, after loading plugins and before executions: note the loaded modules. */
void ksl__bt_note_modules(void);
/* Worker, in a crash handler (async-signal-safe) or a sanitizer's death callback: capture the
 * frames of the calling thread, from `fault_pc` outwards when it is non-zero (the frames of the
 * handler itself are dropped), into buf (KSL__BT_MAX_BYTES); returns the bytes used. */
size_t ksl__bt_capture(uintptr_t fault_pc, uint8_t *buf);
/* Parent: decode what ksl__bt_capture wrote; the number of frames, or -1 when malformed. */
int ksl__bt_decode(const uint8_t *p, size_t n, ksl__bt_frame *out);

/* Parent: describe a crash's frames.  `driver` is the driver plugin's path (NULL: built in): the
 * innermost frame in it with a source line is the driver's location (else the innermost frame
 * with one).  `where` gets "buggy-crash.so+0x25a8 (st_revoke_mappings, stream.c:176)" for the
 * faulting frame, `detail` one line per frame; *file / *line the location ("" / 0: none). */
void ksl__bt_describe(const ksl__bt_frame *f, int n, const char *driver, char *where, size_t wlen, char *detail,
                      size_t dlen, char *file, size_t flen, int *line);

#endif
