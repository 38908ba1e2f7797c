/* SPDX-License-Identifier: MIT */
/*
 * Built-in drivers and driver plugins (see drivers.h and <kslab/plugin.h>).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <ac97_miniport.h>
#include <kslab/plugin.h>
#include <stream_refs.h>

#include "drivers.h"

/* The device models an audio job can put a driver on. */
static const char *const devices[] = {"ac97"};
/* The device models a stream job can put a minidriver on ("none": a filter with no hardware). */
static const char *const stream_devices[] = {"fifocap", "polldev", "lowerbus", "none"};

static const ksl_wavepci_driver *const builtin[] = {&ksl_ac97_driver};
#define NBUILTIN (sizeof builtin / sizeof builtin[0])

bool driver_arg_is_path(const char *arg)
{
    size_t n = strlen(arg);
    return strchr(arg, '/') != NULL || (n >= 3 && strcmp(arg + n - 3, ".so") == 0);
}

static void builtin_names(char *buf, size_t len, driver_kind kind)
{
    size_t used = 0, nwp = kind == DRIVER_STREAM ? 0 : NBUILTIN;
    size_t n = nwp + (kind == DRIVER_WAVEPCI ? 0 : ksl_stream_nrefs);
    buf[0] = 0;
    for (size_t i = 0; i < n && used < len; i++) {
        const char *name = i >= nwp ? ksl_stream_refs[i - nwp]->name : builtin[i]->name;
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static const char *kind_name(driver_kind k)
{
    return k == DRIVER_STREAM ? "a stream class minidriver" : "a WavePci driver";
}

static const char *kind_commands(driver_kind k)
{
    return k == DRIVER_STREAM ? "`kslab stream` and `stress`" : "`kslab play`, `capture` and `stress`";
}

static int fail(char *err, size_t errlen, void *handle, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, void *handle, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    if (handle)
        dlclose(handle); /* nothing of it ran but its entry point: safe to unload */
    return -1;
}

static bool known_device(const char *d)
{
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++)
        if (strcmp(devices[i], d) == 0)
            return true;
    return false;
}

static bool known_stream_device(const char *d)
{
    for (size_t i = 0; i < sizeof stream_devices / sizeof stream_devices[0]; i++)
        if (strcmp(stream_devices[i], d) == 0)
            return true;
    return false;
}

/* A stream minidriver plugin's descriptor: 0, or -1 (err filled, h closed). */
static int check_stream_plugin(const char *arg, void *h, const ksl_stream_driver *d, char *err, size_t errlen)
{
    if (!d)
        return fail(err, errlen, h, "plugin '%s' gives no driver (its ksl_plugin.driver is NULL)", arg);
    if (d->version != KSL_STREAM_DRIVER_VERSION)
        return fail(err, errlen, h,
                    "plugin '%s': its driver has ksl_stream_driver version %u; this kslab expects %u — rebuild it "
                    "against this kslab's headers",
                    arg, (unsigned)d->version, (unsigned)KSL_STREAM_DRIVER_VERSION);
    if (!d->name || !d->name[0])
        return fail(err, errlen, h, "plugin '%s': its driver has no name", arg);
    if (!d->DriverEntry)
        return fail(err, errlen, h, "plugin '%s': driver '%s' has no DriverEntry", arg, d->name);
    if (!d->device || !known_stream_device(d->device))
        return fail(err, errlen, h,
                    "plugin '%s': driver '%s' is for device '%s'; kslab simulates only: fifocap, polldev, lowerbus, "
                    "none",
                    arg, d->name, d->device ? d->device : "(none given)");
    return 0;
}

static int load_plugin(const char *arg, driver_kind want, driver_ref *out, char *err, size_t errlen)
{
    struct stat st;
    if (stat(arg, &st) != 0)
        return fail(err, errlen, NULL, "cannot load driver plugin '%s': %s", arg, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return fail(err, errlen, NULL, "cannot load driver plugin '%s': it is a directory", arg);

    /* Without a '/', dlopen would search the library path, not the current directory. */
    char local[4096];
    const char *path = arg;
    if (!strchr(arg, '/')) {
        if ((size_t)snprintf(local, sizeof local, "./%s", arg) >= sizeof local)
            return fail(err, errlen, NULL, "cannot load driver plugin '%s': path too long", arg);
        path = local;
    }
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        if (!why)
            why = "unknown dlopen error";
        if (strstr(why, "undefined symbol"))
            return fail(err, errlen, NULL,
                        "cannot load driver plugin '%s': %s — it uses a symbol this kslab does not provide (built "
                        "against another kslab?)",
                        arg, why);
        return fail(err, errlen, NULL, "cannot load driver plugin '%s': not a shared object kslab can load (%s)", arg,
                    why);
    }
    dlerror();
    void *sym = dlsym(h, KSL_PLUGIN_ENTRY_NAME);
    if (!sym)
        return fail(err, errlen, h, "'%s' is not a kslab driver plugin: it exports no %s()", arg,
                    KSL_PLUGIN_ENTRY_NAME);
    /* ISO C has no conversion from an object pointer to a function pointer; POSIX guarantees the
     * representation is the same. */
    ksl_plugin_entry_fn *entry;
    _Static_assert(sizeof entry == sizeof sym, "function and object pointers differ in size");
    memcpy(&entry, &sym, sizeof entry);

    const ksl_plugin *p = entry();
    if (!p)
        return fail(err, errlen, h, "'%s' is not a usable kslab driver plugin: its %s() returned NULL", arg,
                    KSL_PLUGIN_ENTRY_NAME);
    if (p->abi_version != KSL_PLUGIN_ABI_VERSION)
        return fail(err, errlen, h,
                    "plugin '%s' was built for kslab plugin ABI %u; this kslab has ABI %u — rebuild it against this "
                    "kslab's headers",
                    arg, (unsigned)p->abi_version, (unsigned)KSL_PLUGIN_ABI_VERSION);
    if (p->kind != KSL_PLUGIN_WAVEPCI && p->kind != KSL_PLUGIN_STREAM)
        return fail(err, errlen, h, "plugin '%s' is of an unknown kind (plugin kind %u; WavePci is %u, stream class %u)",
                    arg, (unsigned)p->kind, (unsigned)KSL_PLUGIN_WAVEPCI, (unsigned)KSL_PLUGIN_STREAM);
    driver_kind got = p->kind == KSL_PLUGIN_STREAM ? DRIVER_STREAM : DRIVER_WAVEPCI;
    if (want != DRIVER_ANY && got != want)
        return fail(err, errlen, h, "plugin '%s' is %s, not %s (plugin kind %u): run it with %s", arg, kind_name(got),
                    kind_name(want), (unsigned)p->kind, kind_commands(got));
    if (got == DRIVER_STREAM) {
        const ksl_stream_driver *sd = p->driver;
        if (check_stream_plugin(arg, h, sd, err, errlen) != 0)
            return -1;
        out->kind = DRIVER_STREAM;
        out->stream = sd;
        out->name = sd->name;
        out->plugin = true;
        out->arg = arg;
        return 0;
    }
    const ksl_wavepci_driver *d = p->driver;
    if (!d)
        return fail(err, errlen, h, "plugin '%s' gives no driver (its ksl_plugin.driver is NULL)", arg);
    if (d->version != KSL_WAVEPCI_DRIVER_VERSION)
        return fail(err, errlen, h,
                    "plugin '%s': its driver has ksl_wavepci_driver version %u; this kslab expects %u — rebuild it "
                    "against this kslab's headers",
                    arg, (unsigned)d->version, (unsigned)KSL_WAVEPCI_DRIVER_VERSION);
    if (!d->name || !d->name[0])
        return fail(err, errlen, h, "plugin '%s': its driver has no name", arg);
    if (!d->NewMiniport)
        return fail(err, errlen, h, "plugin '%s': driver '%s' has no NewMiniport", arg, d->name);
    if (d->device && !known_device(d->device))
        return fail(err, errlen, h, "plugin '%s': driver '%s' is for device '%s'; kslab simulates only: ac97", arg,
                    d->name, d->device);

    /* Loaded for good: the handle is never closed, since the driver's code may run until exit. */
    out->kind = DRIVER_WAVEPCI;
    out->driver = d;
    out->name = d->name;
    out->plugin = true;
    out->arg = arg;
    return 0;
}

int driver_resolve_kind(const char *arg, driver_kind want, driver_ref *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!arg || !arg[0])
        return fail(err, errlen, NULL, "empty --driver (a built-in driver name or a path to a driver plugin .so)");
    if (driver_arg_is_path(arg))
        return load_plugin(arg, want, out, err, errlen);
    for (size_t i = 0; i < NBUILTIN; i++) {
        if (strcmp(builtin[i]->name, arg) == 0) {
            if (want != DRIVER_ANY && want != DRIVER_WAVEPCI)
                return fail(err, errlen, NULL, "driver '%s' is %s, not %s: run it with %s", arg,
                            kind_name(DRIVER_WAVEPCI), kind_name(want), kind_commands(DRIVER_WAVEPCI));
            out->kind = DRIVER_WAVEPCI;
            out->driver = builtin[i];
            out->name = builtin[i]->name;
            out->plugin = false;
            out->arg = arg;
            return 0;
        }
    }
    for (size_t i = 0; i < ksl_stream_nrefs; i++) {
        if (strcmp(ksl_stream_refs[i]->name, arg) == 0) {
            if (want != DRIVER_ANY && want != DRIVER_STREAM)
                return fail(err, errlen, NULL, "driver '%s' is %s, not %s: run it with %s", arg,
                            kind_name(DRIVER_STREAM), kind_name(want), kind_commands(DRIVER_STREAM));
            out->kind = DRIVER_STREAM;
            out->stream = ksl_stream_refs[i];
            out->name = ksl_stream_refs[i]->name;
            out->plugin = false;
            out->arg = arg;
            return 0;
        }
    }
    char names[256];
    builtin_names(names, sizeof names, want);
    return fail(err, errlen, NULL,
                "unknown driver '%s' (built in: %s; or a path to a driver plugin, e.g. ./%s.so)", arg, names, arg);
}

int driver_resolve(const char *arg, driver_ref *out, char *err, size_t errlen)
{
    return driver_resolve_kind(arg, DRIVER_WAVEPCI, out, err, errlen);
}

void driver_list(FILE *f)
{
    fprintf(f, "drivers (--driver NAME; or --driver PATH.so for a driver plugin):\n");
    for (size_t i = 0; i < NBUILTIN; i++)
        fprintf(f, "  %-16s %-13s %s\n", builtin[i]->name, "WavePci",
                builtin[i]->description ? builtin[i]->description : "");
    for (size_t i = 0; i < ksl_stream_nrefs; i++)
        fprintf(f, "  %-16s %-13s %s (device %s)\n", ksl_stream_refs[i]->name, "stream class",
                ksl_stream_refs[i]->description ? ksl_stream_refs[i]->description : "", ksl_stream_refs[i]->device);
}
