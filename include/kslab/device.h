/* SPDX-License-Identifier: MIT */
/*
 * The device-model hook.  A device is a participant in virtual time: it exposes registers at a
 * port range (each access is a scheduling point and costs the virtual time the device declares),
 * schedules events of its own on the virtual clock, and drives interrupt lines.
 *
 * Device callbacks run "in hardware": outside every virtual CPU, atomically with respect to the
 * schedule.  They must not call scheduling-point functions.
 */
#ifndef KSLAB_DEVICE_H
#define KSLAB_DEVICE_H

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
 * overlaps another device.  Outside a run; not a scheduling point.
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
/* From a device callback: run `event` with `cookie` at absolute virtual time `at_ns`. */
void ksl_device_schedule(ksl_device *d, uint64_t at_ns, uint64_t cookie);
/* From a device callback: cancel every scheduled event of this device with `cookie`. */
void ksl_device_unschedule(ksl_device *d, uint64_t cookie);
/* From a device callback: drive an interrupt line (level-triggered) high or low. */
void ksl_irq_line_set(ksl_engine *e, uint32_t line, bool asserted);
/* Current virtual time of the engine (for device code). */
uint64_t ksl_engine_now(const ksl_engine *e);

#ifdef __cplusplus
}
#endif
#endif
