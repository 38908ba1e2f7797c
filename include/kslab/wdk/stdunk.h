/* SPDX-License-Identifier: MIT */
/*
 * stdunk.h: CUnknown, the reference-counting and aggregation base of PortCls objects in C++,
 * with DECLARE_STD_UNKNOWN, DEFINE_STD_CONSTRUCTOR and the STD_CREATE_BODY family.  C++ only
 * (in C it declares INonDelegatingUnknown and nothing else).
 *
 * An object is created by `new (PoolType, Tag) Class(OuterUnknown)` over kslab's pool (see
 * <kslab/wdk/kslcxx.h>: zeroed memory, NULL on failure, so allocation-failure injection reaches
 * C++ drivers), starts at reference count 0 and is deleted by the last NonDelegatingRelease.
 *
 * Names and documented semantics follow the WDK; the text is kslab's.
 */
#ifndef KSLAB_WDK_STDUNK_H
#define KSLAB_WDK_STDUNK_H

#include <kslab/wdk/punknown.h>
#include <kslab/wdk/kslcxx.h>

#undef INTERFACE
#define INTERFACE INonDelegatingUnknown
DECLARE_INTERFACE(INonDelegatingUnknown)
{
    STDMETHOD_(NTSTATUS, NonDelegatingQueryInterface)(THIS_ REFIID InterfaceId, PVOID *Interface) PURE;
    STDMETHOD_(ULONG, NonDelegatingAddRef)(THIS) PURE;
    STDMETHOD_(ULONG, NonDelegatingRelease)(THIS) PURE;
};
#undef INTERFACE
typedef INonDelegatingUnknown *PNONDELEGATINGUNKNOWN;

#ifdef __cplusplus

/* The pool tag PortCls objects get when the creator names none ('PcCr' as the WDK writes it). */
#define KSL_STDUNK_DEFAULT_TAG 0x72436350u

class CUnknown : public INonDelegatingUnknown {
  private:
    LONG m_lRefCount;
    PUNKNOWN m_pUnknownOuter;

  public:
    /* The outer unknown of an aggregate, or this object itself.  PASSIVE_LEVEL (creation). */
    explicit CUnknown(PUNKNOWN pUnknownOuter)
        : m_lRefCount(0),
          m_pUnknownOuter(pUnknownOuter ? pUnknownOuter
                                        : reinterpret_cast<PUNKNOWN>(static_cast<PNONDELEGATINGUNKNOWN>(this)))
    {
    }
    virtual ~CUnknown() {}

    /* Any IRQL. */
    PUNKNOWN GetOuterUnknown() { return m_pUnknownOuter; }

    /* Any IRQL. */
    STDMETHODIMP_(ULONG) NonDelegatingAddRef() { return (ULONG)InterlockedIncrement(&m_lRefCount); }

    /* The last release deletes the object.  IRQL <= DISPATCH_LEVEL (non-paged objects). */
    STDMETHODIMP_(ULONG) NonDelegatingRelease()
    {
        LONG left = InterlockedDecrement(&m_lRefCount);
        if (left == 0) {
            m_lRefCount++; /* a destructor that takes and drops a reference must not recurse */
            delete this;
            return 0;
        }
        return (ULONG)left;
    }

    /* IUnknown only; a derived class answers its own interfaces.  Any IRQL. */
    STDMETHODIMP_(NTSTATUS) NonDelegatingQueryInterface(REFIID rIID, PVOID *ppVoid)
    {
        if (IsEqualGUIDAligned(rIID, IID_IUnknown)) {
            *ppVoid = reinterpret_cast<PVOID>(static_cast<PNONDELEGATINGUNKNOWN>(this));
            reinterpret_cast<PUNKNOWN>(*ppVoid)->AddRef();
            return STATUS_SUCCESS;
        }
        *ppVoid = NULL;
        return STATUS_INVALID_PARAMETER;
    }
};
typedef CUnknown *PCUNKNOWN;

/* IUnknown for a class deriving from CUnknown: delegate to the outer unknown. */
#define DECLARE_STD_UNKNOWN()                                                            \
    STDMETHODIMP_(NTSTATUS) NonDelegatingQueryInterface(REFIID iid, PVOID *ppvObject);   \
    STDMETHODIMP_(NTSTATUS) QueryInterface(REFIID riid, void **ppv)                      \
    {                                                                                    \
        return GetOuterUnknown()->QueryInterface(riid, ppv);                             \
    }                                                                                    \
    STDMETHODIMP_(ULONG) AddRef()                                                        \
    {                                                                                    \
        return GetOuterUnknown()->AddRef();                                              \
    }                                                                                    \
    STDMETHODIMP_(ULONG) Release()                                                       \
    {                                                                                    \
        return GetOuterUnknown()->Release();                                             \
    }

#define DEFINE_STD_CONSTRUCTOR(Class) \
    Class(PUNKNOWN pUnknownOuter) : CUnknown(pUnknownOuter) {}

#define QICAST(Type) PVOID((Type)(this))
#define QICASTUNKNOWN(Type) PVOID(PUNKNOWN((Type)(this)))

/* The body of a creation function: new the object in the pool, hand out one reference. */
#define STD_CREATE_BODY_WITH_TAG_(Class, ppUnknown, pUnknownOuter, poolType, tag, base) \
    NTSTATUS ntStatus;                                                                 \
    Class *p = new (poolType, tag) Class(pUnknownOuter);                               \
    if (p) {                                                                           \
        *ppUnknown = PUNKNOWN((base)(p));                                              \
        (*ppUnknown)->AddRef();                                                        \
        ntStatus = STATUS_SUCCESS;                                                     \
    } else {                                                                           \
        ntStatus = STATUS_INSUFFICIENT_RESOURCES;                                      \
    }                                                                                  \
    return ntStatus
#define STD_CREATE_BODY_WITH_TAG(Class, ppUnknown, pUnknownOuter, poolType, tag) \
    STD_CREATE_BODY_WITH_TAG_(Class, ppUnknown, pUnknownOuter, poolType, tag, PUNKNOWN)
#define STD_CREATE_BODY_(Class, ppUnknown, pUnknownOuter, poolType, base) \
    STD_CREATE_BODY_WITH_TAG_(Class, ppUnknown, pUnknownOuter, poolType, KSL_STDUNK_DEFAULT_TAG, base)
#define STD_CREATE_BODY(Class, ppUnknown, pUnknownOuter, poolType) \
    STD_CREATE_BODY_(Class, ppUnknown, pUnknownOuter, poolType, PUNKNOWN)

#endif /* __cplusplus */
#endif
