/* SPDX-License-Identifier: MIT */
/*
 * The AC'97 (Intel ICH) controller model's insides (see <kslab/hw/ac97.h>), shared by its files,
 * one concern each; each file calls only the ones below it in this list:
 *   ac97_codec.c      the codec's register file behind NAM (reset, rates, VRA, ids)
 *   ac97_irq.c        interrupt status: which channel has an enabled interrupt pending, the line
 *                     level, GLOB_STA
 *   ac97_lockset.c    rule W2: the lockset over each channel's queue registers
 *   ac97_busmaster.c  the PCM In / PCM Out DMA engines walking their descriptor lists in time
 *   ac97_regs.c       NABM register decoding: reads, writes and their side effects
 *   ac97.c            life cycle, statistics, the device model
 *
 * Time.  A running channel always has one chunk in flight and one device event pending: the end
 * of that chunk.  Chunk ends are derived from a base time and a count of 16-bit words moved since
 * it (end = base + words * 1e9 / words_per_second), so no rounding accumulates; the base moves
 * forward by exactly one second whenever a second's worth of words has been counted, and is reset
 * only when the channel (re)starts or its rate changes.  A pause keeps the chunk in flight and
 * the time it still needs, so the transfer resumes exactly where it stopped.
 *
 * A channel halted with RPBM=1 (end of the list, nothing new, or a DMA error) is "starved": PCM
 * Out accumulates under-run fill, PCM In over-run time, both computed from the interval when the
 * starvation ends or the statistics are read.
 */
#ifndef KSLAB_HW_AC97_CHIP_H
#define KSLAB_HW_AC97_CHIP_H

#include <kslab/engine.h>
#include <kslab/hw/ac97.h>

#define NS_PER_S 1000000000ull
#define SAMPLE_BYTES 2u                     /* one sample: a 16-bit word */
#define CHUNK_BYTES (KSL_AC97_CHUNK_SAMPLES * SAMPLE_BYTES)

/* The primary codec answers NAM [0x00, 0x80); no secondary codec is present (reads 0). */
#define CODEC_SPAN 0x80u
#define CODEC_RESET_CAPS 0x0000u  /* RESET reads: 16-bit DAC and ADC, no tone, bass boost or 3D */
#define CODEC_POWERDOWN_READY 0x000Fu /* ADC, DAC, analog mixer and Vref ready */
#define CODEC_VENDOR1 0x8384u     /* SigmaTel */
#define CODEC_VENDOR2 0x7600u     /* STAC9700 */
#define CODEC_EXT_AUDIO_ID 0x0801u /* VRA; REV1:0 = 10b, AC'97 2.3 */

enum { CH_PI = 0, CH_PO = 1, CH_MC = 2, NCHANNELS = 3 };

/* A little-endian dword of a descriptor in memory. */
static inline uint32_t ksl__ac97_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A channel's name for messages: "PCM In", "PCM Out", "Mic In". */
static inline const char *ksl__ac97_channel_name(unsigned ch)
{
    return ch == CH_PI ? "PCM In" : ch == CH_PO ? "PCM Out" : "Mic In";
}

typedef struct ac97_chan {
    unsigned index; /* CH_PI, CH_PO, CH_MC */
    /* Registers. */
    uint32_t bdbar;
    uint8_t civ, lvi, piv, cr;
    uint16_t sr, picb;
    uint64_t rr_until;       /* CR.RR reads 1 before this time */
    /* The loaded descriptor. */
    bool loaded;
    uint32_t bd_addr;        /* the next byte to move */
    uint32_t bd_ctl;         /* dword 1: IOC, BUP, length */
    bool bup;                /* the last completed buffer's under-run policy (fill repeats) */
    /* The transfer. */
    uint32_t chunk;          /* samples in flight (0: none) */
    bool scheduled;          /* the end of the chunk is a pending device event */
    uint64_t chunk_end;      /* when the chunk in flight ends */
    uint64_t remain;         /* paused mid-chunk: time the chunk still needs */
    uint32_t wps;            /* words per second of the clock below; 0: restart it */
    uint64_t clock_ns;       /* chunk ends are clock_ns + clock_words * 1e9 / wps */
    uint64_t clock_words;
    bool starved;            /* halted with RPBM=1 */
    uint64_t starved_since;
    /* The driver's latest write to BDBAR, LVI or CR: what a finding in a later DMA transfer is
     * placed at (ksl_report_cause). */
    const char *prog_file;
    int prog_line;
} ac97_chan;

/* Rule W2: Eraser's lockset over one channel's queue registers (BDBAR, LVI, CR).  The first
 * writer owns them exclusively; from the first write by another context on, the candidate set
 * is the intersection of the spin locks each writer held.  Empty means two contexts can modify
 * the hardware queue at once. */
#define LOCKSET_MAX 8
typedef struct queue_lockset {
    int state;                      /* 0 never written, 1 one writer so far, 2 shared */
    uint64_t epoch;                 /* ksl_quiesce_epoch() at the last write */
    char owner[64];                 /* the exclusive writer's context name */
    const ksl_spinlock *locks[LOCKSET_MAX];
    uint32_t n;
    bool reported;
    /* Writes for the report: the latest one (`cur`), and the latest one by another context than
     * the latest's (`other`): context, the locks it held, the driver's line. */
    struct queue_write {
        char ctx[64];
        char locks[160];
        const char *file;
        int line;
    } cur, other;
} queue_lockset;

struct ksl_ac97 {
    ksl_engine *e;
    queue_lockset ls[NCHANNELS];
    ksl_physmem *pm;
    ksl_device *nam, *nabm;
    uint32_t line;
    bool irq;                /* the level we drive */
    ksl_pcm_sink sink;
    ksl_pcm_source source;
    bool has_sink, has_source;
    uint16_t codec[CODEC_SPAN / 2];
    uint32_t glob_cnt;
    uint8_t cas;
    ac97_chan ch[NCHANNELS];
    /* Injected faults (ksl_ac97_inject). */
    bool lose_next;          /* lose the next completion's interrupt */
    bool losing;             /* the line is held low until the next completion or a new cause */
    uint16_t lost_sr[NCHANNELS]; /* the status bits set when the interrupt was lost */
    bool reset_stuck;        /* CR.RR no longer clears itself */
    ksl_ac97_stats st;
    uint8_t buf[CHUNK_BYTES];
};

/* ---- ac97_codec.c ------------------------------------------------------------------------- */

/* Every codec register to its reset value. */
void ksl__ac97_codec_reset(ksl_ac97 *d);
/* The value of the 16-bit codec register at even offset `reg`. */
uint16_t ksl__ac97_codec_read(const ksl_ac97 *d, uint32_t reg);
/* The NAM range's register accesses (ksl_device_ops). */
uint32_t ksl__ac97_nam_read(void *dev, uint32_t off, unsigned width, uint64_t now);
void ksl__ac97_nam_write(void *dev, uint32_t off, unsigned width, uint32_t value, uint64_t now);

/* ---- ac97_irq.c --------------------------------------------------------------------------- */

/* The channel has an enabled interrupt pending. */
bool ksl__ac97_chan_pending(const ac97_chan *ch);
/* Drive the line to the OR over channels; count rising edges. */
void ksl__ac97_update_irq(ksl_ac97 *d);
/* GLOB_STA: codec ready and the channels' interrupt bits. */
uint32_t ksl__ac97_glob_sta(const ksl_ac97 *d);

/* ---- ac97_lockset.c ----------------------------------------------------------------------- */

/* A driver writes queue register `reg` of channel `ch` (from a CPU: the writer's locks are known):
 * W2.hw-queue-unlocked when the writers of that channel's queue share no lock. */
void ksl__ac97_lockset_write(ksl_ac97 *d, unsigned ch, const char *reg);
/* Rule W5 at the write (ac97_ring.c), before the write takes effect: every descriptor it lets the
 * bus master fetch points at memory it may use.  _lvi: LVI written with `lvi` while RPBM is set
 * (the descriptors after CIV up to it); _start: RPBM about to go 0 -> 1 (from CIV, or the one
 * after a finished CIV, up to LVI).  On the writer's CPU. */
void ksl__ac97_ring_check_lvi(ksl_ac97 *d, const ac97_chan *ch, uint8_t lvi);
void ksl__ac97_ring_check_start(ksl_ac97 *d, const ac97_chan *ch);

/* ---- ac97_busmaster.c --------------------------------------------------------------------- */

/* Words per second the channel moves at: its codec rate times its channel count. */
uint32_t ksl__ac97_chan_wps(const ksl_ac97 *d, const ac97_chan *ch);
/* Words a stream of `wps` words per second moves in `ns`. */
uint64_t ksl__ac97_words_in(uint64_t ns, uint32_t wps);
/* A write of CR / LVI with its effects on the engine. */
void ksl__ac97_cr_write(ksl_ac97 *d, ac97_chan *ch, uint8_t v, uint64_t now);
void ksl__ac97_lvi_write(ksl_ac97 *d, ac97_chan *ch, uint8_t v, uint64_t now);
/* Injected faults: the channel's transfer stalls `ns` (FIFOE set); the running channel halts
 * mid-buffer, keeping its position (FIFOE and DCH set). */
void ksl__ac97_stall(ksl_ac97 *d, ac97_chan *ch, uint64_t ns);
void ksl__ac97_bus_error(ksl_ac97 *d, ac97_chan *ch, uint64_t now);
/* The NABM range's device event: the chunk in flight of channel cookie - 1 ends. */
void ksl__ac97_nabm_event(void *dev, uint64_t cookie, uint64_t now);

/* ---- ac97_regs.c -------------------------------------------------------------------------- */

/* The NABM range's register accesses (ksl_device_ops). */
uint32_t ksl__ac97_nabm_read(void *dev, uint32_t off, unsigned width, uint64_t now);
void ksl__ac97_nabm_write(void *dev, uint32_t off, unsigned width, uint32_t value, uint64_t now);

#endif
