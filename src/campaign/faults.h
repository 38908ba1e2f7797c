/* SPDX-License-Identifier: MIT */
/*
 * Device faults as scenario events: a device without registers that makes the job's device show
 * a fault through its model's inject hook (<kslab/device.h>), and records each with
 * ksl_fault_injected so that findings name it.  The moments come from the seed and from the
 * job's progress, so they fall while the stream runs whatever the device's pace: the k-th fault
 * comes a seeded 0-999 us after a seeded number of the job's requests (IRPs, SRBs) completed.
 * Two faults it shows itself on any device with an interrupt line:
 *   "spurious-interrupt"  the line pulses once with no device cause (ksl_irq_line_pulse);
 *   "interrupt-storm"     KSL__STORM_PULSES such pulses, KSL__STORM_GAP_NS apart.
 * Same seed, same faults at the same virtual times.  Host code before the run; device context
 * during it.
 */
#ifndef KSLAB_CAMPAIGN_FAULTS_H
#define KSLAB_CAMPAIGN_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kslab/device.h>

#define KSL__FAULTS_MAX 8u     /* faults one run injects at most */
#define KSL__FAULT_KINDS 16u   /* fault names of one device the injector can pick from */
#define KSL__STORM_PULSES 64u
#define KSL__STORM_GAP_NS 2000u

typedef struct ksl__faults {
    ksl_engine *e;
    ksl_device *inj;
    const ksl_device_model *model;
    void *dev;
    bool has_irq;
    uint32_t line;
    struct {
        uint32_t after;        /* requests completed before it */
        uint32_t delay_ns;     /* from that completion */
        const char *name;
    } plan[KSL__FAULTS_MAX];
    uint32_t n;
    _Atomic uint32_t done;     /* requests completed so far (ksl__faults_progress) */
    uint32_t storm_left;       /* pulses of a storm still to come */
    uint32_t injected;         /* faults the device took */
} ksl__faults;

/* The faults the injector can show on `m` (its model's, then the interrupt ones when `has_irq`):
 * up to `max` names into `out`; returns how many.  Any context. */
uint32_t ksl__faults_names(const ksl_device_model *m, bool has_irq, const char **out, uint32_t max);

/*
 * Plan `count` (<= KSL__FAULTS_MAX) faults for a run of `e` on device `dev` of model `m`, after
 * seeded numbers of completed requests in [0, requests), each `only` or, when `only` is NULL, one
 * the seed picks among ksl__faults_names, and attach the injector.  0 on success; -1 with `err`
 * filled when the device shows no such fault (an input error) or the injector cannot be attached.
 * `f` must live until the run ends.  Host code, before the run.
 */
int ksl__faults_arm(ksl__faults *f, ksl_engine *e, const ksl_device_model *m, void *dev,
                    const ksl_device_resources *res, uint64_t seed, uint32_t count, const char *only,
                    uint32_t requests, char *err, size_t errlen);
/* A request of the job completed: the faults planned after this many follow.  From the job's
 * client threads; any IRQL; not a scheduling point. */
void ksl__faults_progress(ksl__faults *f);

#endif
