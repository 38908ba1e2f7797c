/* SPDX-License-Identifier: MIT */
/*
 * wdm.h: the kernel services a PortCls or stream class driver uses, as thin adapters over the
 * kslab native API, for C11 and C++17 (base types: <ntdef.h>; objects and configuration types:
 * <kslab/wdk/wdmobj.h>).  Calls that are scheduling points are macros that pass the caller's
 * source position, so findings and traces point at the driver's own lines.
 *
 * Signatures and documented semantics follow the WDK; the code is kslab's.  IRQL notes are the
 * WDK's: each service checks them at run time.
 */
#ifndef KSLAB_WDK_WDM_H
#define KSLAB_WDK_WDM_H

#include <string.h>

#include <kslab/device.h>
#include <kslab/engine.h>
#include <kslab/io.h>
#include <kslab/ke.h>
#include <kslab/wdk/ntdef.h>
#include <kslab/wdk/wdmobj.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IRQL ------------------------------------------------------------------------------- */

#define PASSIVE_LEVEL KSL_IRQL_PASSIVE
#define LOW_LEVEL KSL_IRQL_PASSIVE
#define APC_LEVEL KSL_IRQL_APC
#define DISPATCH_LEVEL KSL_IRQL_DISPATCH
#define PROFILE_LEVEL KSL_IRQL_PROFILE
#define CLOCK_LEVEL KSL_IRQL_CLOCK
#define IPI_LEVEL KSL_IRQL_IPI
#define POWER_LEVEL KSL_IRQL_POWER
#define HIGH_LEVEL KSL_IRQL_HIGH

/* Any IRQL. */
#define KeGetCurrentIrql() ((KIRQL)ksl_irql_current())
/* Any IRQL; NewIrql >= the current IRQL. */
#define KeRaiseIrql(NewIrql, OldIrql) ksl_irql_raise((NewIrql), (OldIrql), __FILE__, __LINE__)
/* Any IRQL; NewIrql <= the current IRQL. */
#define KeLowerIrql(NewIrql) ksl_irql_lower((NewIrql), __FILE__, __LINE__)
/* IRQL <= DISPATCH_LEVEL. */
static inline KIRQL ksl_wdk_raise_to_dpc(const char *file, int line)
{
    KIRQL old;
    ksl_irql_raise(DISPATCH_LEVEL, &old, file, line);
    return old;
}
#define KeRaiseIrqlToDpcLevel() ksl_wdk_raise_to_dpc(__FILE__, __LINE__)
/* Any IRQL. */
#define KeGetCurrentProcessorNumber() ((ULONG)ksl_cpu_current())
/* Any IRQL. */
#define KeQueryActiveProcessorCount(Affinity) ((ULONG)ksl_cpu_count())

/* ---- spin locks ------------------------------------------------------------------------- */

typedef ksl_spinlock KSPIN_LOCK, *PKSPIN_LOCK;
/* Any IRQL. */
#define KeInitializeSpinLock(SpinLock) ksl_spin_init((SpinLock), #SpinLock, __FILE__, __LINE__)
/* IRQL <= DISPATCH_LEVEL; raises to DISPATCH_LEVEL. */
#define KeAcquireSpinLock(SpinLock, OldIrql) (*(OldIrql) = (KIRQL)ksl_spin_acquire((SpinLock), __FILE__, __LINE__))
/* IRQL == DISPATCH_LEVEL; lowers to NewIrql. */
#define KeReleaseSpinLock(SpinLock, NewIrql) ksl_spin_release((SpinLock), (NewIrql), __FILE__, __LINE__)
/* IRQL >= DISPATCH_LEVEL. */
#define KeAcquireSpinLockAtDpcLevel(SpinLock) ksl_spin_acquire_at_dpc((SpinLock), __FILE__, __LINE__)
/* IRQL >= DISPATCH_LEVEL. */
#define KeReleaseSpinLockFromDpcLevel(SpinLock) ksl_spin_release_from_dpc((SpinLock), __FILE__, __LINE__)

/* ---- DPCs ------------------------------------------------------------------------------- */

typedef ksl_dpc KDPC, *PKDPC, *PRKDPC;
typedef ksl_dpc_fn KDEFERRED_ROUTINE, *PKDEFERRED_ROUTINE;
/* Any IRQL. */
#define KeInitializeDpc(Dpc, DeferredRoutine, DeferredContext) \
    ksl_dpc_init((Dpc), (DeferredRoutine), (DeferredContext), #DeferredRoutine)
/* Any IRQL; FALSE if the DPC is already queued. */
#define KeInsertQueueDpc(Dpc, SystemArgument1, SystemArgument2) \
    ((BOOLEAN)ksl_dpc_queue((Dpc), (SystemArgument1), (SystemArgument2), __FILE__, __LINE__))
/* Any IRQL. */
#define KeRemoveQueueDpc(Dpc) ((BOOLEAN)ksl_dpc_dequeue((Dpc), __FILE__, __LINE__))
/* Any IRQL. */
#define KeSetTargetProcessorDpc(Dpc, Number) ksl_dpc_set_target((Dpc), (Number))

/* ---- interrupts ------------------------------------------------------------------------- */

typedef ksl_interrupt KINTERRUPT, *PKINTERRUPT;
typedef BOOLEAN KSERVICE_ROUTINE(PKINTERRUPT Interrupt, PVOID ServiceContext);
typedef KSERVICE_ROUTINE *PKSERVICE_ROUTINE;
typedef BOOLEAN KSYNCHRONIZE_ROUTINE(PVOID SynchronizeContext);
typedef KSYNCHRONIZE_ROUTINE *PKSYNCHRONIZE_ROUTINE;
typedef enum _KINTERRUPT_MODE { LevelSensitive, Latched } KINTERRUPT_MODE;

typedef struct ksl_wdk_isr_thunk {
    PKSERVICE_ROUTINE routine;
    PVOID context;
} ksl_wdk_isr_thunk;

/*
 * PASSIVE_LEVEL.  Vector is the kslab interrupt line; Irql and SynchronizeIrql should be equal
 * (the higher one is used).  ShareVector, ProcessorEnableMask and FloatingSave are accepted and
 * ignored.  The thunk carries the routine's BOOLEAN return into kslab's bool.
 */
NTSTATUS IoConnectInterrupt(PKINTERRUPT *InterruptObject, PKSERVICE_ROUTINE ServiceRoutine, PVOID ServiceContext,
                            PKSPIN_LOCK SpinLock, ULONG Vector, KIRQL Irql, KIRQL SynchronizeIrql,
                            KINTERRUPT_MODE InterruptMode, BOOLEAN ShareVector, KAFFINITY ProcessorEnableMask,
                            BOOLEAN FloatingSave);
/* PASSIVE_LEVEL. */
VOID IoDisconnectInterrupt(PKINTERRUPT InterruptObject);
/* IRQL <= the interrupt's SynchronizeIrql. */
BOOLEAN ksl_wdk_synchronize(PKINTERRUPT Interrupt, PKSYNCHRONIZE_ROUTINE Routine, PVOID Context, const char *file, int line);
#define KeSynchronizeExecution(Interrupt, SynchronizeRoutine, SynchronizeContext) \
    ksl_wdk_synchronize((Interrupt), (SynchronizeRoutine), (SynchronizeContext), __FILE__, __LINE__)

/* ---- register access -------------------------------------------------------------------- */

/* Any IRQL: a scheduling point that costs the device's access time. */
#define READ_PORT_UCHAR(Port) ((UCHAR)ksl_port_read((uintptr_t)(Port), 1, __FILE__, __LINE__))
#define READ_PORT_USHORT(Port) ((USHORT)ksl_port_read((uintptr_t)(Port), 2, __FILE__, __LINE__))
#define READ_PORT_ULONG(Port) ((ULONG)ksl_port_read((uintptr_t)(Port), 4, __FILE__, __LINE__))
#define WRITE_PORT_UCHAR(Port, Value) ksl_port_write((uintptr_t)(Port), 1, (UCHAR)(Value), __FILE__, __LINE__)
#define WRITE_PORT_USHORT(Port, Value) ksl_port_write((uintptr_t)(Port), 2, (USHORT)(Value), __FILE__, __LINE__)
#define WRITE_PORT_ULONG(Port, Value) ksl_port_write((uintptr_t)(Port), 4, (ULONG)(Value), __FILE__, __LINE__)
#define READ_REGISTER_UCHAR(Reg) READ_PORT_UCHAR(Reg)
#define READ_REGISTER_USHORT(Reg) READ_PORT_USHORT(Reg)
#define READ_REGISTER_ULONG(Reg) READ_PORT_ULONG(Reg)
#define WRITE_REGISTER_UCHAR(Reg, Value) WRITE_PORT_UCHAR(Reg, Value)
#define WRITE_REGISTER_USHORT(Reg, Value) WRITE_PORT_USHORT(Reg, Value)
#define WRITE_REGISTER_ULONG(Reg, Value) WRITE_PORT_ULONG(Reg, Value)

/* ---- timers, time, events, waits -------------------------------------------------------- */

typedef ksl_timer KTIMER, *PKTIMER;
typedef ksl_event KEVENT, *PKEVENT, *PRKEVENT;
typedef enum _TIMER_TYPE { NotificationTimer, SynchronizationTimer } TIMER_TYPE;
typedef enum _EVENT_TYPE { NotificationEvent, SynchronizationEvent } EVENT_TYPE;
typedef enum _KWAIT_REASON { Executive = 0, UserRequest = 13 } KWAIT_REASON;
typedef enum _MODE { KernelMode, UserMode } KPROCESSOR_MODE;
typedef LONG KPRIORITY_INCREMENT;
#define IO_NO_INCREMENT 0

/* Any IRQL. */
#define KeInitializeTimer(Timer) ksl_timer_init((Timer), false)
#define KeInitializeTimerEx(Timer, Type) ksl_timer_init((Timer), (Type) == SynchronizationTimer)
/* IRQL <= DISPATCH_LEVEL.  DueTime is a LARGE_INTEGER (negative = relative, 100 ns units). */
#define KeSetTimer(Timer, DueTime, Dpc) ((BOOLEAN)ksl_timer_set((Timer), (DueTime).QuadPart, 0, (Dpc), __FILE__, __LINE__))
#define KeSetTimerEx(Timer, DueTime, Period, Dpc) \
    ((BOOLEAN)ksl_timer_set((Timer), (DueTime).QuadPart, (uint32_t)(Period), (Dpc), __FILE__, __LINE__))
/* IRQL <= DISPATCH_LEVEL. */
#define KeCancelTimer(Timer) ((BOOLEAN)ksl_timer_cancel((Timer), __FILE__, __LINE__))
/* Any IRQL. */
#define KeReadStateTimer(Timer) ((BOOLEAN)ksl_timer_read(Timer))
/* Any IRQL: busy-waits in virtual time. */
#define KeStallExecutionProcessor(MicroSeconds) ksl_stall((MicroSeconds), __FILE__, __LINE__)
/* Any IRQL: 100 ns units of virtual time since the run began. */
static inline ULONGLONG KeQueryInterruptTime(void)
{
    return ksl_time_now() / 100u;
}
/* Any IRQL: a 10 MHz counter on the virtual clock. */
static inline LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    LARGE_INTEGER v;
    if (PerformanceFrequency)
        PerformanceFrequency->QuadPart = 10000000;
    v.QuadPart = (LONGLONG)(ksl_time_now() / 100u);
    return v;
}

/* Any IRQL. */
#define KeInitializeEvent(Event, Type, State) ksl_event_init((Event), (Type) == SynchronizationEvent, (State))
/* IRQL <= DISPATCH_LEVEL.  Wait must be FALSE in kslab. */
#define KeSetEvent(Event, Increment, Wait) ((LONG)ksl_event_set((Event), __FILE__, __LINE__))
/* IRQL <= DISPATCH_LEVEL. */
#define KeResetEvent(Event) ((LONG)ksl_event_reset((Event), __FILE__, __LINE__))
#define KeClearEvent(Event) ((void)ksl_event_reset((Event), __FILE__, __LINE__))
/* Any IRQL. */
#define KeReadStateEvent(Event) ((LONG)ksl_event_read(Event))
/* IRQL <= APC_LEVEL, or DISPATCH_LEVEL with a zero timeout.  Timeout: PLARGE_INTEGER or NULL. */
static inline NTSTATUS ksl_wdk_wait(PVOID Object, PLARGE_INTEGER Timeout, const char *file, int line)
{
    return ksl_wait_single(Object, Timeout ? &Timeout->QuadPart : NULL, file, line);
}
#define KeWaitForSingleObject(Object, WaitReason, WaitMode, Alertable, Timeout) \
    ksl_wdk_wait((Object), (Timeout), __FILE__, __LINE__)
/* IRQL <= APC_LEVEL. */
#define KeDelayExecutionThread(WaitMode, Alertable, Interval) ksl_delay((Interval)->QuadPart, __FILE__, __LINE__)

/* ---- kernel mutexes (acquired with KeWaitForSingleObject) -------------------------------- */

typedef ksl_kmutex KMUTEX, *PKMUTEX, *PRKMUTEX;
/* IRQL == PASSIVE_LEVEL.  Level is not used. */
#define KeInitializeMutex(Mutex, Level) ksl_kmutex_init((Mutex), #Mutex, __FILE__, __LINE__)
/* IRQL <= DISPATCH_LEVEL.  Wait (TRUE: a wait follows at once) is not used. */
#define KeReleaseMutex(Mutex, Wait) ((LONG)ksl_kmutex_release((Mutex), __FILE__, __LINE__))
/* Any IRQL. */
#define KeReadStateMutex(Mutex) ((LONG)ksl_kmutex_read(Mutex))

/* ---- fast mutexes ----------------------------------------------------------------------- */

typedef ksl_fast_mutex FAST_MUTEX, *PFAST_MUTEX;
/* IRQL <= DISPATCH_LEVEL. */
#define ExInitializeFastMutex(FastMutex) ksl_mutex_init((FastMutex), #FastMutex, __FILE__, __LINE__)
/* IRQL <= APC_LEVEL; raises to APC_LEVEL. */
#define ExAcquireFastMutex(FastMutex) ksl_mutex_acquire((FastMutex), __FILE__, __LINE__)
/* IRQL <= APC_LEVEL. */
#define ExTryToAcquireFastMutex(FastMutex) ((BOOLEAN)ksl_mutex_try_acquire((FastMutex), __FILE__, __LINE__))
/* IRQL == APC_LEVEL; restores the IRQL of the acquire. */
#define ExReleaseFastMutex(FastMutex) ksl_mutex_release((FastMutex), __FILE__, __LINE__)

/* ---- pool ------------------------------------------------------------------------------- */

typedef enum _POOL_TYPE {
    NonPagedPool = 0,
    PagedPool = 1,
    NonPagedPoolMustSucceed = 2,
    DontUseThisType = 3,
    NonPagedPoolCacheAligned = 4,
    PagedPoolCacheAligned = 5,
    NonPagedPoolCacheAlignedMustS = 6,
    MaxPoolType = 7,
    NonPagedPoolNx = 512
} POOL_TYPE;

/* IRQL <= DISPATCH_LEVEL (PagedPool: <= APC_LEVEL).  NULL when fault injection fails it. */
#define ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag) \
    ksl_pool_alloc(((PoolType) & 1) ? KSL_POOL_PAGED : KSL_POOL_NONPAGED, (NumberOfBytes), (Tag), __FILE__, __LINE__)
/* IRQL <= DISPATCH_LEVEL (a PagedPool block: <= APC_LEVEL). */
#define ExFreePoolWithTag(P, Tag) ksl_pool_free((P), (Tag), __FILE__, __LINE__)
#define ExFreePool(P) ksl_pool_free((P), 0, __FILE__, __LINE__)
/* In pageable code: checks that it runs at APC_LEVEL or below (K.paged-code-at-raised-irql). */
#define PAGED_CODE() ksl_paged_code(__FILE__, __LINE__)

/* ---- interlocked operations ------------------------------------------------------------- */

/* Any IRQL. */
#define InterlockedIncrement(Addend) ((LONG)ksl_interlocked_add((Addend), 1, __FILE__, __LINE__))
#define InterlockedDecrement(Addend) ((LONG)ksl_interlocked_add((Addend), -1, __FILE__, __LINE__))
#define InterlockedExchange(Target, Value) ((LONG)ksl_interlocked_exchange((Target), (Value), __FILE__, __LINE__))
#define InterlockedCompareExchange(Dest, Exchange, Comparand) \
    ((LONG)ksl_interlocked_cmpxchg((Dest), (Exchange), (Comparand), __FILE__, __LINE__))
#define InterlockedExchangePointer(Target, Value) ksl_interlocked_exchange_ptr((void *volatile *)(Target), (Value), __FILE__, __LINE__)

/* ---- work items ------------------------------------------------------------------------- */

typedef ksl_work_item IO_WORKITEM, *PIO_WORKITEM;
typedef void IO_WORKITEM_ROUTINE(PDEVICE_OBJECT DeviceObject, PVOID Context);
typedef IO_WORKITEM_ROUTINE *PIO_WORKITEM_ROUTINE;
typedef enum _WORK_QUEUE_TYPE { CriticalWorkQueue, DelayedWorkQueue, HyperCriticalWorkQueue } WORK_QUEUE_TYPE;
/* IRQL <= DISPATCH_LEVEL. */
#define IoAllocateWorkItem(DeviceObject) ksl_work_alloc((DeviceObject), __FILE__, __LINE__)
/* IRQL <= DISPATCH_LEVEL.  The routine runs at PASSIVE_LEVEL on a system worker thread. */
#define IoQueueWorkItem(IoWorkItem, WorkerRoutine, QueueType, Context) \
    ksl_work_queue((IoWorkItem), (ksl_work_fn *)(WorkerRoutine), (Context), __FILE__, __LINE__)
/* IRQL <= DISPATCH_LEVEL. */
#define IoFreeWorkItem(IoWorkItem) ksl_work_free((IoWorkItem), __FILE__, __LINE__)

/* ---- IRPs ------------------------------------------------------------------------------- */

typedef ksl_cancel_fn DRIVER_CANCEL, *PDRIVER_CANCEL;
typedef NTSTATUS IO_COMPLETION_ROUTINE(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context);
typedef IO_COMPLETION_ROUTINE *PIO_COMPLETION_ROUTINE;
#define IO_TYPE_IRP 6
/* IRQL <= DISPATCH_LEVEL. */
#define IoAllocateIrp(StackSize, ChargeQuota) ksl_irp_alloc(__FILE__, __LINE__)
#define IoFreeIrp(Irp) ksl_irp_free((Irp), __FILE__, __LINE__)
/* IRQL <= DISPATCH_LEVEL: an interlocked exchange; returns the previous routine. */
#define IoSetCancelRoutine(Irp, NewCancelRoutine) ksl_irp_set_cancel_routine((Irp), (NewCancelRoutine), __FILE__, __LINE__)
/* IRQL <= DISPATCH_LEVEL. */
#define IoCancelIrp(Irp) ((BOOLEAN)ksl_irp_cancel((Irp), __FILE__, __LINE__))
/* IRQL <= DISPATCH_LEVEL; raises to DISPATCH_LEVEL. */
#define IoAcquireCancelSpinLock(Irql) ksl_cancel_lock_acquire((Irql), __FILE__, __LINE__)
/* IRQL == DISPATCH_LEVEL; lowers to Irql. */
#define IoReleaseCancelSpinLock(Irql) ksl_cancel_lock_release((Irql), __FILE__, __LINE__)
/* IRQL <= DISPATCH_LEVEL. */
#define IoCompleteRequest(Irp, PriorityBoost) ksl_irp_complete((Irp), __FILE__, __LINE__)
/* IRQL <= DISPATCH_LEVEL. */
#define IoMarkIrpPending(Irp) ((void)((Irp)->PendingReturned = 1))
/* IRQL <= DISPATCH_LEVEL.  kslab keeps one completion routine per IRP; the flags are ignored. */
#define IoSetCompletionRoutine(Irp, Routine, Context, OnSuccess, OnError, OnCancel) \
    ksl_irp_set_completion((Irp), (Routine), (Context))

/* ---- lists ------------------------------------------------------------------------------ */
/* Any IRQL; not scheduling points.  The caller synchronizes access to the list. */

static inline void InitializeListHead(PLIST_ENTRY Head)
{
    Head->Flink = Head->Blink = Head;
}
static inline BOOLEAN IsListEmpty(const LIST_ENTRY *Head)
{
    return Head->Flink == Head;
}
static inline BOOLEAN RemoveEntryList(PLIST_ENTRY Entry)
{
    PLIST_ENTRY f = Entry->Flink, b = Entry->Blink;
    b->Flink = f;
    f->Blink = b;
    return f == b;
}
static inline PLIST_ENTRY RemoveHeadList(PLIST_ENTRY Head)
{
    PLIST_ENTRY e = Head->Flink;
    RemoveEntryList(e);
    return e;
}
static inline PLIST_ENTRY RemoveTailList(PLIST_ENTRY Head)
{
    PLIST_ENTRY e = Head->Blink;
    RemoveEntryList(e);
    return e;
}
static inline void InsertTailList(PLIST_ENTRY Head, PLIST_ENTRY Entry)
{
    PLIST_ENTRY b = Head->Blink;
    Entry->Flink = Head;
    Entry->Blink = b;
    b->Flink = Entry;
    Head->Blink = Entry;
}
static inline void InsertHeadList(PLIST_ENTRY Head, PLIST_ENTRY Entry)
{
    PLIST_ENTRY f = Head->Flink;
    Entry->Flink = f;
    Entry->Blink = Head;
    f->Blink = Entry;
    Head->Flink = Entry;
}

/* ---- counted strings ------------------------------------------------------------------ */
/* Any IRQL for non-paged strings; not scheduling points.  WCHAR strings end at a 16-bit 0. */

/* Point DestinationString at SourceString (NULL: an empty string). */
void NTAPI RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString);
void NTAPI RtlInitAnsiString(PANSI_STRING DestinationString, PCSTR SourceString);
/* Copy as much as fits; terminate when there is room. */
void NTAPI RtlCopyUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString);
/* < 0, 0, > 0 as String1 sorts before, equal to, after String2 (ASCII case folding). */
LONG NTAPI RtlCompareUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive);
BOOLEAN NTAPI RtlEqualUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive);
/* STATUS_BUFFER_TOO_SMALL when Destination cannot hold the result (it is left unchanged). */
NTSTATUS NTAPI RtlAppendUnicodeStringToString(PUNICODE_STRING Destination, PCUNICODE_STRING Source);
NTSTATUS NTAPI RtlAppendUnicodeToString(PUNICODE_STRING Destination, PCWSTR Source);

/* ---- devices ---------------------------------------------------------------------------- */

/* A property of the device's PnP record (kslab's simulated PCI audio device: fixed values);
 * STATUS_BUFFER_TOO_SMALL with *ResultLength set when the buffer is short,
 * STATUS_INVALID_PARAMETER_2 for a property it does not have.  PASSIVE_LEVEL. */
NTSTATUS NTAPI IoGetDeviceProperty(PDEVICE_OBJECT DeviceObject, DEVICE_REGISTRY_PROPERTY DeviceProperty,
                                   ULONG BufferLength, PVOID PropertyBuffer, PULONG ResultLength);

/* ---- pages ------------------------------------------------------------------------------ */

#define PAGE_SIZE 0x1000
#define PAGE_SHIFT 12L
#define BYTE_OFFSET(Va) ((ULONG)((ULONG_PTR)(Va) & (PAGE_SIZE - 1)))
#define BYTES_TO_PAGES(Size) (((Size) >> PAGE_SHIFT) + (((Size) & (PAGE_SIZE - 1)) != 0))
#define ROUND_TO_PAGES(Size) (((ULONG_PTR)(Size) + PAGE_SIZE - 1) & ~(ULONG_PTR)(PAGE_SIZE - 1))

/* ---- diagnostics ------------------------------------------------------------------------ */

/* Any IRQL: a failed assertion is the finding K.driver-assert. */
/* Memory helpers.  Any IRQL; not scheduling points. */
#define RtlZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define RtlFillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#define RtlCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#define RtlMoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))

#define ASSERT(exp) ((exp) ? (void)0 : ksl_assert_fail(#exp, __FILE__, __LINE__))
/* Any IRQL: the text is kept in the run's event log (deterministic engine). */
#define DbgPrint(...) ksl_debug_print(__FILE__, __LINE__, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
