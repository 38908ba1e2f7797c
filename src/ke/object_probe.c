/* SPDX-License-Identifier: MIT */
/*
 * Which bytes of a driver's memory are kernel objects: for checks that diff driver memory
 * (the stream class's extension lockset), which must leave alone the objects the kernel itself
 * updates from whatever context uses them (a spin lock's owner, a DPC's queue state, an event's
 * signal state).  Recognized by the magic each initializer writes.
 */
#include <stddef.h>
#include <string.h>

#include "ke_internal.h"

static uint32_t word_at(const uint8_t *p, size_t off, size_t avail)
{
    uint32_t v = 0;
    if (off + sizeof v <= avail)
        memcpy(&v, p + off, sizeof v);
    return v;
}

size_t ksl_kernel_object_size(const void *p, size_t avail)
{
    const uint8_t *b = p;
    uint32_t w0 = word_at(b, 0, avail);
    size_t n = 0;
    if (w0 == KSL_MAGIC_DPC)
        n = sizeof(ksl_dpc);
    else if (w0 == KSL_MAGIC_EVENT)
        n = sizeof(ksl_event);
    else if (w0 == KSL_MAGIC_TIMER)
        n = sizeof(ksl_timer);
    else if (w0 == KSL_MAGIC_MUTEX)
        n = sizeof(ksl_fast_mutex);
    else if (w0 == KSL_MAGIC_KMUTEX)
        n = sizeof(ksl_kmutex);
    else if (word_at(b, offsetof(ksl_spinlock, magic), avail) == KSL_MAGIC_SPIN)
        n = sizeof(ksl_spinlock);
    return n <= avail ? n : 0;
}
