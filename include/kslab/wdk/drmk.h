/* SPDX-License-Identifier: MIT */
/*
 * drmk.h-style digital rights names a PortCls stream may expose (IDrmAudioStream).  kslab never
 * sets content ids; the names exist so that drivers which implement the interface compile.
 *
 * Names, values and layouts follow the WDK's documentation; the text is kslab's.
 */
#ifndef KSLAB_WDK_DRMK_H
#define KSLAB_WDK_DRMK_H

#include <kslab/wdk/punknown.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tagDRMRIGHTS {
    BOOL CopyProtect;
    ULONG Reserved;
    BOOL DigitalOutputDisable;
} DRMRIGHTS, *PDRMRIGHTS;
typedef const DRMRIGHTS *PCDRMRIGHTS;
#define DEFINE_DRMRIGHTS_DEFAULT(DrmRights) const DRMRIGHTS DrmRights = {FALSE, 0, FALSE}

typedef struct tagDRMFORWARD {
    DWORD Flags;
    PDEVICE_OBJECT DeviceObject;
    PVOID FileObject;
    PVOID Context;
} DRMFORWARD, *PDRMFORWARD;
typedef const DRMFORWARD *PCDRMFORWARD;

DEFINE_GUID(IID_IDrmAudioStream, 0x1915c967L, 0x3299, 0x48cb, 0xa3, 0xe4, 0x69, 0xfd, 0x1d, 0x1b, 0x30, 0x6e);

#undef INTERFACE
#define INTERFACE IDrmAudioStream
DECLARE_INTERFACE_(IDrmAudioStream, IUnknown)
{
    DEFINE_ABSTRACT_UNKNOWN()
    STDMETHOD_(NTSTATUS, SetContentId)(THIS_ ULONG ContentId, PCDRMRIGHTS DrmRights) PURE;
};
#undef INTERFACE
typedef IDrmAudioStream *PDRMAUDIOSTREAM;
#define IMP_IDrmAudioStream STDMETHODIMP_(NTSTATUS) SetContentId(ULONG ContentId, PCDRMRIGHTS DrmRights)

#ifdef __cplusplus
}
#endif
#endif
