/* SPDX-License-Identifier: MIT */
/*
 * Drivers as plugins.  A driver built as a shared object exports one function,
 *
 *     const ksl_plugin *kslab_plugin(void);
 *
 * which `kslab` looks up after dlopen.  The easiest way to write it is the macro below:
 *
 *     #include <kslab/plugin.h>
 *     static NTSTATUS NewMiniport(PMINIPORTWAVEPCI *Miniport) { ... }
 *     static const ksl_wavepci_driver my_driver = {KSL_WAVEPCI_DRIVER_VERSION, "mydrv",
 *                                                  "my WavePci miniport", "ac97", NewMiniport, NULL};
 *     KSLAB_WAVEPCI_PLUGIN(my_driver)
 *
 * Build it against the installed headers: cc -shared -o mydrv.so mydrv.c $(pkg-config --cflags
 * --libs kslab).  The plugin links libkslab.so (it does not carry a copy of kslab); kslab loads it
 * only in its worker processes.
 *
 * A stream class minidriver plugin is the same with a ksl_stream_driver (<kslab/wdk/strmini.h>)
 * and KSLAB_STREAM_PLUGIN(my_driver); `kslab stream` runs it, `kslab play` refuses it (and the
 * other way round).
 *
 * ABI: kslab refuses a plugin whose abi_version differs from its own KSL_PLUGIN_ABI_VERSION (the
 * layouts of the structures and vtables in these headers are part of the ABI), with a message
 * naming both versions, and exits 2.
 */
#ifndef KSLAB_PLUGIN_H
#define KSLAB_PLUGIN_H

#include <kslab/device.h>
#include <kslab/wdk/portcls.h>
#include <kslab/wdk/strmini.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: device models (<kslab/device.h>), libkslab.so; 3: the WDK headers for C and C++ (full
 * descriptor layouts, IResourceList's whole vtable, DMA adapters, real interface ids). */
#define KSL_PLUGIN_ABI_VERSION 3u
#define KSL_PLUGIN_ENTRY_NAME "kslab_plugin"

enum ksl_plugin_kind { KSL_PLUGIN_WAVEPCI = 1, KSL_PLUGIN_STREAM = 2, KSL_PLUGIN_DEVICE = 3 };

typedef struct ksl_plugin {
    uint32_t abi_version;  /* KSL_PLUGIN_ABI_VERSION of the headers it was built with */
    uint32_t kind;         /* enum ksl_plugin_kind */
    const void *driver;    /* KSL_PLUGIN_WAVEPCI: const ksl_wavepci_driver *;
                            * KSL_PLUGIN_STREAM: const ksl_stream_driver *;
                            * KSL_PLUGIN_DEVICE: const ksl_device_model * */
} ksl_plugin;

typedef const ksl_plugin *ksl_plugin_entry_fn(void);

/* The entry point has C linkage in a C++ driver too (kslab looks it up by name). */
#ifdef __cplusplus
#define KSL_PLUGIN_LINKAGE_ extern "C"
#else
#define KSL_PLUGIN_LINKAGE_
#endif

/* Define the entry point of a WavePci driver plugin.  Use once, at file scope. */
#define KSLAB_WAVEPCI_PLUGIN(driver_object)                                                           \
    KSL_PLUGIN_LINKAGE_ const ksl_plugin *kslab_plugin(void);                                         \
    KSL_PLUGIN_LINKAGE_ const ksl_plugin *kslab_plugin(void)                                          \
    {                                                                                                 \
        static const ksl_plugin plugin_ = {KSL_PLUGIN_ABI_VERSION, KSL_PLUGIN_WAVEPCI, &(driver_object)}; \
        return &plugin_;                                                                              \
    }

/* Define the entry point of a stream class minidriver plugin (`kslab stream --driver x.so`).  Use
 * once, at file scope.  Same ABI version: a new kind is a compatible addition. */
#define KSLAB_STREAM_PLUGIN(driver_object)                                                            \
    KSL_PLUGIN_LINKAGE_ const ksl_plugin *kslab_plugin(void);                                         \
    KSL_PLUGIN_LINKAGE_ const ksl_plugin *kslab_plugin(void)                                          \
    {                                                                                                 \
        static const ksl_plugin plugin_ = {KSL_PLUGIN_ABI_VERSION, KSL_PLUGIN_STREAM, &(driver_object)}; \
        return &plugin_;                                                                              \
    }

/* Define the entry point of a device-model plugin (`kslab ... --device x.so`): a model of
 * <kslab/device.h> the driver runs on instead of a built-in one; the driver names it by the
 * model's name.  Use once, at file scope. */
#define KSLAB_DEVICE_PLUGIN(model_object)                                                             \
    KSL_PLUGIN_LINKAGE_ const ksl_plugin *kslab_plugin(void);                                         \
    KSL_PLUGIN_LINKAGE_ const ksl_plugin *kslab_plugin(void)                                          \
    {                                                                                                 \
        static const ksl_plugin plugin_ = {KSL_PLUGIN_ABI_VERSION, KSL_PLUGIN_DEVICE, &(model_object)}; \
        return &plugin_;                                                                              \
    }

#ifdef __cplusplus
}
#endif
#endif
