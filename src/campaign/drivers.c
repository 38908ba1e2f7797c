/* SPDX-License-Identifier: MIT */
/* Built-in drivers and driver plugins (see drivers.h). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ac97_miniport.h>
#include <kslab/audio.h>
#include <kslab/campaign.h>
#include <kslab/plugin.h>
#include <stream_refs.h>

#include "drivers.h"
#include "elf_imports.h"

/* The device models a WavePci job can put a driver on. */
static const char *const wavepci_devices[] = {"ac97"};
/* The device models a stream job can put a minidriver on ("none": a filter with no hardware). */
static const char *const stream_devices[] = {"fifocap", "polldev", "lowerbus", "none"};

static const ksl_wavepci_driver *const builtin_wavepci[] = {&ksl_ac97_driver};
#define NBUILTIN_WAVEPCI (sizeof builtin_wavepci / sizeof builtin_wavepci[0])

bool ksl__driver_is_path(const char *arg)
{
    size_t n = strlen(arg);
    return strchr(arg, '/') != NULL || (n >= 3 && strcmp(arg + n - 3, ".so") == 0);
}

const char *ksl__drv_kind_text(ksl__drv_kind k)
{
    return k == KSL__DRV_STREAM ? "a stream class minidriver" : k == KSL__DRV_WAVEPCI ? "a WavePci driver" : "no driver";
}

const char *ksl__drv_commands(ksl__drv_kind k)
{
    return k == KSL__DRV_STREAM ? "`kslab stream` and `stress`" : "`kslab play`, `capture` and `stress`";
}

const char *ksl__drv_kind_name(ksl__drv_kind k)
{
    return k == KSL__DRV_STREAM ? "stream" : k == KSL__DRV_WAVEPCI ? "wavepci" : "";
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static void fill_wavepci(ksl__driver *out, const ksl_wavepci_driver *d, bool plugin)
{
    out->kind = KSL__DRV_WAVEPCI;
    out->wavepci = d;
    out->plugin = plugin;
    snprintf(out->name, sizeof out->name, "%s", d->name);
    snprintf(out->description, sizeof out->description, "%s", d->description ? d->description : "");
    snprintf(out->device, sizeof out->device, "%s", d->device ? d->device : "ac97");
}

static void fill_stream(ksl__driver *out, const ksl_stream_driver *d, bool plugin)
{
    out->kind = KSL__DRV_STREAM;
    out->stream = d;
    out->plugin = plugin;
    snprintf(out->name, sizeof out->name, "%s", d->name);
    snprintf(out->description, sizeof out->description, "%s", d->description ? d->description : "");
    snprintf(out->device, sizeof out->device, "%s", d->device ? d->device : "");
}

const ksl_driver_info *ksl_builtin_drivers(size_t *n)
{
    static ksl_driver_info info[NBUILTIN_WAVEPCI + 8];
    size_t k = 0;
    for (size_t i = 0; i < NBUILTIN_WAVEPCI; i++)
        info[k++] = (ksl_driver_info){builtin_wavepci[i]->name, "wavepci", builtin_wavepci[i]->description,
                                      builtin_wavepci[i]->device ? builtin_wavepci[i]->device : "ac97"};
    for (size_t i = 0; i < ksl_stream_nrefs && k < sizeof info / sizeof info[0]; i++)
        info[k++] = (ksl_driver_info){ksl_stream_refs[i]->name, "stream", ksl_stream_refs[i]->description,
                                      ksl_stream_refs[i]->device};
    *n = k;
    return info;
}

int ksl__driver_builtin(const char *name, ksl__driver *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < NBUILTIN_WAVEPCI; i++)
        if (strcmp(builtin_wavepci[i]->name, name) == 0) {
            fill_wavepci(out, builtin_wavepci[i], false);
            return 0;
        }
    for (size_t i = 0; i < ksl_stream_nrefs; i++)
        if (strcmp(ksl_stream_refs[i]->name, name) == 0) {
            fill_stream(out, ksl_stream_refs[i], false);
            return 0;
        }
    char names[256] = "";
    size_t used = 0, n;
    const ksl_driver_info *all = ksl_builtin_drivers(&n);
    for (size_t i = 0; i < n && used < sizeof names; i++) {
        int w = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", all[i].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return fail(err, errlen, "unknown driver '%s' (built in: %s; or a path to a driver plugin, e.g. ./%s.so)", name,
                names, name);
}

static bool known(const char *const *list, size_t n, const char *d)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], d) == 0)
            return true;
    return false;
}

static int check_stream(const char *arg, const ksl_stream_driver *d, const char *extra, char *err, size_t errlen)
{
    if (!d)
        return fail(err, errlen, "plugin '%s' gives no driver (its ksl_plugin.driver is NULL)", arg);
    if (d->version != KSL_STREAM_DRIVER_VERSION)
        return fail(err, errlen,
                    "plugin '%s': its driver has ksl_stream_driver version %u; this kslab expects %u — rebuild it "
                    "against this kslab's headers",
                    arg, (unsigned)d->version, (unsigned)KSL_STREAM_DRIVER_VERSION);
    if (!d->name || !d->name[0])
        return fail(err, errlen, "plugin '%s': its driver has no name", arg);
    if (!d->DriverEntry)
        return fail(err, errlen, "plugin '%s': driver '%s' has no DriverEntry", arg, d->name);
    if (!d->device || (!known(stream_devices, sizeof stream_devices / sizeof stream_devices[0], d->device) &&
                       !(extra && strcmp(extra, d->device) == 0)))
        return fail(err, errlen,
                    "plugin '%s': driver '%s' is for device '%s'; kslab simulates only: fifocap, polldev, lowerbus, "
                    "none (or give the device's model with --device PATH.so)",
                    arg, d->name, d->device ? d->device : "(none given)");
    return 0;
}

static int check_wavepci(const char *arg, const ksl_wavepci_driver *d, const char *extra, char *err, size_t errlen)
{
    if (!d)
        return fail(err, errlen, "plugin '%s' gives no driver (its ksl_plugin.driver is NULL)", arg);
    if (d->version < 1 || d->version > KSL_WAVEPCI_DRIVER_VERSION)
        return fail(err, errlen,
                    "plugin '%s': its driver has ksl_wavepci_driver version %u; this kslab knows 1 to %u — rebuild it "
                    "against this kslab's headers",
                    arg, (unsigned)d->version, (unsigned)KSL_WAVEPCI_DRIVER_VERSION);
    if (!d->name || !d->name[0])
        return fail(err, errlen, "plugin '%s': its driver has no name", arg);
    if (!d->NewMiniport == !(d->version >= 2 && d->DriverEntry))
        return fail(err, errlen, "plugin '%s': driver '%s' must have exactly one of NewMiniport and DriverEntry", arg,
                    d->name);
    if (d->device && !known(wavepci_devices, sizeof wavepci_devices / sizeof wavepci_devices[0], d->device) &&
        !(extra && strcmp(extra, d->device) == 0))
        return fail(err, errlen,
                    "plugin '%s': driver '%s' is for device '%s'; kslab simulates only: ac97 (or give the device's "
                    "model with --device PATH.so)",
                    arg, d->name, d->device);
    return 0;
}

/* The plugins this process opened, to close at a worker's clean end. */
#define MAX_OPEN 8
static void *opened[MAX_OPEN];
static unsigned nopened;

size_t ksl__plugins_opened(void **out, size_t max)
{
    size_t n = 0;
    for (; n < nopened && n < max; n++)
        out[n] = opened[n];
    return n;
}

void ksl__plugins_close(void)
{
    while (nopened)
        dlclose(opened[--nopened]);
}

/* Stream class minidrivers made from a bare DriverEntry (bare_plugin): their device is set when
 * the driver is loaded with a device plugin. */
static ksl_stream_driver bare_streams[MAX_OPEN];

/*
 * A driver built for Windows as it is: no kslab_plugin(), but a DriverEntry.  What it imports
 * tells its kind, as what its DriverEntry registers would: PcInitializeAdapterDriver, a PortCls
 * adapter, run as a WavePci adapter (ksl_wavepci_driver version 2) on the AC'97 model;
 * StreamClassRegisterAdapter, a stream class minidriver, run on the device plugin given with it
 * (--device) or, without one, as hardware-less (device "none").  Named after its file.  NULL when
 * the plugin has no DriverEntry either; an error when it imports both or neither.
 */
static const ksl_plugin *bare_plugin(void *h, const char *path, const char *arg, char *err, size_t errlen)
{
    static ksl_wavepci_driver drivers[MAX_OPEN];
    static ksl_plugin plugins[MAX_OPEN];
    static char names[MAX_OPEN][64];
    void *sym = dlsym(h, "DriverEntry");
    if (!sym)
        return NULL;
    if (nopened == 0 || opened[nopened - 1] != h) { /* its records would take another plugin's slot */
        fail(err, errlen, "cannot load '%s': more than %d plugins open in one process", arg, MAX_OPEN);
        return NULL;
    }
    static const char *const registers[] = {"PcInitializeAdapterDriver", "StreamClassRegisterAdapter"};
    bool has[2];
    if (ksl__elf_imports(path, registers, has, 2, err, errlen) != 0)
        return NULL;
    if (has[0] == has[1]) {
        fail(err, errlen,
             "'%s' has a DriverEntry and no %s() entry point, and it calls %s of PcInitializeAdapterDriver (a PortCls "
             "adapter) and StreamClassRegisterAdapter (a stream class minidriver): kslab cannot tell what it is",
             arg, KSL_PLUGIN_ENTRY_NAME, has[0] ? "both" : "neither");
        return NULL;
    }
    unsigned i = nopened - 1;
    const char *base = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
    size_t n = strcspn(base, ".");
    snprintf(names[i], sizeof names[i], "%.*s", (int)(n < sizeof names[i] ? n : sizeof names[i] - 1), base);
    if (has[1]) {
        NTSTATUS (*entry)(PVOID, PVOID);
        memcpy(&entry, &sym, sizeof entry);
        bare_streams[i] = (ksl_stream_driver){KSL_STREAM_DRIVER_VERSION, names[i],
                                              "a stream class minidriver (DriverEntry)", "none", entry};
        plugins[i] = (ksl_plugin){KSL_PLUGIN_ABI_VERSION, KSL_PLUGIN_STREAM, &bare_streams[i]};
        return &plugins[i];
    }
    PDRIVER_INITIALIZE entry;
    memcpy(&entry, &sym, sizeof entry);
    drivers[i] = (ksl_wavepci_driver){KSL_WAVEPCI_DRIVER_VERSION, names[i], "a PortCls adapter driver (DriverEntry)",
                                      "ac97", NULL, entry};
    plugins[i] = (ksl_plugin){KSL_PLUGIN_ABI_VERSION, KSL_PLUGIN_WAVEPCI, &drivers[i]};
    return &plugins[i];
}

/* dlopen `arg` and call its kslab_plugin(): the plugin record, or NULL with err filled.  `what`
 * names the kind of plugin in messages ("driver plugin", "device plugin"). */
static const ksl_plugin *open_plugin(const char *arg, const char *what, char *err, size_t errlen)
{
    struct stat st;
    if (stat(arg, &st) != 0)
        return fail(err, errlen, "cannot load %s '%s': %s", what, arg, strerror(errno)), NULL;
    if (S_ISDIR(st.st_mode))
        return fail(err, errlen, "cannot load %s '%s': it is a directory", what, arg), NULL;
    /* Without a '/', dlopen would search the library path, not the current directory. */
    char local[4096];
    const char *path = arg;
    if (!strchr(arg, '/')) {
        if ((size_t)snprintf(local, sizeof local, "./%s", arg) >= sizeof local)
            return fail(err, errlen, "cannot load %s '%s': path too long", what, arg), NULL;
        path = local;
    }
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        if (!why)
            why = "unknown dlopen error";
        if (strstr(why, "undefined symbol"))
            return fail(err, errlen,
                        "cannot load %s '%s': %s — it uses a symbol this kslab does not provide (built "
                        "against another kslab?)",
                        what, arg, why), NULL;
        return fail(err, errlen, "cannot load %s '%s': not a shared object kslab can load (%s)", what, arg, why),
               NULL;
    }
    /* From here on the handle stays open: its constructors ran, and its code may be running. */
    if (nopened < MAX_OPEN)
        opened[nopened++] = h;
    dlerror();
    void *sym = dlsym(h, KSL_PLUGIN_ENTRY_NAME);
    if (!sym && strcmp(what, "driver plugin") == 0) {
        err[0] = 0;
        const ksl_plugin *bare = bare_plugin(h, path, arg, err, errlen);
        if (bare || err[0])
            return bare;
    }
    if (!sym)
        return fail(err, errlen, "'%s' is not a kslab %s: it exports no %s()%s", arg, what, KSL_PLUGIN_ENTRY_NAME,
                    strcmp(what, "driver plugin") == 0 ? " and no DriverEntry()" : ""), NULL;
    /* ISO C has no conversion from an object pointer to a function pointer; POSIX guarantees the
     * representation is the same. */
    ksl_plugin_entry_fn *entry;
    _Static_assert(sizeof entry == sizeof sym, "function and object pointers differ in size");
    memcpy(&entry, &sym, sizeof entry);
    const ksl_plugin *p = entry();
    if (!p)
        return fail(err, errlen, "'%s' is not a usable kslab %s: its %s() returned NULL", arg, what,
                    KSL_PLUGIN_ENTRY_NAME), NULL;
    if (p->abi_version != KSL_PLUGIN_ABI_VERSION)
        return fail(err, errlen,
                    "plugin '%s' was built for kslab plugin ABI %u; this kslab has ABI %u — rebuild it against this "
                    "kslab's headers",
                    arg, (unsigned)p->abi_version, (unsigned)KSL_PLUGIN_ABI_VERSION), NULL;
    return p;
}

int ksl__driver_load(const char *arg, ksl__drv_kind want, const char *extra_device, ksl__driver *out, char *err,
                     size_t errlen)
{
    memset(out, 0, sizeof *out);
    const ksl_plugin *p = open_plugin(arg, "driver plugin", err, errlen);
    if (!p)
        return -1;
    if (p->kind == KSL_PLUGIN_DEVICE)
        return fail(err, errlen, "plugin '%s' is a device model, not a driver: give it with --device", arg);
    ksl__drv_kind got = p->kind == KSL_PLUGIN_STREAM ? KSL__DRV_STREAM : p->kind == KSL_PLUGIN_WAVEPCI ? KSL__DRV_WAVEPCI
                                                                                                   : KSL__DRV_NONE;
    if (got != KSL__DRV_NONE && want != KSL__DRV_NONE && got != want)
        return fail(err, errlen, "plugin '%s' is %s, not %s (plugin kind %u): run it with %s", arg,
                    ksl__drv_kind_text(got), ksl__drv_kind_text(want), (unsigned)p->kind, ksl__drv_commands(got));
    if (p->kind == KSL_PLUGIN_STREAM) {
        for (size_t i = 0; extra_device && i < MAX_OPEN; i++)
            if (p->driver == &bare_streams[i])
                bare_streams[i].device = extra_device; /* a bare minidriver runs on the device plugin given */
        if (check_stream(arg, p->driver, extra_device, err, errlen) != 0)
            return -1;
        fill_stream(out, p->driver, true);
    } else if (p->kind == KSL_PLUGIN_WAVEPCI) {
        if (check_wavepci(arg, p->driver, extra_device, err, errlen) != 0)
            return -1;
        fill_wavepci(out, p->driver, true);
    } else {
        return fail(err, errlen,
                    "plugin '%s' is of an unknown kind (plugin kind %u; WavePci is %u, stream class %u)", arg,
                    (unsigned)p->kind, (unsigned)KSL_PLUGIN_WAVEPCI, (unsigned)KSL_PLUGIN_STREAM);
    }
    return 0;
}

int ksl__device_load(const char *arg, const ksl_device_model **out, char *err, size_t errlen)
{
    *out = NULL;
    const ksl_plugin *p = open_plugin(arg, "device plugin", err, errlen);
    if (!p)
        return -1;
    if (p->kind != KSL_PLUGIN_DEVICE)
        return fail(err, errlen, "plugin '%s' is a driver, not a device model: give it with --driver", arg);
    const ksl_device_model *m = p->driver;
    if (!m)
        return fail(err, errlen, "device plugin '%s' gives no model (its ksl_plugin.driver is NULL)", arg);
    if (m->version != KSL_DEVICE_MODEL_VERSION)
        return fail(err, errlen,
                    "device plugin '%s': its model has ksl_device_model version %u; this kslab expects %u — rebuild it "
                    "against this kslab's headers",
                    arg, (unsigned)m->version, (unsigned)KSL_DEVICE_MODEL_VERSION);
    if (!m->name || !m->name[0] || !m->create || !m->destroy)
        return fail(err, errlen, "device plugin '%s': its model has no name, create or destroy", arg);
    if (m->cls != KSL_DEVICE_AUDIO && m->cls != KSL_DEVICE_FRAMES)
        return fail(err, errlen, "device plugin '%s': model '%s' is of an unknown class %d", arg, m->name, (int)m->cls);
    *out = m;
    return 0;
}

int ksl__file_hash(const char *path, uint64_t *out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, "cannot read '%s': %s", path, strerror(errno));
    ksl_hash64 h;
    ksl_hash64_init(&h);
    char buf[65536];
    for (;;) {
        ssize_t k = read(fd, buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            close(fd);
            return fail(err, errlen, "cannot read '%s': %s", path, strerror(e));
        }
        if (k == 0)
            break;
        ksl_hash64_update(&h, buf, (size_t)k);
    }
    close(fd);
    *out = ksl_hash64_final(&h);
    return 0;
}
