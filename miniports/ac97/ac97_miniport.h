/* SPDX-License-Identifier: MIT */
/*
 * The reference AC'97 WavePci miniport, written the way ../shared/RULES.md W1-W6 say:
 *  - W1: every mapping is in the stream's list from GetMapping until exactly one of
 *    ReleaseMapping (after the hardware finished it) or RevokeMappings takes it out;
 *  - W2: the list, the descriptor list and the DMA registers change only under the stream's
 *    MapLock;
 *  - W3: MapLock is dropped around every GetMapping and ReleaseMapping;
 *  - W4: after re-taking it, nothing read before is reused: indices are recomputed; one caller
 *    at a time fills the ring and one drains it, so the ring stays in the order the port handed
 *    the mappings out and releases go back in that order;
 *  - W5: RevokeMappings pauses the engine, resets it, and rebuilds the ring without the revoked
 *    entries, so the hardware never touches them again; the entry being played continues from
 *    the byte where it stopped;
 *  - W6: a mapping popped for release is no longer in the list, so a racing revoke neither finds
 *    nor counts it; a mapping being acquired while a revoke runs is counted by the revoke and
 *    dropped by its acquirer.
 * The ISR only acknowledges the interrupt and calls Notify.
 *
 * Device faults (`kslab rules` lists them): the ISR acknowledges every status bit it finds,
 * FIFOE included, and claims only interrupts its GLOB_STA shows; Service releases every entry
 * the hardware finished by CIV, never by counting interrupts, so a lost one costs nothing;
 * Service restarts an engine a bus-master error halted (DCH without CELV); the reset poll gives
 * up after AC97_RESET_POLLS.
 */
#ifndef KSLAB_MINIPORT_AC97_H
#define KSLAB_MINIPORT_AC97_H

#include <kslab/hw/ac97.h>
#include <kslab/wdk/portcls.h>

#define AC97_POOL_TAG 0x37394341u /* "AC97" */
#define AC97_MAX_ENTRIES 31u      /* one ring slot stays empty */
#define AC97_MAX_MAPPING 0x1FFFEu /* 16-bit sample count */
#define AC97_IOC_MS 10u           /* an interrupt at least every 10 ms of audio */
#define AC97_RESET_POLLS 100u

enum { AC97_CH_OUT = 0, AC97_CH_IN = 1 };
enum ac97_engine { AC97_DMA_OFF = 0, AC97_DMA_ON = 1, AC97_DMA_NEED_START = 2 };

typedef struct ac97_entry {
    ULONG tag;
    ULONGLONG pa;     /* of the mapping's first byte */
    ULONG len;        /* bytes of the mapping */
    ULONG off;        /* bytes consumed before the entry was re-pointed by a revoke */
} ac97_entry;

typedef struct ac97_miniport ac97_miniport;

typedef struct ac97_stream {
    IMiniportWavePciStream iface;
    LONG refs;
    ac97_miniport *mp;
    PPORTWAVEPCISTREAM ps;
    PSERVICEGROUP group;
    PDMACHANNEL dma;
    int ch;                   /* AC97_CH_OUT or AC97_CH_IN */
    uintptr_t regs;           /* NABM base + channel base */
    PULONG bdl;               /* 32 descriptors of 2 ULONGs, in the DMA common buffer */
    ULONG bdl_pa;
    ULONG rate, channels;
    KSSTATE state;

    /* Under MapLock: */
    KSPIN_LOCK MapLock;
    ac97_entry ent[KSL_AC97_BDL_ENTRIES];
    ULONG head, count;        /* oldest entry; entries in the ring */
    BOOLEAN filling, refill;      /* one GetMapping loop at a time; another caller asks for a rerun */
    BOOLEAN draining, redrain;    /* one ReleaseMapping loop at a time, likewise */
    BOOLEAN acquiring, acq_revoked; /* GetMapping in progress with the lock dropped; revoked meanwhile */
    ULONG acq_tag;
    ULONG tag_counter;
    int engine;               /* enum ac97_engine */
    BOOLEAN loaded;           /* the engine has run since its last reset: CIV/PICB are meaningful */
    ULONG ioc_bytes;          /* bytes queued since the last descriptor with IOC */
    ULONGLONG bytes_done;     /* bytes released, or consumed before a revoke */
} ac97_stream;

struct ac97_miniport {
    IMiniportWavePci iface;
    IPowerNotify power_iface;   /* the same object's IPowerNotify */
    DEVICE_POWER_STATE power;   /* cached by PowerChangeNotify; D0 from the start */
    LONG refs;
    PPORTWAVEPCI port;
    PINTERRUPTSYNC isync;
    uintptr_t nam, nabm;
    ac97_stream *streams[2];  /* read by the ISR; written under the interrupt sync */
};

/* Stream object (stream.c).  PASSIVE_LEVEL. */
NTSTATUS ac97_stream_create(ac97_miniport *mp, PPORTWAVEPCISTREAM ps, BOOLEAN capture, const WAVEFORMATEX *w,
                            ac97_stream **out);
/* Program the stream's format into the codec again (after a power-up).  PASSIVE_LEVEL. */
void ac97_stream_restore(ac97_stream *s);
/* Is the format one this hardware plays (format.c)?  Any IRQL. */
BOOLEAN ac97_format_ok(const WAVEFORMATEX *w);

extern const ksl_wavepci_driver ksl_ac97_driver;

#endif
