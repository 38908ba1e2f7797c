/* SPDX-License-Identifier: MIT */
/*
 * The ownership ledger: for every mapping at every instant, who owns it (the port's queue, the
 * miniport, nobody after release or revoke), and how far the device has moved its bytes.  The
 * device's DMA reaches memory only through the physical-memory observer below, so a transfer
 * from or into a mapping the miniport does not hold is refused and reported (rule W5), and a
 * transfer that is not the next byte of its mapping, which would repeat or skip audio, too (W4).
 */
#include <inttypes.h>
#include <stdlib.h>

#include <kslab/engine.h>

#include "port.h"

void ksl__pcl_ledger_init(pcl_ledger *l)
{
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
}

void ksl__pcl_ledger_destroy(pcl_ledger *l)
{
    pthread_mutex_destroy(&l->mu);
    free(l->by_id);
    l->by_id = NULL;
}

int ksl__pcl_ledger_add(pcl_ledger *l, pcl_irp *p)
{
    pthread_mutex_lock(&l->mu);
    int rc = 0;
    if (l->nids == l->cap) {
        uint64_t cap = l->cap ? l->cap * 2 : 64;
        pcl_irp **n = realloc(l->by_id, cap * sizeof *n);
        if (!n) {
            rc = -1;
            goto out;
        }
        l->by_id = n;
        l->cap = cap;
    }
    l->by_id[l->nids++] = p;
    p->id = l->nids;
out:
    pthread_mutex_unlock(&l->mu);
    return rc;
}

void ksl__pcl_ledger_remove(pcl_ledger *l, pcl_irp *p)
{
    pthread_mutex_lock(&l->mu);
    if (p->id && p->id <= l->nids)
        l->by_id[p->id - 1] = NULL;
    pthread_mutex_unlock(&l->mu);
}

const char *ksl__pcl_map_state_name(int state)
{
    static const char *const names[] = {"queued", "held by the miniport", "released", "revoked",
                                        "never handed out (its IRP ended first)"};
    return state >= 0 && state <= MAP_DROPPED ? names[state] : "?";
}

void ksl__pcl_ledger_set(pcl_ledger *l, pcl_mapping *m, pcl_map_state state)
{
    pthread_mutex_lock(&l->mu);
    m->state = (uint8_t)state;
    switch (state) {
    case MAP_HELD:
        l->st.mappings_handed++;
        break;
    case MAP_RELEASED:
        l->st.mappings_released++;
        m->expect_release = 0;
        break;
    case MAP_REVOKED:
        l->st.mappings_revoked++;
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&l->mu);
}

/* A use of mapping m after the miniport lost it: the race's other side is who ended it. */
static void name_other_side(const pcl_mapping *m)
{
    if (!m->gone_file)
        return;
    ksl_report_involves(m->gone_by);
    ksl_report_racing(m->gone_by, m->gone_file, m->gone_line);
}

bool ksl__pcl_ledger_observe(void *ctx, uint64_t owner, size_t offset, uint32_t len, ksl_dma_dir dir)
{
    pcl_ledger *l = ctx;
    if (owner == 0)
        return true; /* a common buffer (the descriptor list): the driver's own memory */
    pthread_mutex_lock(&l->mu);
    bool ok = false;
    pcl_irp *p = owner <= l->nids ? l->by_id[owner - 1] : NULL;
    if (dir == KSL_DMA_PROBE) { /* live: held by the miniport, not revoked out of the count */
        if (p) {
            uint32_t pidx = (uint32_t)((offset + p->s->f->buffer_offset) / KSL_PAGE_SIZE);
            ok = pidx < p->nmaps && p->maps[pidx].state == MAP_HELD && !p->maps[pidx].expect_release;
            if (!ok && pidx < p->nmaps)
                name_other_side(&p->maps[pidx]); /* the prober reports it at once */
        }
        goto out;
    }
    if (!p) {
        ksl_report("W5.dma-unowned-mapping", NULL, 0, "device DMA into the buffer of a freed IRP (#%" PRIu64 ")", owner);
        goto out;
    }
    uint32_t first_off = p->s->f->buffer_offset;
    uint32_t idx = (uint32_t)((offset + first_off) / KSL_PAGE_SIZE);
    pcl_mapping *m = &p->maps[idx];
    uint32_t at = (uint32_t)offset - m->offset;
    const char *verb = dir == KSL_DMA_TO_DEVICE ? "read" : "write";
    if (m->state != MAP_HELD) {
        const char *rule = m->state == MAP_RELEASED  ? "W5.dma-after-release"
                           : m->state == MAP_REVOKED ? "W5.dma-after-revoke"
                                                     : "W5.dma-unowned-mapping";
        name_other_side(m);
        ksl_report(rule, NULL, 0,
                   "device DMA %s of %u bytes at byte %u of mapping %u of IRP #%" PRIu64 " (tag %p), which is %s",
                   verb, len, at, idx, p->id, m->tag, ksl__pcl_map_state_name(m->state));
        goto out;
    }
    if (m->expect_release) {
        name_other_side(m);
        ksl_report("W5.dma-after-revoke", NULL, 0,
                   "device DMA %s at byte %u of mapping tag %p of cancelled IRP #%" PRIu64
                   ", which RevokeMappings left out of its count as already off the hardware queue",
                   verb, at, m->tag, p->id);
        goto out;
    }
    if (at != m->dma_bytes) {
        ksl_report("W4.data-mismatch", NULL, 0,
                   "device DMA %s at byte %u of mapping tag %p (IRP #%" PRIu64 ", %u bytes) but %u bytes were "
                   "already moved: audio would be %s",
                   verb, at, m->tag, p->id, m->len, m->dma_bytes, at < m->dma_bytes ? "repeated" : "skipped");
        goto out;
    }
    m->dma_bytes += len;
    l->st.bytes_transferred += len;
    ok = true;
out:
    pthread_mutex_unlock(&l->mu);
    return ok;
}
