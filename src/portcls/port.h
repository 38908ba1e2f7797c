/* SPDX-License-Identifier: MIT */
/*
 * The WavePci port's internal objects: the filter (port + miniport + memory), its streams, the
 * IRPs queued on a stream and the mappings cut from them, and the ownership ledger.
 *
 * Locks, outermost first:
 *   - the stream lock (a kernel spin lock, so lock-order analysis sees it): the IRP queue, the
 *     held-mapping FIFO, the stream's state.  The port holds it while it calls RevokeMappings,
 *     as PortCls does; that is what makes a miniport that holds its own lock across GetMapping
 *     deadlock (rule W3).
 *   - the ledger mutex (a host mutex, innermost): the state and DMA progress of every mapping,
 *     read by the device's DMA observer, which runs as hardware on no CPU.
 */
#ifndef KSLAB_PORTCLS_PORT_H
#define KSLAB_PORTCLS_PORT_H

#include <pthread.h>

#include <kslab/wavepci.h>
#include <kslab/windows.h>

#include "pcl_internal.h"

typedef enum pcl_map_state {
    MAP_QUEUED = 0, /* cut from an IRP, not handed out */
    MAP_HELD,       /* handed to the miniport by GetMapping */
    MAP_RELEASED,   /* given back by ReleaseMapping */
    MAP_REVOKED,    /* taken back by RevokeMappings */
    MAP_DROPPED,    /* never handed out: its IRP was cancelled or terminated first */
} pcl_map_state;

typedef struct pcl_irp pcl_irp;
typedef struct ksl_wavepci_pin pcl_stream;

typedef struct pcl_mapping {
    pcl_irp *irp;
    uint32_t index;      /* within the IRP */
    uint32_t offset;     /* of its first byte within the IRP's buffer */
    uint32_t len;
    uint32_t dma_bytes;  /* bytes the device has moved, from the start, in order */
    uint8_t state;       /* pcl_map_state */
    uint8_t expect_release; /* held past a revoke whose count left it out: a release is due */
    void *tag;
    uint64_t seq;        /* acquisition order within the stream */
    uint64_t pa;
    const char *get_file; /* the miniport's GetMapping call that took it */
    int get_line;
    char gone_by[48];     /* the context that released or revoked it (or left it out of a revoke */
    const char *gone_file; /* count), and its driver line: a later use's race names them */
    int gone_line;
} pcl_mapping;

struct pcl_irp {
    PIRP irp;
    pcl_stream *s;
    uint64_t id;           /* owner cookie of its buffer in physical memory; 1-based */
    uint8_t *buf;
    uint32_t len;
    pcl_mapping *maps;
    uint32_t nmaps;
    uint32_t next;         /* next mapping to hand out */
    uint32_t limit;        /* mappings to hand out: nmaps, less after TerminatePacket */
    uint32_t held;         /* mappings in MAP_HELD */
    bool queued;           /* on the stream's IRP queue */
    bool cancelled;        /* its cancel routine ran, or STOP cancelled it */
    bool finishing;        /* taken off the queue; whoever set this completes it */
    bool completed;
    uint64_t seq;          /* its place in the pin's queue (1, 2, ...); 0: never queued */
    LIST_ENTRY link;
    KEVENT done;
};

/* The ownership ledger: every IRP buffer of a filter by owner id, and counters. */
typedef struct pcl_ledger {
    pthread_mutex_t mu;
    pcl_irp **by_id;     /* index id - 1; NULL once freed */
    uint64_t nids, cap;
    ksl_wavepci_stats st;
} pcl_ledger;

/* IPortWavePciStream and the IServiceSink the port adds to the stream's service group. */
typedef struct pcl_port_stream {
    IPortWavePciStream iface;
    pcl_stream *s;
} pcl_port_stream;
typedef struct pcl_sink {
    IServiceSink iface;
    void (*service)(void *ctx);
    void (*final)(void *ctx);  /* called when the last reference goes (NULL: nothing) */
    void *ctx;
    _Atomic int refs;
} pcl_sink;

struct ksl_wavepci_pin {
    ksl_wavepci_filter *f;
    pcl_port_stream port_stream;
    pcl_sink sink;
    PMINIPORTWAVEPCISTREAM mini;
    PSERVICEGROUP group;     /* NULL: the port's 20 ms timer drives Service */
    PDMACHANNEL dma;         /* the miniport's; the port does not Release it (as PortCls) */
    bool capture;
    uint32_t block_align;
    KSPIN_LOCK lock;
    _Atomic int state;       /* KSSTATE; read by the service DPC without the lock */
    LIST_ENTRY irps;         /* in submission order */
    uint64_t queued;         /* IRPs queued so far (under lock): the next one's sequence - 1 */
    bool out_of_mappings;    /* a GetMapping was refused since the last MappingAvailable */
    uint64_t next_seq;
    pcl_mapping **held;      /* FIFO of held mappings in acquisition order */
    uint32_t held_head, held_count, held_cap;
    struct {
        void *tag;
        uint8_t state;   /* MAP_RELEASED or MAP_REVOKED */
        uint64_t irp_id;
        char by[48];     /* the context that took it back, and its driver line (a race's */
        const char *by_file; /* other side); NULL: unknown */
        int by_line;
    } retired[32];       /* the latest mappings to leave the miniport, for messages */
    uint32_t nretired;
    KTIMER timer;
    KDPC timer_dpc;
    bool timer_running;
    bool power_paused;       /* paused by a power-down, to run again at power-up */
    _Atomic int closed;      /* set by close: no more service calls into the miniport */
    _Atomic int in_service;  /* service calls into the miniport in progress */
};

struct ksl_wavepci_filter {
    struct pcl_adapter *adapter; /* an adapter driver's bring-up (adapter.c), NULL for NewMiniport */
    char adapter_why[160];       /* why the bring-up failed, when kslab knows more than the status */
    ksl_engine *e;
    const ksl_wavepci_driver *drv;
    ksl_physmem *pm;
    bool own_pm;
    uint32_t buffer_offset;
    IPortWavePci port;
    PMINIPORTWAVEPCI mini;
    PSERVICEGROUP mini_group;
    pcl_sink mini_sink;
    PRESOURCELIST resources;
    CM_PARTIAL_RESOURCE_DESCRIPTOR res[4];
    ULONG nres;
    PPCFILTER_DESCRIPTOR desc;
    pcl_ledger ledger;
    DEVICE_OBJECT device;
    pcl_stream *pins[8];     /* open pins, freed by ksl_wavepci_destroy if a run stopped early */
    ksl_wavepci_event_fn *event_fn; /* a test client's aim (ksl_wavepci_set_event_hook) */
    DEVICE_POWER_STATE power;      /* PowerDeviceUnspecified until the first change: D0 */
    void *event_user;
};

/* Adapter drivers (adapter.c): DriverEntry, AddDevice and StartDevice as PortCls calls them;
 * StartDevice's PcNewPort(CLSID_PortWavePci) hands out f's port.  PASSIVE_LEVEL. */
NTSTATUS ksl__pcl_adapter_start(ksl_wavepci_filter *f);
/* Stop and remove the adapter: release its subdevices (f's port unbinds), its power interface,
 * its device object.  PASSIVE_LEVEL. */
void ksl__pcl_adapter_stop(ksl_wavepci_filter *f);
/* Tell the adapter's registered IAdapterPowerManagement of a device power change (nothing when
 * there is none).  PASSIVE_LEVEL. */
void ksl__pcl_adapter_power(ksl_wavepci_filter *f, DEVICE_POWER_STATE state);
/* Ports other than WavePci (port_topology.c, port_other.c): a topology port, and the WaveCyclic /
 * WaveRT ports kslab does not run yet (their Init fails, saying so in `why`).  PASSIVE_LEVEL. */
NTSTATUS ksl__pcl_new_topology_port(PPORT *out);
NTSTATUS ksl__pcl_new_unsupported_port(PPORT *out, const char *kind, char *why, size_t whylen);
/* A property request to the first node of type node_type of a topology port whose automation
 * table has a handler for (set, id, verb): the handler's status, or STATUS_NOT_FOUND (not a
 * topology port, no such node or handler).  PASSIVE_LEVEL. */
NTSTATUS ksl__pcl_topology_property(PUNKNOWN port, const GUID *node_type, const GUID *set, ULONG id, ULONG verb,
                                    LONG channel, PVOID value, ULONG value_size);
/* Free a topology or not-yet-run port kslab made (host memory only, no driver code): true when
 * `port` was one.  For an adapter a run could not remove.  Host code. */
bool ksl__pcl_port_discard(PUNKNOWN port);
bool ksl__pcl_other_port_discard(PUNKNOWN port);
/* Free what kslab allocated for an adapter the run could not stop and remove (it ended at a
 * finding): its record, device object, registry and the ports it registered.  No driver code
 * runs; the driver's own objects are the pool's, reclaimed with the engine.  Host code. */
void ksl__pcl_adapter_discard(ksl_wavepci_filter *f);
/* Let a registered port other than the WavePci one release its miniport (subdevice removal).
 * PASSIVE_LEVEL. */
void ksl__pcl_port_teardown(PUNKNOWN port);
/* An adapter's in-memory registry (registry.c): an empty tree, destroyed with the adapter, and a
 * key object for one of its roots (GeneralRegistryKey ... DeviceInterfaceRegistryKey). */
typedef struct pcl_regnode pcl_regnode;
pcl_regnode *ksl__pcl_registry_create(void);
void ksl__pcl_registry_destroy(pcl_regnode *root);
NTSTATUS ksl__pcl_registry_open(pcl_regnode *root, ULONG RegistryKeyType, PREGISTRYKEY *out);
/* A registry key of f's adapter (IPort::NewRegistryKey); STATUS_NOT_IMPLEMENTED without one. */
NTSTATUS ksl__pcl_adapter_registry_key(ksl_wavepci_filter *f, ULONG RegistryKeyType, PREGISTRYKEY *out);
/* Release what binding the port to a miniport took (port_wavepci.c).  PASSIVE_LEVEL. */
void ksl__pcl_filter_unbind(ksl_wavepci_filter *f);

/* Ledger (ledger.c). */
void ksl__pcl_ledger_init(pcl_ledger *l);
void ksl__pcl_ledger_destroy(pcl_ledger *l);
/* Give `p` an owner id.  Host mutex; any IRQL. */
int ksl__pcl_ledger_add(pcl_ledger *l, pcl_irp *p);
/* Forget `p` (its buffer is about to be freed). */
void ksl__pcl_ledger_remove(pcl_ledger *l, pcl_irp *p);
/* Move mapping `m` to `state`. */
void ksl__pcl_ledger_set(pcl_ledger *l, pcl_mapping *m, pcl_map_state state);
/* The physical-memory observer: checks every device DMA access against the ledger. */
bool ksl__pcl_ledger_observe(void *ctx, uint64_t owner, size_t offset, uint32_t len, ksl_dma_dir dir);
/* Name of a state, for messages. */
const char *ksl__pcl_map_state_name(int state);

/* Streams (port_stream.c). */
NTSTATUS ksl__pcl_stream_init(pcl_stream *s, ksl_wavepci_filter *f, bool capture, uint32_t block_align);
/* A sink with one reference; `final` (or NULL) runs when the last one goes.  Any IRQL. */
void ksl__pcl_sink_init(pcl_sink *k, void (*service)(void *ctx), void (*final)(void *ctx), void *ctx);
/* Drop a reference to a sink.  Any IRQL. */
void ksl__pcl_sink_release(pcl_sink *k);
/* Called by the stream's sink, the timer DPC: the miniport stream's Service.  DISPATCH. */
void ksl__pcl_stream_service(void *ctx);
/* STOP: revoke what the miniport holds, cancel every IRP still queued.  PASSIVE_LEVEL. */
void ksl__pcl_stream_stop(pcl_stream *s);
/* Race windows (<kslab/windows.h>) around a port call into the miniport that may drain the
 * stream (Service, SetState, MappingAvailable): count another context's drain still going on,
 * and (service) open the Service span; the leave closes it and this context's drain. */
uint32_t ksl__pcl_drain_enter(pcl_stream *s, bool service);
/* Tell the client's event hook (ksl_wavepci_set_event_hook) about `ev` on `s`. */
void ksl__pcl_event(pcl_stream *s, ksl_wavepci_event ev);
void ksl__pcl_drain_leave(pcl_stream *s, uint32_t span);
/* Free an IRP record and its buffer.  Host code or PASSIVE_LEVEL. */
void ksl__pcl_irp_destroy(ksl_wavepci_filter *f, pcl_irp *p);

#endif
