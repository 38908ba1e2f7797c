// SPDX-License-Identifier: MIT
//
// kslab's C++ driver runtime: what a C++ PortCls driver needs from a C++ runtime in the kernel,
// linked into every C++ driver plugin (libkslab_cxxrt.a; the build helper and kslab-cxx.pc add
// it).  The pool forms of operator new are inline in <kslab/wdk/kslcxx.h>; here are the
// pool forms (declared in <kslab/wdk/kslcxx.h>), the replaceable global forms and the ABI hooks:
//
//  - plain and array operator new: NonPagedPool, zeroed, NULL on failure (drivers are built
//    with -fcheck-new, as kernel C++ has no exceptions), so allocation-failure injection and
//    the leak check reach C++ objects;
//  - every operator delete form (plain, sized, array, sized array): back to the pool;
//  - __cxa_pure_virtual / __cxa_deleted_virtual: the finding K.pure-virtual-call, which ends the
//    execution (an object used while it is constructed or destroyed, or after it was freed);
//  - __cxa_atexit: destructors of the plugin's static objects are recorded and never run.  A
//    driver's statics live as long as the driver, and kslab never unloads a driver during a run:
//    running them at process exit, outside any execution, would call the kernel with no kernel.
//
// IRQL: as ExAllocatePoolWithTag / ExFreePool.
#include <stddef.h>

#include <kslab/wdk/kslcxx.h>
#include <kslab/wdk/wdm.h>

// 'Cxxk' as the WDK writes tags: the pool tag of plain `new`.
static const ULONG KSL_CXX_TAG = 0x6b787843u;
static const char KSL_CXX_NEW[] = "C++ operator new";
static const char KSL_CXX_DELETE[] = "C++ operator delete";

static void *ksl_cxx_alloc(size_t n, int pool, ULONG tag)
{
    void *p = ksl_pool_alloc(pool, n ? n : 1, tag, KSL_CXX_NEW, 0);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

static int pool_of(POOL_TYPE t)
{
    return (t & 1) ? KSL_POOL_PAGED : KSL_POOL_NONPAGED; /* the paged types are the odd ones */
}

static void ksl_cxx_free(void *p)
{
    if (p)
        ksl_pool_free(p, 0, KSL_CXX_DELETE, 0);
}

void *operator new(size_t n)
{
    return ksl_cxx_alloc(n, KSL_POOL_NONPAGED, KSL_CXX_TAG);
}
void *operator new[](size_t n)
{
    return ksl_cxx_alloc(n, KSL_POOL_NONPAGED, KSL_CXX_TAG);
}
void *operator new(size_t n, POOL_TYPE pool_type, ULONG tag) noexcept
{
    return ksl_cxx_alloc(n, pool_of(pool_type), tag);
}
void *operator new(size_t n, POOL_TYPE pool_type) noexcept
{
    return ksl_cxx_alloc(n, pool_of(pool_type), KSL_CXX_TAG);
}
void *operator new[](size_t n, POOL_TYPE pool_type, ULONG tag) noexcept
{
    return ksl_cxx_alloc(n, pool_of(pool_type), tag);
}
void *operator new[](size_t n, POOL_TYPE pool_type) noexcept
{
    return ksl_cxx_alloc(n, pool_of(pool_type), KSL_CXX_TAG);
}
void operator delete(void *p, POOL_TYPE, ULONG) noexcept
{
    ksl_cxx_free(p);
}
void operator delete(void *p, POOL_TYPE) noexcept
{
    ksl_cxx_free(p);
}
void operator delete(void *p) noexcept
{
    ksl_cxx_free(p);
}
void operator delete[](void *p) noexcept
{
    ksl_cxx_free(p);
}
void operator delete(void *p, size_t) noexcept
{
    ksl_cxx_free(p);
}
void operator delete[](void *p, size_t) noexcept
{
    ksl_cxx_free(p);
}

extern "C" {

// A call through a vtable slot that has no body yet (or any more).
[[noreturn]] void __cxa_pure_virtual(void);
[[noreturn]] void __cxa_pure_virtual(void)
{
    ksl_report("K.pure-virtual-call", "C++ runtime", 0,
               "a pure virtual function was called: an object used while its constructor or destructor ran, or "
               "after it was deleted");
    __builtin_trap(); // only when no execution runs (ksl_report ends it otherwise)
}

[[noreturn]] void __cxa_deleted_virtual(void);
[[noreturn]] void __cxa_deleted_virtual(void)
{
    __cxa_pure_virtual();
}

// The plugin's static destructors: recorded, never run (see above).
int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);
int __cxa_atexit(void (*fn)(void *), void *arg, void *dso)
{
    (void)fn;
    (void)arg;
    (void)dso;
    return 0;
}

} // extern "C"
