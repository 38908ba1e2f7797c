/* SPDX-License-Identifier: MIT */
/*
 * basetyps.h-style COM declaration macros, so that every interface is declared once and means
 * the same object layout in both languages:
 *
 *   #undef INTERFACE
 *   #define INTERFACE IThing
 *   DECLARE_INTERFACE_(IThing, IUnknown)
 *   {
 *       DEFINE_ABSTRACT_UNKNOWN()
 *       STDMETHOD_(NTSTATUS, Do)(THIS_ ULONG Arg) PURE;
 *   };
 *
 * C sees `struct IThing { const IThingVtbl *lpVtbl; }` and a vtable struct of function pointers
 * whose first parameter is `IThing *This`; C++ sees an abstract class deriving from its base,
 * whose virtual functions take the same `this` first.  The vtables have the same slots in the
 * same order (the Itanium C++ ABI's primary vtable, pointed to by the object's first word), so
 * kslab's C port calls a C++ miniport through lpVtbl and a C++ driver calls kslab's C objects
 * as classes.
 *
 * The macros' names and meaning are the WDK's; the text is kslab's.
 */
#ifndef KSLAB_WDK_BASETYPS_H
#define KSLAB_WDK_BASETYPS_H

#include <kslab/wdk/guiddef.h>

#ifndef interface
#define interface struct
#endif

#ifdef __cplusplus

#define STDMETHOD(method) virtual HRESULT STDMETHODCALLTYPE method
#define STDMETHOD_(type, method) virtual type STDMETHODCALLTYPE method
#define STDMETHODV(method) virtual HRESULT STDMETHODVCALLTYPE method
#define STDMETHODV_(type, method) virtual type STDMETHODVCALLTYPE method
#define PURE = 0
#define THIS_
#define THIS void
#define DECLARE_INTERFACE(iface) interface DECLSPEC_NOVTABLE iface
#define DECLARE_INTERFACE_(iface, baseiface) interface DECLSPEC_NOVTABLE iface : public baseiface

#else

#define STDMETHOD(method) HRESULT(STDMETHODCALLTYPE *method)
#define STDMETHOD_(type, method) type(STDMETHODCALLTYPE *method)
#define STDMETHODV(method) HRESULT(STDMETHODVCALLTYPE *method)
#define STDMETHODV_(type, method) type(STDMETHODVCALLTYPE *method)
#define PURE
#define THIS_ INTERFACE *This,
#define THIS INTERFACE *This
/* The object (its first member points at the vtable) and the vtable, whose body follows. */
#define DECLARE_INTERFACE(iface)                 \
    typedef interface iface iface;               \
    typedef struct iface##Vtbl iface##Vtbl;      \
    interface iface {                            \
        const struct iface##Vtbl *lpVtbl;        \
    };                                           \
    struct iface##Vtbl
#define DECLARE_INTERFACE_(iface, baseiface) DECLARE_INTERFACE(iface)

#endif

#define STDMETHODIMP HRESULT STDMETHODCALLTYPE
#define STDMETHODIMP_(type) type STDMETHODCALLTYPE
#define STDMETHODIMPV HRESULT STDMETHODVCALLTYPE
#define STDMETHODIMPV_(type) type STDMETHODVCALLTYPE
#define STDAPI EXTERN_C HRESULT STDAPICALLTYPE
#define STDAPI_(type) EXTERN_C type STDAPICALLTYPE

#endif
