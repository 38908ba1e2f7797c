/* SPDX-License-Identifier: MIT */
/*
 * kslab's C++ driver runtime, the part a header can hold: the pool forms of operator new that
 * WDK drivers use (`new (NonPagedPool, 'gaTx') CThing(...)`).  Memory comes from kslab's pool
 * (<kslab/ke.h>): zeroed, tracked for leaks, NULL when allocation-failure injection fails it
 * (drivers are built with -fcheck-new, so a constructor never runs on NULL).  The replaceable
 * global forms (plain, sized and array operator new/delete) and __cxa_pure_virtual live in the
 * runtime library the build helper links into every C++ plugin (libkslab_cxxrt.a).
 *
 * IRQL: as ExAllocatePoolWithTag / ExFreePool (<= DISPATCH_LEVEL; paged pool <= APC_LEVEL).
 */
#ifndef KSLAB_WDK_KSLCXX_H
#define KSLAB_WDK_KSLCXX_H

#ifdef __cplusplus
#include <stddef.h>

#include <kslab/wdk/wdm.h>

/* A zeroed block of `size` bytes from pool `pool_type` with tag `tag`, NULL on failure. */
inline void *operator new(size_t size, POOL_TYPE pool_type, ULONG tag) noexcept
{
    void *p = ExAllocatePoolWithTag(pool_type, size, tag);
    if (p)
        memset(p, 0, size);
    return p;
}
inline void *operator new(size_t size, POOL_TYPE pool_type) noexcept
{
    return operator new(size, pool_type, 0x6c78734bu /* 'Ksxl' */);
}
inline void *operator new[](size_t size, POOL_TYPE pool_type, ULONG tag) noexcept
{
    return operator new(size, pool_type, tag);
}
inline void *operator new[](size_t size, POOL_TYPE pool_type) noexcept
{
    return operator new(size, pool_type);
}
/* Called only when a constructor of an object placed by the forms above throws: never, with
 * -fno-exceptions; present so that the forms pair up. */
inline void operator delete(void *p, POOL_TYPE, ULONG) noexcept
{
    if (p)
        ExFreePool(p);
}
inline void operator delete(void *p, POOL_TYPE) noexcept
{
    if (p)
        ExFreePool(p);
}
#endif
#endif
