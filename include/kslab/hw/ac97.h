/* SPDX-License-Identifier: MIT */
/*
 * An AC'97 (Intel ICH) audio controller: a minimal codec behind the Native Audio Mixer (NAM)
 * registers and the Native Audio Bus Master (NABM) with the PCM Out and PCM In DMA engines.
 * Register layout and semantics follow the ICH documentation as QEMU and Linux's intel8x0 read it
 * (see ../shared/reference/ac97-bus-master.md in the project's sources); the code is kslab's.
 *
 * Each engine walks a 32-entry buffer descriptor list in simulated physical memory at the stream's
 * rate in virtual time, moving up to KSL_AC97_CHUNK_SAMPLES samples per device event.  PCM Out
 * reads memory at the start of each chunk (the FIFO prefetches) and hands the bytes to a sink;
 * PCM In takes bytes from a source and writes memory at the end of each chunk.  Every DMA access
 * goes through ksl_physmem_dma_read/write, so the port's ledger sees it.
 *
 * Deviations from real hardware, on purpose:
 *  - a write of CR with RPBM=1 while already running does not advance CIV (QEMU's quirk is not
 *    copied);
 *  - the sink receives only the bytes fetched by DMA; the under-run fill (silence or the last
 *    sample repeated, by BUP) is counted in the statistics, not played, so played audio can be
 *    compared bit for bit;
 *  - the capture source is a tape that advances only while the engine transfers: no sample is
 *    dropped while the engine is halted (that time is counted as over-run);
 *  - GLOB_CNT bits 26 and 27 (reserved on the ICH) select 1-channel PCM Out and PCM In.
 */
#ifndef KSLAB_HW_AC97_H
#define KSLAB_HW_AC97_H

#include <kslab/audio.h>
#include <kslab/device.h>
#include <kslab/hw/physmem.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- NAM: codec registers (16-bit), offsets from the NAM base (BAR0) ---------------------- */
#define KSL_AC97_NAM_SIZE 0x100u
#define KSL_AC97_RESET 0x00u            /* R: capabilities; W: reset the codec registers */
#define KSL_AC97_MASTER_VOL 0x02u       /* 5-bit attenuation: a write with bit 5 (13) reads 0x1F (0x1F00) */
#define KSL_AC97_AUX_OUT_VOL 0x04u      /* as MASTER_VOL */
#define KSL_AC97_MONO_VOL 0x06u         /* as MASTER_VOL, one channel */
#define KSL_AC97_PCM_OUT_VOL 0x18u
#define KSL_AC97_RECORD_SELECT 0x1Au
#define KSL_AC97_RECORD_GAIN 0x1Cu
#define KSL_AC97_GENERAL_PURPOSE 0x20u
#define KSL_AC97_3D_CONTROL 0x22u       /* absent: the codec has no 3D (RESET's SE bits are 0) */
#define KSL_AC97_POWERDOWN 0x26u        /* low 4 bits read 1 when the sections are ready (PR0-PR3 off) */
#define KSL_AC97_PD_PR0 0x0100u         /* ADCs off: ADC ready (bit 0) clears */
#define KSL_AC97_PD_PR1 0x0200u         /* DACs off: DAC ready (bit 1) clears */
#define KSL_AC97_PD_PR2 0x0400u         /* analog mixer off: ANL ready (bit 2) clears */
#define KSL_AC97_PD_PR3 0x0800u         /* Vref off too: REF and ANL ready clear */
#define KSL_AC97_EXT_AUDIO_ID 0x28u     /* bit 0: VRA supported; bits 11:10: the specification revision */
#define KSL_AC97_EXT_AUDIO_CTRL 0x2Au   /* bit 0: VRA enabled */
#define KSL_AC97_EXT_VRA 0x0001u
#define KSL_AC97_FRONT_DAC_RATE 0x2Cu   /* PCM Out rate in Hz; writable only with VRA enabled */
#define KSL_AC97_LR_ADC_RATE 0x32u      /* PCM In rate in Hz; writable only with VRA enabled */
#define KSL_AC97_VENDOR_ID1 0x7Cu
#define KSL_AC97_VENDOR_ID2 0x7Eu
#define KSL_AC97_DEFAULT_RATE 48000u
#define KSL_AC97_MIN_RATE 8000u
#define KSL_AC97_MAX_RATE 48000u

/* ---- NABM: bus master registers, offsets from the NABM base (BAR1) ------------------------ */
#define KSL_AC97_NABM_SIZE 0x40u
#define KSL_AC97_PI_BASE 0x00u /* PCM In channel */
#define KSL_AC97_PO_BASE 0x10u /* PCM Out channel */
#define KSL_AC97_MC_BASE 0x20u /* Mic In channel (registers only; no transfers) */

/* Per-channel registers, offsets from the channel base. */
#define KSL_AC97_BDBAR 0x00u /* 32: physical base of the descriptor list (8-byte aligned) */
#define KSL_AC97_CIV 0x04u   /* 8, RO: current index */
#define KSL_AC97_LVI 0x05u   /* 8: last valid index */
#define KSL_AC97_SR 0x06u    /* 16: status */
#define KSL_AC97_PICB 0x08u  /* 16, RO: samples left in the current buffer */
#define KSL_AC97_PIV 0x0Au   /* 8, RO: prefetched index */
#define KSL_AC97_CR 0x0Bu    /* 8: control */

/* SR bits. */
#define KSL_AC97_SR_DCH 0x01u   /* DMA controller halted (RO) */
#define KSL_AC97_SR_CELV 0x02u  /* current equals last valid, and it is done (RO) */
#define KSL_AC97_SR_LVBCI 0x04u /* last valid buffer completion interrupt (write 1 to clear) */
#define KSL_AC97_SR_BCIS 0x08u  /* buffer completion interrupt status (write 1 to clear) */
#define KSL_AC97_SR_FIFOE 0x10u /* FIFO error (write 1 to clear) */
#define KSL_AC97_SR_W1C (KSL_AC97_SR_LVBCI | KSL_AC97_SR_BCIS | KSL_AC97_SR_FIFOE)

/* CR bits. */
#define KSL_AC97_CR_RPBM 0x01u  /* run/pause bus master */
#define KSL_AC97_CR_RR 0x02u    /* reset registers (self-clearing) */
#define KSL_AC97_CR_LVBIE 0x04u /* interrupt on LVBCI */
#define KSL_AC97_CR_FEIE 0x08u  /* interrupt on FIFOE */
#define KSL_AC97_CR_IOCE 0x10u  /* interrupt on BCIS */
#define KSL_AC97_CR_IE_MASK (KSL_AC97_CR_LVBIE | KSL_AC97_CR_FEIE | KSL_AC97_CR_IOCE)

/* Global registers. */
#define KSL_AC97_GLOB_CNT 0x2Cu           /* 32 */
#define KSL_AC97_GLOB_CNT_GIE 0x00000001u
#define KSL_AC97_GLOB_CNT_COLD 0x00000002u /* AC'97 cold reset#, active low: 1 = out of reset */
#define KSL_AC97_GLOB_CNT_WARM 0x00000004u
#define KSL_AC97_GLOB_CNT_PO_MONO 0x04000000u /* kslab: PCM Out carries 1 channel */
#define KSL_AC97_GLOB_CNT_PI_MONO 0x08000000u /* kslab: PCM In carries 1 channel */
#define KSL_AC97_GLOB_STA 0x30u           /* 32 */
#define KSL_AC97_GLOB_STA_PIINT 0x00000020u
#define KSL_AC97_GLOB_STA_POINT 0x00000040u
#define KSL_AC97_GLOB_STA_MINT 0x00000080u
#define KSL_AC97_GLOB_STA_PCR 0x00000100u /* primary codec ready */
#define KSL_AC97_CAS 0x34u                /* 8: codec access semaphore */

/* ---- buffer descriptor list --------------------------------------------------------------- */
#define KSL_AC97_BDL_ENTRIES 32u
#define KSL_AC97_BDL_MASK 31u
#define KSL_AC97_BD_SIZE 8u
/* Dword 1 of a descriptor: length in samples (16-bit words) in bits 15:0, and policy bits. */
#define KSL_AC97_BD_LEN_MASK 0x0000FFFFu
#define KSL_AC97_BD_BUP 0x40000000u /* on under-run after this buffer: repeat the last sample */
#define KSL_AC97_BD_IOC 0x80000000u /* interrupt on completion */

/* ---- timing ------------------------------------------------------------------------------- */
#define KSL_AC97_ACCESS_NS 300u     /* one register access on the PCI bus */
#define KSL_AC97_CHUNK_SAMPLES 256u /* samples moved per device event */
#define KSL_AC97_RESET_NS 2000u     /* CR.RR reads 1 this long after it is written */
#define KSL_AC97_STALL_NS 100000u   /* an injected under-run or over-run stalls the transfer this long */

/* ---- the model ---------------------------------------------------------------------------- */

typedef struct ksl_ac97_stats {
    uint64_t bytes_played;      /* fetched by PCM Out and handed to the sink */
    uint64_t bytes_captured;    /* written by PCM In */
    uint64_t fill_samples;      /* under-run fill output while PCM Out was halted in RUN */
    uint64_t overrun_ns;        /* time PCM In spent halted in RUN */
    uint64_t buffers_completed; /* descriptors finished, both channels */
    uint64_t interrupts;        /* rising edges of the interrupt line */
    uint64_t dma_errors;        /* DMA accesses refused or unmapped (each also a finding) */
} ksl_ac97_stats;

typedef struct ksl_ac97 ksl_ac97;

/*
 * Create the controller and attach it to `e`: NAM at [nam_base, +KSL_AC97_NAM_SIZE), NABM at
 * [nabm_base, +KSL_AC97_NABM_SIZE), driving interrupt line `line`.  DMA goes through `pm`.
 * `sink` and `source` may be NULL (bytes are then discarded / zeros).  NULL with `err` filled
 * when a range is taken or memory is short.  Host code, outside a run.
 */
ksl_ac97 *ksl_ac97_create(ksl_engine *e, ksl_physmem *pm, uintptr_t nam_base, uintptr_t nabm_base, uint32_t line,
                          const ksl_pcm_sink *sink, const ksl_pcm_source *source, char *err, size_t errlen);
/* Free the model (after the engine's run).  Host code. */
void ksl_ac97_destroy(ksl_ac97 *d);
/*
 * Faults the model can show (<kslab/device.h>'s inject hook), in device context.  Each leaves the
 * audio data intact; what changes is what the driver sees and when:
 *   "fifo-error"       SR.FIFOE on every running channel (an interrupt when CR.FEIE is set).
 *   "underrun"         PCM Out's FIFO runs empty: its transfer stalls for `arg` µs (0: 100) and
 *                      SR.FIFOE is set.
 *   "overrun"          the same on PCM In (its FIFO fills while the bus is busy).
 *   "lost-interrupt"   the next buffer completion that would raise the line (IOC, and not the
 *                      last valid buffer) sets its status bits but leaves the line low until the
 *                      following completion, a status bit it did not have, or software writes
 *                      SR or CR.
 *   "stuck-reset"      from now on CR.RR never clears itself after a reset (the reset still
 *                      happens): a driver that polls it must give up after a bounded time.
 *   "busmaster-error"  every running channel halts mid-buffer as after a failed PCI transfer:
 *                      SR.DCH and SR.FIFOE set, RPBM still 1, the position kept.  An LVI write
 *                      does not revive it; clearing and setting RPBM again resumes the transfer
 *                      where it stopped.
 * The fault injector of the jobs adds "spurious-interrupt" and "interrupt-storm" to every model
 * with an interrupt.  false for a fault it does not know.
 */
bool ksl_ac97_inject(ksl_ac97 *d, const char *fault, uint64_t arg);
/* Counters.  Host code while the engine still exists (a starvation still going on counts up to
 * the engine's time), or device code of this model. */
void ksl_ac97_get_stats(const ksl_ac97 *d, ksl_ac97_stats *out);
/* The codec's 16-bit register at even offset `reg` of the NAM (0 beyond the codec's registers),
 * as a read would return it, without the read's side effects.  Host code, or any IRQL. */
uint16_t ksl_ac97_codec_register(const ksl_ac97 *d, uint32_t reg);

#ifdef __cplusplus
}
#endif
#endif
