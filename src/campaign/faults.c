/* SPDX-License-Identifier: MIT */
/* Device faults as scenario events (see faults.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "../explore/rng.h"
#include "faults.h"

enum { COOKIE_STORM = 0x10000 };

static const char *const irq_faults[] = {"spurious-interrupt", "interrupt-storm"};

uint32_t ksl__faults_names(const ksl_device_model *m, bool has_irq, const char **out, uint32_t max)
{
    uint32_t n = 0;
    for (const char *const *p = m && m->inject ? m->faults : NULL; p && *p; p++)
        if (n < max)
            out[n++] = *p;
    for (size_t i = 0; has_irq && i < sizeof irq_faults / sizeof irq_faults[0]; i++)
        if (n < max)
            out[n++] = irq_faults[i];
    return n;
}

static void show(ksl__faults *f, const char *name)
{
    bool took;
    if (strcmp(name, "spurious-interrupt") == 0) {
        ksl_irq_line_pulse(f->e, f->line);
        took = true;
    } else if (strcmp(name, "interrupt-storm") == 0) {
        ksl_irq_line_pulse(f->e, f->line);
        f->storm_left = KSL__STORM_PULSES - 1;
        ksl_device_schedule(f->inj, ksl_engine_now(f->e) + KSL__STORM_GAP_NS, COOKIE_STORM);
        took = true;
    } else {
        took = f->model->inject(f->dev, name, 0);
    }
    if (took) {
        f->injected++;
        ksl_fault_injected(f->e, f->model->name, name);
    }
}

static void injector_event(void *user, uint64_t cookie, uint64_t now)
{
    ksl__faults *f = user;
    if (cookie == COOKIE_STORM) {
        ksl_irq_line_pulse(f->e, f->line);
        if (f->storm_left && --f->storm_left)
            ksl_device_schedule(f->inj, now + KSL__STORM_GAP_NS, COOKIE_STORM);
        return;
    }
    if (cookie >= 1 && cookie <= f->n)
        show(f, f->plan[cookie - 1].name);
}

static const ksl_device_ops injector_ops = {KSL_DEVICE_OPS_VERSION, "fault injector", NULL, NULL, injector_event, 0};

int ksl__faults_arm(ksl__faults *f, ksl_engine *e, const ksl_device_model *m, void *dev,
                    const ksl_device_resources *res, uint64_t seed, uint32_t count, const char *only,
                    uint32_t requests, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->e = e;
    f->model = m;
    f->dev = dev;
    f->has_irq = res && res->has_interrupt;
    f->line = res ? res->irq_line : 0;
    const char *names[KSL__FAULT_KINDS];
    uint32_t nnames = ksl__faults_names(m, f->has_irq, names, KSL__FAULT_KINDS);
    if (only) {
        uint32_t i = 0;
        while (i < nnames && strcmp(names[i], only) != 0)
            i++;
        if (i == nnames) {
            snprintf(err, errlen, "device '%s' cannot show fault '%s' (`kslab rules` lists the faults)",
                     m ? m->name : "none", only);
            return -1;
        }
        names[0] = names[i];
        nnames = 1;
    }
    if (!count || !nnames)
        return 0;
    f->inj = ksl_device_attach(e, &injector_ops, f, 0, 0);
    if (!f->inj) {
        snprintf(err, errlen, "the fault injector could not be attached");
        return -1;
    }
    ksl_rng r;
    ksl_rng_seed(&r, seed ^ 0x6661756c74730000ull); /* "faults": apart from the job's other draws */
    f->n = count < KSL__FAULTS_MAX ? count : KSL__FAULTS_MAX;
    for (uint32_t i = 0; i < f->n; i++) {
        f->plan[i].after = (uint32_t)ksl_rng_below(&r, requests ? requests : 1);
        f->plan[i].delay_ns = (uint32_t)ksl_rng_below(&r, 1000) * 1000u;
        f->plan[i].name = names[ksl_rng_below(&r, nnames)];
        if (!f->plan[i].after)
            ksl_device_schedule(f->inj, f->plan[i].delay_ns, i + 1u); /* from the start */
    }
    return 0;
}

void ksl__faults_progress(ksl__faults *f)
{
    if (!f || !f->inj)
        return;
    uint32_t done = atomic_fetch_add(&f->done, 1) + 1; /* each count is one caller's */
    for (uint32_t i = 0; i < f->n; i++)
        if (f->plan[i].after == done)
            ksl_device_post(f->inj, f->plan[i].delay_ns, i + 1u);
}
