/* SPDX-License-Identifier: MIT */
/*
 * Device models: the simulated hardware a driver runs on, public so that a user's own device
 * model can be written on it and loaded as a plugin beside the driver (`--device PATH.so`,
 * KSLAB_DEVICE_PLUGIN in <kslab/plugin.h>).  The built-in AC'97, fifocap, polldev and lowerbus
 * models are written on this API.
 *
 * A device is a participant in virtual time:
 *  - registers: it attaches port ranges to the engine (ksl_device_attach); every driver access
 *    (READ_PORT_ULONG...) is a scheduling point that costs the CPU the time the device declares
 *    (ksl_device_ops.access_cost_ns) and reaches its read / write callbacks;
 *  - time: it schedules events of its own on the virtual clock (ksl_device_schedule) and gets
 *    them in its event callback;
 *  - interrupts: it drives level-triggered interrupt lines (ksl_irq_line_set);
 *  - DMA: it reads and writes simulated physical memory only through ksl_physmem_dma_read /
 *    ksl_physmem_dma_write (<kslab/hw/physmem.h>), which the WavePci port's mapping ledger
 *    checks;
 *  - faults: it may name faults it can be made to show (a lost interrupt, a FIFO error) and take
 *    them through its model's inject hook.
 *
 * Device callbacks run "in hardware": outside every virtual CPU, atomically with respect to the
 * schedule.  They must not call scheduling-point functions; they may call ksl_report (the run
 * stops once the callback returns) or ksl_report_continue.
 */
#ifndef KSLAB_DEVICE_H
#define KSLAB_DEVICE_H

#include <kslab/audio.h>
#include <kslab/hw/physmem.h>
#include <kslab/ke.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KSL_DEVICE_OPS_VERSION 1u

typedef struct ksl_device ksl_device;

typedef struct ksl_device_ops {
    uint32_t version;  /* KSL_DEVICE_OPS_VERSION */
    const char *name;
    /* Register read of `width` bytes (1, 2 or 4) at `offset` within the device's range. */
    uint32_t (*read)(void *dev, uint32_t offset, unsigned width, uint64_t now_ns);
    /* Register write. */
    void (*write)(void *dev, uint32_t offset, unsigned width, uint32_t value, uint64_t now_ns);
    /* An event the device scheduled with ksl_device_schedule has come due. */
    void (*event)(void *dev, uint64_t cookie, uint64_t now_ns);
    /* Virtual time one register access costs the CPU that makes it. */
    uint32_t access_cost_ns;
} ksl_device_ops;

/*
 * Attach a device to `e` at port addresses [base, base + size).  Returns NULL when the range
 * overlaps another device.  A size of 0 attaches a device without registers (events only; a
 * lower bus, a fault injector).  Host code, outside a run; not a scheduling point.
 */
ksl_device *ksl_device_attach(ksl_engine *e, const ksl_device_ops *ops, void *dev, uintptr_t base,
                              uint32_t size);
/* The device's port base, as drivers see it (e.g. for READ_PORT_ULONG).  Any time. */
uintptr_t ksl_device_base(const ksl_device *d);

/* Register access by a driver: a scheduling point that charges the access cost.  Any IRQL. */
uint32_t ksl_port_read(uintptr_t address, unsigned width, const char *file, int line);
/* Register write by a driver.  Any IRQL. */
void ksl_port_write(uintptr_t address, unsigned width, uint32_t value, const char *file, int line);

/*
 * Watch driver accesses to ports [base, base + size) (of any device, or of none): `fn` is called
 * on the accessing CPU, after the access's scheduling point and before the device sees it, so
 * ksl_held_spinlocks, ksl_irql_current and ksl_context_name describe the driver context that made
 * it and ksl_report may be called.  It must not call scheduling points.  `value` is 0 for reads.
 * For rule checks of a layer above the devices (e.g. the stream class's S4 lockset over its
 * adapter's port range).  false on no memory.  Host code, outside a run.
 */
typedef void ksl_port_observer(void *user, uintptr_t address, unsigned width, bool write, uint32_t value,
                               const char *file, int line);
bool ksl_port_observe(ksl_engine *e, uintptr_t base, uint32_t size, ksl_port_observer *fn, void *user);
/* Remove a watcher installed with the same fn and user.  Host code, outside a run. */
void ksl_port_unobserve(ksl_engine *e, ksl_port_observer *fn, void *user);
/* From a register write callback: the driver's call site of the write (file NULL when unknown,
 * and outside such a callback), to report a finding at the write that caused it.  Any IRQL. */
void ksl_device_access_site(const char **file, int *line);
/* From a device callback: run `event` with `cookie` at absolute virtual time `at_ns`. */
void ksl_device_schedule(ksl_device *d, uint64_t at_ns, uint64_t cookie);
/* From a CPU (a driver or a client thread) during a run, or host code before it: run the device's
 * `event` with `cookie` `delay_ns` after the caller's current virtual time.  Any IRQL; not a
 * scheduling point. */
void ksl_device_post(ksl_device *d, uint64_t delay_ns, uint64_t cookie);
/* From a device callback: cancel every scheduled event of this device with `cookie`. */
void ksl_device_unschedule(ksl_device *d, uint64_t cookie);
/* From a device callback: drive an interrupt line (level-triggered) high or low. */
void ksl_irq_line_set(ksl_engine *e, uint32_t line, bool asserted);
/*
 * From a device callback: a spurious interrupt on `line`, as a glitch or a misrouted message
 * shows one: the line is seen asserted once, though no device drives it (a device already
 * driving it makes it a real one).  An ISR that claims it is K.isr-claimed-spurious.
 */
void ksl_irq_line_pulse(ksl_engine *e, uint32_t line);
/* From a device callback: the device has an interrupt cause pending that it does not signal (an
 * injected lost interrupt holds its line low), so an ISR finding it on a spurious pulse is right
 * to claim it.  A model that can hold its line low with a cause pending must say so here, or a
 * correct ISR is reported K.isr-claimed-spurious when a spurious pulse finds that cause. */
void ksl_irq_line_latent(ksl_engine *e, uint32_t line, bool latent);
/*
 * From a device callback (a device model's inject hook, or the fault injector that called it):
 * fault `fault` of device `device` happened now.  Every finding recorded after it names it (the
 * latest in the message, the first eight with their times in the detail), so a driver that
 * mishandles a fault is told which one.
 */
void ksl_fault_injected(ksl_engine *e, const char *device, const char *fault);
/* Append to `msg` (of size `n`) the note the findings of `e` carry about injected faults
 * (" [after injected fault ...]"; nothing when none was injected), cutting msg's own text rather
 * than the note if it must: for checks made outside the engine (a job's data check after the
 * run).  Host code. */
void ksl_fault_note_append(const ksl_engine *e, char *msg, size_t n);
/* Current virtual time of the engine (for device code). */
uint64_t ksl_engine_now(const ksl_engine *e);

/* ---- device models: what a job puts a driver on -------------------------------------------- */

#define KSL_DEVICE_MODEL_VERSION 1u

/* What a job does with a device's data. */
typedef enum ksl_device_class {
    KSL_DEVICE_AUDIO = 1,  /* a WavePci driver's device: plays into a sink, captures from a source;
                            * the audio job checks the samples bit for bit */
    KSL_DEVICE_FRAMES = 2, /* a stream class minidriver's device: produces frames of
                            * <kslab/hw/frame.h> (its magic, the low 32 bits of the seed it was
                            * given) that the stream job checks bit for bit */
} ksl_device_class;

/* What a job gives a new instance of a model. */
typedef struct ksl_device_env {
    ksl_engine *engine;
    ksl_physmem *memory;           /* simulated physical memory, for DMA */
    uint64_t seed;                 /* the run's seed: the data (frames) and any timing it draws */
    uintptr_t port_base;           /* where its port ranges go: [port_base, port_base + 64 KiB) is free */
    uint32_t irq_line;             /* the interrupt line it may drive, and the DIRQL the driver gets */
    uint8_t irql;
    const ksl_pcm_sink *sink;      /* KSL_DEVICE_AUDIO: where played samples go (NULL: nowhere) */
    const ksl_pcm_source *source;  /* KSL_DEVICE_AUDIO: what the microphone hears (NULL: silence) */
    uint32_t requests_in_flight;   /* KSL_DEVICE_FRAMES: reads the job keeps outstanding */
} ksl_device_env;

#define KSL_DEVICE_MAX_RANGES 4

/* What an instance occupies: the driver's resources (its resource list, or
 * PORT_CONFIGURATION_INFORMATION). */
typedef struct ksl_device_resources {
    struct {
        uintptr_t base;
        uint32_t size;
    } ports[KSL_DEVICE_MAX_RANGES]; /* in the order the driver finds them */
    uint32_t nports;
    bool has_interrupt;
    uint32_t irq_line;
    uint8_t irql;
    void *lower_device;            /* a device a bus-type stream minidriver reaches through its
                                    * lower device object (<kslab/stream.h>), or NULL */
} ksl_device_resources;

/* One named count of an instance, for reports ("interrupts", "frames", "dropped", ...). */
typedef struct ksl_device_counter {
    const char *name;
    uint64_t value;
} ksl_device_counter;

typedef struct ksl_device_model {
    uint32_t version;              /* KSL_DEVICE_MODEL_VERSION */
    const char *name;              /* what a driver names as its device ("ac97", "fifocap", ...) */
    const char *description;       /* one line */
    ksl_device_class cls;
    uint32_t frame_magic;          /* KSL_DEVICE_FRAMES: the magic of its frames */
    /* A new instance in `env`, attached to the engine, its resources in *res.  NULL with `err`
     * filled when it cannot be made.  Host code, before the run. */
    void *(*create)(const ksl_device_env *env, ksl_device_resources *res, char *err, size_t errlen);
    /* Free an instance (after the run; the engine may already be gone).  Host code. */
    void (*destroy)(void *dev);
    /* Its counters after the run (up to `max` into out; returns how many); NULL: none.  Host
     * code, while the engine still exists. */
    uint32_t (*counters)(void *dev, ksl_device_counter *out, uint32_t max);
    /* The faults it can be made to show (NULL-terminated names; NULL: none), and the hook that
     * shows one: called in device context, returns false for a fault it does not know. */
    const char *const *faults;
    bool (*inject)(void *dev, const char *fault, uint64_t arg);
} ksl_device_model;

/* The built-in model named `name`, or NULL.  Any context. */
const ksl_device_model *ksl_device_model_find(const char *name);
/* The built-in models: "ac97" (audio), "fifocap", "polldev", "lowerbus" (frames).  Any context. */
const ksl_device_model *const *ksl_device_models(size_t *n);
/* The value of an instance's counter `name` (0 when it has none).  Host code. */
uint64_t ksl_device_counter_of(const ksl_device_model *m, void *dev, const char *name);

#ifdef __cplusplus
}
#endif
#endif
