/* SPDX-License-Identifier: MIT */
/* Device models: port ranges, register accesses as scheduling points, device events. */
#include <stdlib.h>

#include "ke_internal.h"

ksl_device *ksl_device_attach(ksl_engine *e, const ksl_device_ops *ops, void *dev, uintptr_t base, uint32_t size)
{
    if (!ops || ops->version != KSL_DEVICE_OPS_VERSION)
        return NULL;
    for (ksl_device *d = e->devices; size && d; d = d->next) /* no registers: no range to clash */
        if (base < d->base + d->size && d->base < base + size)
            return NULL;
    ksl_device *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    *d = (ksl_device){e, ops, dev, base, size, e->devices};
    e->devices = d;
    return d;
}

uintptr_t ksl_device_base(const ksl_device *d)
{
    return d->base;
}

bool ksl_port_observe(ksl_engine *e, uintptr_t base, uint32_t size, ksl_port_observer *fn, void *user)
{
    ksl_port_obs *o = calloc(1, sizeof *o);
    if (!o)
        return false;
    *o = (ksl_port_obs){base, size, fn, user, e->port_obs};
    e->port_obs = o;
    return true;
}

void ksl_port_unobserve(ksl_engine *e, ksl_port_observer *fn, void *user)
{
    for (ksl_port_obs **pp = &e->port_obs; *pp; pp = &(*pp)->next) {
        if ((*pp)->fn == fn && (*pp)->user == user) {
            ksl_port_obs *o = *pp;
            *pp = o->next;
            free(o);
            return;
        }
    }
}

static void observe(ksl_engine *e, uintptr_t address, unsigned width, bool write, uint32_t value, const char *file,
                    int line)
{
    for (ksl_port_obs *o = e->port_obs; o; o = o->next)
        if (address >= o->base && address < o->base + o->size)
            o->fn(o->user, address, width, write, value, file, line);
}

static ksl_device *find(ksl_engine *e, uintptr_t address)
{
    for (ksl_device *d = e->devices; d; d = d->next)
        if (address >= d->base && address < d->base + d->size)
            return d;
    return NULL;
}

uint32_t ksl_port_read(uintptr_t address, unsigned width, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    ksl_engine *e = c ? c->e : ksl__eng;
    if (!e)
        return 0xFFFFFFFFu;
    ksl_device *d = find(e, address);
    if (c)
        c = ksl__point(c, P_PORT_READ, d ? d->ops->access_cost_ns : e->cfg.step_cost_ns, file, line);
    if (e->port_obs)
        observe(e, address, width, false, 0, file, line);
    if (!d)
        return 0xFFFFFFFFu >> (32 - 8 * width); /* nothing decodes the address: the bus floats high */
    ksl__big_lock(e);
    ksl__in_device = DEV_REGISTER;
    uint32_t v = d->ops->read ? d->ops->read(d->dev, (uint32_t)(address - d->base), width, c ? c->clock : e->now) : 0;
    ksl__in_device = DEV_NONE;
    ksl__big_unlock(e);
    if (atomic_load(&e->stop))
        ksl__stop_run(c);
    return v;
}

void ksl_port_write(uintptr_t address, unsigned width, uint32_t value, const char *file, int line)
{
    ksl_cpu *c = ksl__cur;
    ksl_engine *e = c ? c->e : ksl__eng;
    if (!e)
        return;
    ksl_device *d = find(e, address);
    if (c)
        c = ksl__point(c, P_PORT_WRITE, d ? d->ops->access_cost_ns : e->cfg.step_cost_ns, file, line);
    if (e->port_obs)
        observe(e, address, width, true, value, file, line);
    if (!d || !d->ops->write)
        return;
    ksl__big_lock(e);
    ksl__in_device = DEV_REGISTER;
    e->access_file = file;
    e->access_line = line;
    d->ops->write(d->dev, (uint32_t)(address - d->base), width, value, c ? c->clock : e->now);
    e->access_file = NULL;
    e->access_line = 0;
    ksl__in_device = DEV_NONE;
    ksl__big_unlock(e);
    if (atomic_load(&e->stop))
        ksl__stop_run(c);
}

void ksl_device_access_site(const char **file, int *line)
{
    ksl_cpu *c = ksl__cur;
    ksl_engine *e = c ? c->e : ksl__eng;
    *file = e && ksl__in_device == DEV_REGISTER ? e->access_file : NULL;
    *line = *file ? e->access_line : 0;
}

void ksl_device_schedule(ksl_device *d, uint64_t at_ns, uint64_t cookie)
{
    ksl__heap_push(d->e, at_ns + ksl__jitter(d->e, d->e->cfg.jitter_ns), EV_DEVICE, d, cookie);
}

void ksl_device_post(ksl_device *d, uint64_t delay_ns, uint64_t cookie)
{
    ksl_engine *e = d->e;
    ksl__big_lock(e);
    uint64_t now = ksl__cur ? ksl__cur->clock : ksl__threaded(e) ? atomic_load(&e->tclock) : e->now;
    ksl__heap_push(e, now + delay_ns + ksl__jitter(e, e->cfg.jitter_ns), EV_DEVICE, d, cookie);
    ksl__big_unlock(e);
    for (uint32_t i = 0; i < e->ncpus; i++)
        ksl__kick(e, i);
}

void ksl_device_unschedule(ksl_device *d, uint64_t cookie)
{
    ksl__heap_remove_obj(d->e, d, cookie, 1);
}
