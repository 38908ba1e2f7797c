/* SPDX-License-Identifier: MIT */
/*
 * Rule W5 at the register write (see ac97_chip.h): the descriptor ring as the driver programs it
 * must match the mappings it holds.  At a write that lets the bus master fetch more — LVI moved
 * while RPBM is set, or RPBM 0 -> 1 — every descriptor the write lets the engine fetch (after the
 * one it is playing for an LVI write; from CIV, whose transfer goes on or starts now, for the
 * start; up to LVI) must point at memory it may move
 * data from or into now: a mapping the miniport holds (not released, not revoked), or its own
 * common buffer.  A dead entry is reported at that write, the driver's line, even when this run
 * never gets to fetch it, and before the write takes effect, so before any DMA the write causes
 * (W5.ring-exposes-dead-mapping; the run goes on).  A ring rebuilt while
 * the engine is stopped is not looked at until the write that starts it.
 */
#include <inttypes.h>
#include <stdio.h>

#include "ac97_chip.h"

/* The descriptors [first, last] (ring order) the bus master is about to be allowed to fetch. */
static void check_range(ksl_ac97 *d, const ac97_chan *ch, unsigned first, unsigned last, const char *reg)
{
    for (unsigned i = first;; i = (i + 1u) & KSL_AC97_BDL_MASK) {
        uint8_t bd[KSL_AC97_BD_SIZE];
        uint64_t pa = (uint64_t)ch->bdbar + (uint64_t)i * KSL_AC97_BD_SIZE;
        if (ksl_physmem_dma_read(d->pm, pa, bd, sizeof bd) != 0)
            return; /* the fetch itself will report the list's address */
        uint32_t addr = ksl__ac97_le32(bd) & ~1u;
        uint32_t bytes = (ksl__ac97_le32(bd + 4) & KSL_AC97_BD_LEN_MASK) * 2u;
        int rc = bytes ? ksl_physmem_dma_probe(d->pm, addr, bytes) : 0;
        if (rc != 0) {
            const char *file;
            int line;
            ksl_device_access_site(&file, &line);
            ksl_report_continue("W5.ring-exposes-dead-mapping", file, line,
                                "the %s write lets the %s bus master fetch descriptor %u (LVI %u, CIV %u), whose "
                                "%" PRIu32 " bytes at physical 0x%08" PRIx32 " are %s: remove a released or "
                                "revoked mapping from the ring before the engine can reach it",
                                reg, ksl__ac97_channel_name(ch->index), i, last, (unsigned)ch->civ,
                                bytes, addr,
                                rc == -1 ? "no memory at all" : "no longer a mapping the miniport holds");
            return; /* one finding per write */
        }
        if (i == last)
            return;
    }
}

void ksl__ac97_ring_check_lvi(ksl_ac97 *d, const ac97_chan *ch, uint8_t lvi)
{
    lvi &= KSL_AC97_BDL_MASK;
    if (ch->index == CH_MC || !(ch->cr & KSL_AC97_CR_RPBM) || lvi == ch->civ)
        return; /* stopped (looked at when started), or the list ends where the engine is */
    check_range(d, ch, (ch->civ + 1u) & KSL_AC97_BDL_MASK, lvi, "LVI");
}

void ksl__ac97_ring_check_start(ksl_ac97 *d, const ac97_chan *ch)
{
    if (ch->index == CH_MC || (ch->cr & KSL_AC97_CR_RPBM))
        return;
    unsigned first = ch->civ; /* the loaded descriptor goes on, or CIV is fetched now */
    if (!ch->loaded && (ch->sr & KSL_AC97_SR_CELV)) { /* done with CIV: the next one, if any */
        if (ch->civ == ch->lvi)
            return;
        first = (ch->civ + 1u) & KSL_AC97_BDL_MASK;
    }
    check_range(d, ch, first, ch->lvi, "CR (RPBM)");
}
