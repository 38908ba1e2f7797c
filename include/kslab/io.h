/* SPDX-License-Identifier: MIT */
/*
 * kslab native I/O objects: interrupt objects, work items and IRPs with cancellation.
 * The WDK-named surface (<kslab/wdk/wdm.h>) maps IoConnectInterrupt, KeSynchronizeExecution,
 * IoQueueWorkItem, IoCancelIrp, IoCompleteRequest, ... onto these.
 */
#ifndef KSLAB_IO_H
#define KSLAB_IO_H

#include <kslab/ke.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- interrupts ------------------------------------------------------------------------- */

typedef struct ksl_interrupt ksl_interrupt;
/* An ISR: return true when the interrupt was this device's. */
typedef bool ksl_isr_fn(ksl_interrupt *intr, void *context);
/* A routine run under the interrupt lock at the interrupt's IRQL. */
typedef bool ksl_sync_fn(void *context);

/*
 * Connect `isr` to interrupt line `line` at `irql` (a device IRQL, 3..26).  `lock` is the
 * interrupt spin lock; NULL makes the object use its own.  Several objects may share a line.
 * Returns NULL if the line or IRQL is out of range.  PASSIVE_LEVEL; not a scheduling point.
 */
ksl_interrupt *ksl_interrupt_connect(uint32_t line, uint8_t irql, ksl_isr_fn *isr, void *context,
                                     ksl_spinlock *lock, const char *name);
/* Disconnect and free.  PASSIVE_LEVEL; not a scheduling point. */
void ksl_interrupt_disconnect(ksl_interrupt *intr);
/* Run `fn` at the interrupt's IRQL holding its lock (KeSynchronizeExecution).  IRQL <= its IRQL. */
bool ksl_interrupt_sync(ksl_interrupt *intr, ksl_sync_fn *fn, void *context, const char *file, int line);
/* The interrupt's IRQL.  Any IRQL; not a scheduling point. */
uint8_t ksl_interrupt_irql(const ksl_interrupt *intr);

/* ---- work items ------------------------------------------------------------------------- */

typedef struct ksl_work_item ksl_work_item;
typedef void ksl_work_fn(void *device_object, void *context);

/* Allocate a work item (tracked pool).  NULL on injected failure.  IRQL <= DISPATCH. */
ksl_work_item *ksl_work_alloc(void *device_object, const char *file, int line);
/* Queue on the system worker threads; queuing a queued item is K.workitem-requeued.  IRQL <= DISPATCH. */
void ksl_work_queue(ksl_work_item *item, ksl_work_fn *fn, void *context, const char *file, int line);
/* Free; the item must not be queued.  IRQL <= DISPATCH. */
void ksl_work_free(ksl_work_item *item, const char *file, int line);

/* ---- IRPs ------------------------------------------------------------------------------- */

struct _IRP;
struct _DEVICE_OBJECT;
typedef void ksl_cancel_fn(struct _DEVICE_OBJECT *device, struct _IRP *irp);
typedef int32_t ksl_completion_fn(struct _DEVICE_OBJECT *device, struct _IRP *irp, void *context);

/* A doubly linked list entry (LIST_ENTRY). */
typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

typedef struct _IO_STATUS_BLOCK {
    int32_t Status;
    uintptr_t Information;
} IO_STATUS_BLOCK, *PIO_STATUS_BLOCK;

/* The subset of DEVICE_OBJECT drivers of this kind touch. */
typedef struct _DEVICE_OBJECT {
    int16_t Type;
    uint16_t Size;
    void *DeviceExtension;
    void *DriverObject;
} DEVICE_OBJECT, *PDEVICE_OBJECT;

/* The subset of IRP drivers of this kind touch; kslab keeps its own state after `Tail`. */
typedef struct _IRP {
    int16_t Type;
    uint16_t Size;
    IO_STATUS_BLOCK IoStatus;
    uint8_t Cancel;
    uint8_t CancelIrql;
    uint8_t PendingReturned;
    void *UserBuffer;
    void *AssociatedSystemBuffer;
    KSL_ATOMIC(ksl_cancel_fn *) CancelRoutine;
    struct {
        struct {
            void *DriverContext[4];
            LIST_ENTRY ListEntry;
        } Overlay;
    } Tail;
    /* kslab */
    uint32_t ksl_magic;
    uint32_t ksl_completions;
    ksl_completion_fn *ksl_completion;
    void *ksl_completion_context;
    struct _DEVICE_OBJECT *ksl_device;
} IRP, *PIRP;

/* Allocate a zeroed IRP (tracked).  IRQL <= DISPATCH. */
struct _IRP *ksl_irp_alloc(const char *file, int line);
/* Free an IRP.  IRQL <= DISPATCH. */
void ksl_irp_free(struct _IRP *irp, const char *file, int line);
/* Atomically exchange the cancel routine; see IoSetCancelRoutine.  IRQL <= DISPATCH. */
ksl_cancel_fn *ksl_irp_set_cancel_routine(struct _IRP *irp, ksl_cancel_fn *fn, const char *file, int line);
/* Cancel: set Cancel, call the cancel routine under the cancel lock.  IRQL <= DISPATCH. */
bool ksl_irp_cancel(struct _IRP *irp, const char *file, int line);
/* Complete with the status in irp->IoStatus; runs the completion routine.  IRQL <= DISPATCH. */
void ksl_irp_complete(struct _IRP *irp, const char *file, int line);
/* Set the completion routine (one per IRP in kslab).  IRQL <= DISPATCH; not a scheduling point. */
void ksl_irp_set_completion(struct _IRP *irp, ksl_completion_fn *fn, void *context);
/* Take the global cancel spin lock, raising to DISPATCH.  IRQL <= DISPATCH. */
void ksl_cancel_lock_acquire(uint8_t *old_irql, const char *file, int line);
/* Release the cancel spin lock and lower to irql.  IRQL == DISPATCH. */
void ksl_cancel_lock_release(uint8_t irql, const char *file, int line);

#ifdef __cplusplus
}
#endif
#endif
