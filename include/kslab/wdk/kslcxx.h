/* SPDX-License-Identifier: MIT */
/*
 * kslab's C++ driver runtime, declared: the pool forms of operator new that WDK drivers use
 * (`new (NonPagedPool, 'gaTx') CThing(...)`).  Memory comes from kslab's pool
 * (<kslab/ke.h>): zeroed, tracked for leaks, NULL when allocation-failure injection fails it
 * (drivers are built with -fcheck-new, so a constructor never runs on NULL).  They, the
 * replaceable global forms (plain, sized and array operator new/delete) and __cxa_pure_virtual
 * live in the runtime library the build helper links into every C++ plugin (libkslab_cxxrt.a).
 *
 * IRQL: as ExAllocatePoolWithTag / ExFreePool (<= DISPATCH_LEVEL; paged pool <= APC_LEVEL).
 */
#ifndef KSLAB_WDK_KSLCXX_H
#define KSLAB_WDK_KSLCXX_H

#ifdef __cplusplus
#include <stddef.h>

#include <kslab/wdk/wdm.h>

/*
 * A zeroed block of `size` bytes from pool `pool_type` with tag `tag` (default 'Ksxl'), NULL on
 * failure.  Defined out of line in the C++ runtime, on purpose: drivers rely on the zeroing
 * (members their constructors leave alone start at 0, as under the WDK), and an optimizer that
 * saw the memset next to the constructor could drop it as a store to an object whose life has
 * not begun.
 */
void *operator new(size_t size, POOL_TYPE pool_type, ULONG tag) noexcept;
void *operator new(size_t size, POOL_TYPE pool_type) noexcept;
void *operator new[](size_t size, POOL_TYPE pool_type, ULONG tag) noexcept;
void *operator new[](size_t size, POOL_TYPE pool_type) noexcept;
/* Called only when a constructor of an object placed by the forms above throws: never, with
 * -fno-exceptions; present so that the forms pair up. */
void operator delete(void *p, POOL_TYPE pool_type, ULONG tag) noexcept;
void operator delete(void *p, POOL_TYPE pool_type) noexcept;
#endif
#endif
