/* SPDX-License-Identifier: MIT */
/*
 * IoGetDeviceProperty (and PcGetDeviceProperty, the same through PortCls): what the PnP manager
 * knows of kslab's simulated device.  Strings are UTF-16 (WCHAR), MULTI_SZ lists end in two 0s.
 * The values are kslab's own, fixed, so that runs are the same everywhere.
 */
#include <string.h>

#include <kslab/wdk/wdm.h>

/* Copy a property of `len` bytes: STATUS_BUFFER_TOO_SMALL (with the size) when it does not fit. */
static NTSTATUS answer(const void *data, ULONG len, ULONG BufferLength, PVOID PropertyBuffer, PULONG ResultLength)
{
    *ResultLength = len;
    if (BufferLength < len || !PropertyBuffer)
        return STATUS_BUFFER_TOO_SMALL;
    memcpy(PropertyBuffer, data, len);
    return STATUS_SUCCESS;
}

/* An ASCII string (or, multi, a list of them separated by '\n') as REG_SZ / REG_MULTI_SZ UTF-16. */
static NTSTATUS answer_text(const char *text, bool multi, ULONG BufferLength, PVOID PropertyBuffer,
                            PULONG ResultLength)
{
    WCHAR w[128];
    size_t n = 0;
    for (const char *p = text; *p && n + 2 < sizeof w / sizeof w[0]; p++)
        w[n++] = multi && *p == '\n' ? 0 : (WCHAR)(unsigned char)*p;
    w[n++] = 0;
    if (multi)
        w[n++] = 0;
    return answer(w, (ULONG)(n * sizeof(WCHAR)), BufferLength, PropertyBuffer, ResultLength);
}

NTSTATUS NTAPI IoGetDeviceProperty(PDEVICE_OBJECT DeviceObject, DEVICE_REGISTRY_PROPERTY DeviceProperty,
                                   ULONG BufferLength, PVOID PropertyBuffer, PULONG ResultLength)
{
    ksl_require_irql(PASSIVE_LEVEL, "IoGetDeviceProperty", __FILE__, __LINE__);
    (void)DeviceObject;
    if (!ResultLength)
        return STATUS_INVALID_PARAMETER;
    *ResultLength = 0;
    ULONG zero = 0;
    INTERFACE_TYPE bus = PCIBus;
    switch (DeviceProperty) {
    case DevicePropertyDeviceDescription:
        return answer_text("kslab simulated audio device", false, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyFriendlyName:
        return answer_text("kslab simulated audio device", false, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyManufacturer:
        return answer_text("kslab", false, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyHardwareID:
        return answer_text("PCI\\VEN_8086&DEV_2415\nPCI\\VEN_8086&DEV_2415&CC_0401", true, BufferLength,
                           PropertyBuffer, ResultLength);
    case DevicePropertyCompatibleIDs:
        return answer_text("PCI\\CC_0401\nPCI\\CC_04", true, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyClassName:
        return answer_text("MEDIA", false, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyEnumeratorName:
        return answer_text("PCI", false, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyLocationInformation:
        return answer_text("PCI bus 0, device 31, function 5", false, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyBusNumber:
    case DevicePropertyAddress:
    case DevicePropertyUINumber:
        return answer(&zero, sizeof zero, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyLegacyBusType:
        return answer(&bus, sizeof bus, BufferLength, PropertyBuffer, ResultLength);
    default:
        return STATUS_INVALID_PARAMETER_2; /* a property kslab's device does not have */
    }
}
