/* SPDX-License-Identifier: MIT */
/*
 * guiddef.h-style GUIDs for C11 and C++17: GUID/IID/CLSID, REFGUID/REFIID/REFCLSID (pointers in
 * C, references in C++, as the WDK has them), IsEqualGUID, and DEFINE_GUID.
 *
 * DEFINE_GUID(name, ...) declares `name` (extern "C"); where INITGUID is defined when this header
 * is (re)included -- <initguid.h>, or PUT_GUIDS_HERE before <portcls.h> -- it defines it too,
 * weak, so that every translation unit that wants the values may define them.
 *
 * Names, values and layouts follow the WDK's documentation; the text is kslab's.
 */
#ifndef KSLAB_WDK_GUIDDEF_H
#define KSLAB_WDK_GUIDDEF_H

#include <string.h>

#include <kslab/wdk/ntdef.h>

typedef struct _GUID {
    ULONG Data1;
    USHORT Data2;
    USHORT Data3;
    UCHAR Data4[8];
} GUID, *PGUID, *LPGUID, IID, *PIID, *LPIID, CLSID, *PCLSID, *LPCLSID;
typedef const GUID *LPCGUID, *PCGUID;

#ifdef __cplusplus
typedef const GUID &REFGUID;
typedef const IID &REFIID;
typedef const CLSID &REFCLSID;
/* True when two GUIDs are equal.  Any IRQL. */
inline BOOLEAN IsEqualGUIDAligned(REFGUID a, REFGUID b)
{
    return memcmp(&a, &b, sizeof(GUID)) == 0;
}
inline BOOLEAN IsEqualGUID(REFGUID a, REFGUID b)
{
    return memcmp(&a, &b, sizeof(GUID)) == 0;
}
inline bool operator==(REFGUID a, REFGUID b)
{
    return IsEqualGUID(a, b) != 0;
}
inline bool operator!=(REFGUID a, REFGUID b)
{
    return IsEqualGUID(a, b) == 0;
}
#define IsEqualIID(a, b) IsEqualGUID((a), (b))
#define IsEqualCLSID(a, b) IsEqualGUID((a), (b))
#else
typedef const GUID *REFGUID;
typedef const IID *REFIID;
typedef const CLSID *REFCLSID;
/* True when two GUIDs are equal.  Any IRQL. */
static inline BOOLEAN IsEqualGUIDAligned(REFGUID a, REFGUID b)
{
    return memcmp(a, b, sizeof(GUID)) == 0;
}
#define IsEqualGUID(a, b) IsEqualGUIDAligned((a), (b))
#define IsEqualIID(a, b) IsEqualGUID((a), (b))
#define IsEqualCLSID(a, b) IsEqualGUID((a), (b))
#endif

/* A GUID initializer with every brace in place, from its 11 numbers. */
#define KSL_GUID_INIT_(l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
    {(ULONG)(l), (USHORT)(w1), (USHORT)(w2), {(UCHAR)(b1), (UCHAR)(b2), (UCHAR)(b3), (UCHAR)(b4), (UCHAR)(b5), (UCHAR)(b6), (UCHAR)(b7), (UCHAR)(b8)}}
#define KSL_GUID_INIT(...) KSL_GUID_INIT_(__VA_ARGS__)

#endif /* KSLAB_WDK_GUIDDEF_H */

/* Outside the guard: re-evaluated each time the header is included, so that <initguid.h> turns
 * the declarations that follow into definitions. */
#undef DEFINE_GUID
#ifdef INITGUID
/* (C: a file-scope const has external linkage already, and "extern" with an initializer warns.) */
#ifdef __cplusplus
#define KSL_GUID_DEFINITION_ extern "C" const GUID DECLSPEC_SELECTANY
#else
#define KSL_GUID_DEFINITION_ const GUID DECLSPEC_SELECTANY
#endif
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
    KSL_GUID_DEFINITION_ name = KSL_GUID_INIT_(l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8)
#else
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) EXTERN_C const GUID name
#endif
