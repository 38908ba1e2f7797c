/* SPDX-License-Identifier: MIT */
/*
 * Simulated physical memory.  Each block is host memory aligned to a page, so a block's virtual
 * page i is host page i; its physical page i is whatever frame the allocator picked.  Frames are
 * picked first-fit (contiguous requests, or every request when not scattering) or at random from
 * a seeded generator (scattered requests), so the layout is a function of the seed and the order
 * of requests: deterministic.
 *
 * A mutex guards the metadata: with the threaded engine, a client thread may allocate while a
 * device callback translates an address on another host thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <kslab/hw/physmem.h>

typedef struct block {
    uint8_t *host;       /* page-aligned host memory, npages pages */
    uint32_t npages;
    uint32_t first_offset;
    size_t bytes;
    uint64_t owner;
    uint32_t *frames;    /* frame index of each page */
    bool used;
} block;

typedef struct frame {
    int32_t block;  /* -1 when free */
    uint32_t page;  /* page index within the block */
} frame;

struct ksl_physmem {
    pthread_mutex_t mu;
    frame *frames;
    uint32_t nframes, used_frames, cursor;
    block *blocks;
    uint32_t nblocks, cap_blocks;
    bool scatter;
    uint64_t rng;
    ksl_dma_observer *observer;
    void *observer_ctx;
};

static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

ksl_physmem *ksl_physmem_create(size_t max_bytes, bool scatter, uint64_t seed)
{
    ksl_physmem *pm = calloc(1, sizeof *pm);
    if (!pm)
        return NULL;
    size_t n = (max_bytes + KSL_PAGE_SIZE - 1) / KSL_PAGE_SIZE;
    if (n == 0 || n > (UINT32_MAX - KSL_PHYSMEM_BASE) / KSL_PAGE_SIZE) {
        free(pm);
        return NULL;
    }
    pm->frames = malloc(n * sizeof *pm->frames);
    if (!pm->frames) {
        free(pm);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        pm->frames[i] = (frame){-1, 0};
    pm->nframes = (uint32_t)n;
    pm->scatter = scatter;
    pm->rng = seed ^ 0x5048594Du; /* "PHYM" */
    pthread_mutex_init(&pm->mu, NULL);
    return pm;
}

static void block_release(ksl_physmem *pm, block *b)
{
    for (uint32_t i = 0; i < b->npages; i++)
        pm->frames[b->frames[i]].block = -1;
    pm->used_frames -= b->npages;
    free(b->frames);
    free(b->host);
    memset(b, 0, sizeof *b);
}

void ksl_physmem_destroy(ksl_physmem *pm)
{
    if (!pm)
        return;
    for (uint32_t i = 0; i < pm->nblocks; i++)
        if (pm->blocks[i].used)
            block_release(pm, &pm->blocks[i]);
    pthread_mutex_destroy(&pm->mu);
    free(pm->blocks);
    free(pm->frames);
    free(pm);
}

void ksl_physmem_set_observer(ksl_physmem *pm, ksl_dma_observer *fn, void *ctx)
{
    pthread_mutex_lock(&pm->mu);
    pm->observer = fn;
    pm->observer_ctx = ctx;
    pthread_mutex_unlock(&pm->mu);
}

/* First run of n free frames from the cursor on, wrapping; -1 if none. */
static int64_t find_run(const ksl_physmem *pm, uint32_t n)
{
    for (uint32_t tried = 0, start = pm->cursor; tried < pm->nframes;) {
        if (start + n > pm->nframes) {
            tried += pm->nframes - start;
            start = 0;
            continue;
        }
        uint32_t k = 0;
        while (k < n && pm->frames[start + k].block < 0)
            k++;
        if (k == n)
            return start;
        tried += k + 1;
        start += k + 1;
        if (start >= pm->nframes)
            start = 0;
    }
    return -1;
}

static int32_t new_block_slot(ksl_physmem *pm)
{
    for (uint32_t i = 0; i < pm->nblocks; i++)
        if (!pm->blocks[i].used)
            return (int32_t)i;
    if (pm->nblocks == pm->cap_blocks) {
        uint32_t cap = pm->cap_blocks ? pm->cap_blocks * 2 : 16;
        block *nb = realloc(pm->blocks, cap * sizeof *nb);
        if (!nb)
            return -1;
        pm->blocks = nb;
        pm->cap_blocks = cap;
    }
    memset(&pm->blocks[pm->nblocks], 0, sizeof *pm->blocks);
    return (int32_t)pm->nblocks++;
}

void *ksl_physmem_alloc(ksl_physmem *pm, size_t bytes, uint32_t first_offset, bool contiguous, uint64_t owner)
{
    if (bytes == 0 || first_offset >= KSL_PAGE_SIZE || bytes > (size_t)pm->nframes * KSL_PAGE_SIZE)
        return NULL;
    size_t np = (first_offset + bytes + KSL_PAGE_SIZE - 1) / KSL_PAGE_SIZE;
    pthread_mutex_lock(&pm->mu);
    void *ret = NULL;
    if (np > pm->nframes - pm->used_frames)
        goto out;
    int32_t bi = new_block_slot(pm);
    if (bi < 0)
        goto out;
    block *b = &pm->blocks[bi];
    b->frames = malloc(np * sizeof *b->frames);
    b->host = aligned_alloc(KSL_PAGE_SIZE, np * KSL_PAGE_SIZE);
    if (!b->frames || !b->host) {
        free(b->frames);
        free(b->host);
        memset(b, 0, sizeof *b);
        goto out;
    }
    memset(b->host, 0, np * KSL_PAGE_SIZE);
    if (contiguous || !pm->scatter) {
        int64_t start = find_run(pm, (uint32_t)np);
        if (start < 0) {
            free(b->frames);
            free(b->host);
            memset(b, 0, sizeof *b);
            goto out;
        }
        for (uint32_t i = 0; i < np; i++)
            b->frames[i] = (uint32_t)start + i;
        pm->cursor = (uint32_t)((start + (int64_t)np) % pm->nframes);
    } else {
        for (uint32_t i = 0; i < np; i++) {
            uint32_t f = (uint32_t)(next_random(&pm->rng) % pm->nframes);
            while (pm->frames[f].block >= 0) /* a free frame exists: np <= free count */
                f = (f + 1) % pm->nframes;
            b->frames[i] = f;
            pm->frames[f].block = bi; /* claim now so the next page picks another */
        }
    }
    for (uint32_t i = 0; i < np; i++)
        pm->frames[b->frames[i]] = (frame){bi, i};
    pm->used_frames += (uint32_t)np;
    b->npages = (uint32_t)np;
    b->first_offset = first_offset;
    b->bytes = bytes;
    b->owner = owner;
    b->used = true;
    ret = b->host + first_offset;
out:
    pthread_mutex_unlock(&pm->mu);
    return ret;
}

/* The block holding va and the byte offset of va from its host base; NULL if none. */
static block *block_of(const ksl_physmem *pm, const void *va, size_t *host_off)
{
    const uint8_t *p = va;
    for (uint32_t i = 0; i < pm->nblocks; i++) {
        block *b = &pm->blocks[i];
        if (!b->used || p < b->host + b->first_offset || p >= b->host + b->first_offset + b->bytes)
            continue;
        *host_off = (size_t)(p - b->host);
        return b;
    }
    return NULL;
}

void ksl_physmem_free(ksl_physmem *pm, void *va)
{
    if (!va)
        return;
    pthread_mutex_lock(&pm->mu);
    size_t off;
    block *b = block_of(pm, va, &off);
    if (b && off == b->first_offset)
        block_release(pm, b);
    pthread_mutex_unlock(&pm->mu);
}

static uint64_t frame_pa(uint32_t f)
{
    return KSL_PHYSMEM_BASE + (uint64_t)f * KSL_PAGE_SIZE;
}

uint64_t ksl_physmem_pa(const ksl_physmem *pm, const void *va)
{
    pthread_mutex_lock((pthread_mutex_t *)&pm->mu);
    size_t off;
    const block *b = block_of(pm, va, &off);
    uint64_t pa = b ? frame_pa(b->frames[off / KSL_PAGE_SIZE]) + off % KSL_PAGE_SIZE : 0;
    pthread_mutex_unlock((pthread_mutex_t *)&pm->mu);
    return pa;
}

size_t ksl_physmem_contiguous(const ksl_physmem *pm, const void *va)
{
    pthread_mutex_lock((pthread_mutex_t *)&pm->mu);
    size_t off, n = 0;
    const block *b = block_of(pm, va, &off);
    if (b) {
        size_t end = b->first_offset + b->bytes;
        uint32_t pg = (uint32_t)(off / KSL_PAGE_SIZE);
        size_t run_end = ((size_t)pg + 1) * KSL_PAGE_SIZE;
        while (run_end < end && b->frames[pg + 1] == b->frames[pg] + 1) {
            pg++;
            run_end += KSL_PAGE_SIZE;
        }
        n = (run_end < end ? run_end : end) - off;
    }
    pthread_mutex_unlock((pthread_mutex_t *)&pm->mu);
    return n;
}

/* The block byte range [pa, pa+len) falls in, if it is one physically contiguous mapped run of
 * one block: sets *b and the host offset.  Caller holds the mutex. */
static bool resolve(const ksl_physmem *pm, uint64_t pa, uint32_t len, block **out, size_t *host_off)
{
    if (pa < KSL_PHYSMEM_BASE || len == 0)
        return false;
    uint64_t f0 = (pa - KSL_PHYSMEM_BASE) / KSL_PAGE_SIZE;
    uint64_t f1 = (pa + len - 1 - KSL_PHYSMEM_BASE) / KSL_PAGE_SIZE;
    if (f1 >= pm->nframes)
        return false;
    const frame *first = &pm->frames[f0];
    if (first->block < 0)
        return false;
    block *b = &pm->blocks[first->block];
    for (uint64_t f = f0 + 1; f <= f1; f++) {
        const frame *fr = &pm->frames[f];
        if (fr->block != first->block || fr->page != first->page + (f - f0))
            return false;
    }
    size_t off = (size_t)first->page * KSL_PAGE_SIZE + (size_t)((pa - KSL_PHYSMEM_BASE) % KSL_PAGE_SIZE);
    if (off < b->first_offset || off + len > b->first_offset + b->bytes)
        return false;
    *out = b;
    *host_off = off;
    return true;
}

void *ksl_physmem_va(const ksl_physmem *pm, uint64_t pa, uint32_t len)
{
    pthread_mutex_lock((pthread_mutex_t *)&pm->mu);
    block *b;
    size_t off;
    void *va = resolve(pm, pa, len, &b, &off) ? b->host + off : NULL;
    pthread_mutex_unlock((pthread_mutex_t *)&pm->mu);
    return va;
}

/* Split [pa, pa+len) into per-page pieces, check every piece, then copy. */
static int dma(ksl_physmem *pm, uint64_t pa, uint8_t *dev, uint32_t len, ksl_dma_dir dir)
{
    pthread_mutex_lock(&pm->mu);
    ksl_dma_observer *obs = pm->observer;
    void *obs_ctx = pm->observer_ctx;
    int rc = 0;
    int passes = dir == KSL_DMA_PROBE ? 1 : 2; /* a probe only asks */
    for (int pass = 0; pass < passes && rc == 0; pass++) {
        uint64_t p = pa;
        uint32_t left = len, done = 0;
        while (left > 0) {
            uint32_t in_page = KSL_PAGE_SIZE - (uint32_t)((p - KSL_PHYSMEM_BASE) % KSL_PAGE_SIZE);
            uint32_t n = left < in_page ? left : in_page;
            block *b;
            size_t off;
            if (p < KSL_PHYSMEM_BASE || !resolve(pm, p, n, &b, &off)) {
                rc = -1;
                break;
            }
            if (pass == 0) {
                if (obs && !obs(obs_ctx, b->owner, off - b->first_offset, n, dir)) {
                    rc = -2;
                    break;
                }
            } else if (dir == KSL_DMA_TO_DEVICE) {
                memcpy(dev + done, b->host + off, n);
            } else {
                memcpy(b->host + off, dev + done, n);
            }
            p += n;
            done += n;
            left -= n;
        }
    }
    pthread_mutex_unlock(&pm->mu);
    return rc;
}

int ksl_physmem_dma_probe(ksl_physmem *pm, uint64_t pa, uint32_t len)
{
    return dma(pm, pa, NULL, len, KSL_DMA_PROBE);
}

int ksl_physmem_dma_read(ksl_physmem *pm, uint64_t pa, void *dst, uint32_t len)
{
    return dma(pm, pa, dst, len, KSL_DMA_TO_DEVICE);
}

int ksl_physmem_dma_write(ksl_physmem *pm, uint64_t pa, const void *src, uint32_t len)
{
    return dma(pm, pa, (uint8_t *)(uintptr_t)src, len, KSL_DMA_FROM_DEVICE);
}

void ksl_physmem_usage(const ksl_physmem *pm, size_t *pages_used, size_t *pages_total)
{
    pthread_mutex_lock((pthread_mutex_t *)&pm->mu);
    if (pages_used)
        *pages_used = pm->used_frames;
    if (pages_total)
        *pages_total = pm->nframes;
    pthread_mutex_unlock((pthread_mutex_t *)&pm->mu);
}
