/* SPDX-License-Identifier: MIT */
/*
 * StreamClassStreamNotification, StreamClassDeviceNotification and
 * StreamClassCompleteRequestAndMarkQueueReady: argument checks, then the queue's bookkeeping
 * (queue.c).  The event notifications are accepted and have no effect (kslab has no KS events).
 */
#include <stdarg.h>

#include "strm.h"

static const char *stream_notification_name(STREAM_MINIDRIVER_STREAM_NOTIFICATION_TYPE t)
{
    static const char *const names[] = {"ReadyForNextStreamDataRequest", "ReadyForNextStreamControlRequest",
                                        "HardwareStarved", "StreamRequestComplete", "SignalMultipleStreamEvents",
                                        "SignalStreamEvent", "DeleteStreamEvent"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "an unknown type";
}

static const char *device_notification_name(STREAM_MINIDRIVER_DEVICE_NOTIFICATION_TYPE t)
{
    static const char *const names[] = {"ReadyForNextDeviceRequest", "DeviceRequestComplete",
                                        "SignalMultipleDeviceEvents", "SignalDeviceEvent", "DeleteDeviceEvent",
                                        "SignalMultipleDeviceInstanceEvents"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "an unknown type";
}

VOID ksl_strm_stream_notification(const char *file, int line, STREAM_MINIDRIVER_STREAM_NOTIFICATION_TYPE NotificationType,
                                  PHW_STREAM_OBJECT StreamObject, ...)
{
    strm_stream *s = ksl__strm_stream_of(NULL, StreamObject);
    if (!s) {
        ksl_report(STRM_F_BAD_NOTIFICATION, file, line,
                   "StreamClassStreamNotification(%s) with a stream object (%p) the class did not create",
                   stream_notification_name(NotificationType), (void *)StreamObject);
        return;
    }
    ksl_stream_adapter *a = s->a;
    ksl__strm_hook_service(a, "StreamClassStreamNotification", file, line);
    va_list ap;
    va_start(ap, StreamObject);
    switch (NotificationType) {
    case StreamRequestComplete: {
        PHW_STREAM_REQUEST_BLOCK srb = va_arg(ap, PHW_STREAM_REQUEST_BLOCK);
        ksl__strm_complete(a, ksl__strm_srb_of(srb), false, s, file, line);
        break;
    }
    case ReadyForNextStreamDataRequest:
        ksl__strm_ready(a, &s->data, file, line);
        break;
    case ReadyForNextStreamControlRequest:
        ksl__strm_ready(a, &s->control, file, line);
        break;
    case HardwareStarved:
    case SignalMultipleStreamEvents:
    case SignalStreamEvent:
    case DeleteStreamEvent:
        break;
    default:
        va_end(ap);
        ksl_report(STRM_F_BAD_NOTIFICATION, file, line, "StreamClassStreamNotification with an unknown type %d",
                   (int)NotificationType);
        return;
    }
    va_end(ap);
}

VOID ksl_strm_device_notification(const char *file, int line, STREAM_MINIDRIVER_DEVICE_NOTIFICATION_TYPE NotificationType,
                                  PVOID HwDeviceExtension, ...)
{
    ksl_stream_adapter *a = ksl__strm_adapter_of(HwDeviceExtension);
    if (!a) {
        ksl_report(STRM_F_BAD_NOTIFICATION, file, line,
                   "StreamClassDeviceNotification(%s) with a device extension (%p) the class did not allocate",
                   device_notification_name(NotificationType), HwDeviceExtension);
        return;
    }
    ksl__strm_hook_service(a, "StreamClassDeviceNotification", file, line);
    va_list ap;
    va_start(ap, HwDeviceExtension);
    switch (NotificationType) {
    case DeviceRequestComplete: {
        PHW_STREAM_REQUEST_BLOCK srb = va_arg(ap, PHW_STREAM_REQUEST_BLOCK);
        ksl__strm_complete(a, ksl__strm_srb_of(srb), true, NULL, file, line);
        break;
    }
    case ReadyForNextDeviceRequest:
        ksl__strm_ready(a, &a->devq, file, line);
        break;
    case SignalMultipleDeviceEvents:
    case SignalDeviceEvent:
    case DeleteDeviceEvent:
    case SignalMultipleDeviceInstanceEvents:
        break;
    default:
        va_end(ap);
        ksl_report(STRM_F_BAD_NOTIFICATION, file, line, "StreamClassDeviceNotification with an unknown type %d",
                   (int)NotificationType);
        return;
    }
    va_end(ap);
}

VOID ksl_strm_complete_and_ready(PHW_STREAM_REQUEST_BLOCK Srb, const char *file, int line)
{
    strm_srb *r = ksl__strm_srb_of(Srb);
    if (!r) {
        ksl_report(STRM_F_BAD_NOTIFICATION, file, line,
                   "StreamClassCompleteRequestAndMarkQueueReady with an SRB (%p) the class did not send", (void *)Srb);
        return;
    }
    ksl_stream_adapter *a = r->a;
    ksl__strm_hook_service(a, "StreamClassCompleteRequestAndMarkQueueReady", file, line);
    strm_queue *q = r->q;
    bool device = q->kind == Q_DEVICE;
    ksl__strm_complete(a, r, device, r->s, file, line);
    ksl__strm_ready(a, q, file, line);
}

VOID ksl_strm_abort_outstanding(PVOID HwDeviceExtension, PHW_STREAM_OBJECT HwStreamObject, NTSTATUS Status,
                                const char *file, int line)
{
    ksl_stream_adapter *a = ksl__strm_adapter_of(HwDeviceExtension);
    strm_stream *s = HwStreamObject ? ksl__strm_stream_of(a, HwStreamObject) : NULL;
    if (!a || (HwStreamObject && !s)) {
        ksl_report(STRM_F_BAD_NOTIFICATION, file, line,
                   "StreamClassAbortOutstandingRequests with a %s the class did not create",
                   !a ? "device extension" : "stream object");
        return;
    }
    ksl__strm_hook_service(a, "StreamClassAbortOutstandingRequests", file, line);
    ksl__strm_abort(a, s, Status, file, line);
}
