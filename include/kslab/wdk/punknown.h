/* SPDX-License-Identifier: MIT */
/*
 * punknown.h-style IUnknown for kernel-mode COM (PortCls): QueryInterface returns an NTSTATUS,
 * and DEFINE_ABSTRACT_UNKNOWN() restates its three methods at the top of every interface that
 * derives from it (in C the vtable needs them; in C++ they are the same slots).
 *
 * Names, signatures and values follow the WDK's documentation; the text is kslab's.
 */
#ifndef KSLAB_WDK_PUNKNOWN_H
#define KSLAB_WDK_PUNKNOWN_H

#include <kslab/wdk/basetyps.h>
#include <kslab/wdk/wdm.h>

DEFINE_GUID(IID_IUnknown, 0x00000000, 0x0000, 0x0000, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46);

#define DEFINE_ABSTRACT_UNKNOWN()                                                   \
    STDMETHOD_(NTSTATUS, QueryInterface)(THIS_ REFIID InterfaceId, PVOID *Interface) PURE; \
    STDMETHOD_(ULONG, AddRef)(THIS) PURE;                                           \
    STDMETHOD_(ULONG, Release)(THIS) PURE;

#undef INTERFACE
#define INTERFACE IUnknown
DECLARE_INTERFACE(IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
};
#undef INTERFACE
typedef IUnknown *PUNKNOWN;

/* The three calls in C.  Any IRQL (as the object documents). */
#ifndef __cplusplus
#define IUnknown_QueryInterface(This, Iid, Object) (This)->lpVtbl->QueryInterface((PUNKNOWN)(This), (Iid), (Object))
#define IUnknown_AddRef(This) (This)->lpVtbl->AddRef((PUNKNOWN)(This))
#define IUnknown_Release(This) (This)->lpVtbl->Release((PUNKNOWN)(This))
#endif

/* An object's creation function, as PcNewMiniport-style factories and adapters use it. */
typedef HRESULT (*PFNCREATEINSTANCE)(PUNKNOWN *Unknown, REFCLSID ClassId, PUNKNOWN OuterUnknown, POOL_TYPE PoolType);

#endif
