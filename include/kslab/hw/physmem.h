/* SPDX-License-Identifier: MIT */
/*
 * Simulated physical memory: 4 KiB pages whose physical addresses are synthetic (a 32-bit bus
 * space, unrelated to the host addresses drivers see as virtual ones), optionally scattered so
 * that adjacent virtual pages are not physically adjacent.  IRP data buffers and DMA common
 * buffers live here; device models reach memory only through ksl_physmem_dma_read/write, which
 * first ask an observer (the port's mapping ledger) whether the access is allowed.
 *
 * All functions are host code or device code: not scheduling points, never called with a
 * virtual CPU's locks in mind.  The deterministic engine runs one context at a time; the
 * threaded engine calls them under the device's lock (device callbacks) or before/after a run.
 */
#ifndef KSLAB_HW_PHYSMEM_H
#define KSLAB_HW_PHYSMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KSL_PAGE_SIZE 4096u
#define KSL_PAGE_SHIFT 12u
/* Lowest physical address handed out (so that 0 is never a valid one). */
#define KSL_PHYSMEM_BASE 0x01000000u

typedef struct ksl_physmem ksl_physmem;

typedef enum ksl_dma_dir {
    KSL_DMA_TO_DEVICE = 0,   /* the device reads memory (playback) */
    KSL_DMA_FROM_DEVICE = 1, /* the device writes memory (capture) */
    KSL_DMA_PROBE = 2,       /* would the device be allowed to (ksl_physmem_dma_probe)?  The observer
                              * answers; nothing moves, nothing is reported */
} ksl_dma_dir;

/*
 * Asked before every DMA access.  `owner` is the cookie given at allocation, `offset` the offset
 * of the first byte within that allocation.  Return false to refuse: the access is not performed
 * (the observer reports why).
 */
typedef bool ksl_dma_observer(void *ctx, uint64_t owner, size_t offset, uint32_t len, ksl_dma_dir dir);

/* Create a memory of up to `max_bytes` (rounded up to pages).  Host code.  NULL on no memory. */
ksl_physmem *ksl_physmem_create(size_t max_bytes, bool scatter, uint64_t seed);
/* Free the memory and every allocation in it.  Host code. */
void ksl_physmem_destroy(ksl_physmem *pm);
/* Install the DMA observer (one; NULL removes it). */
void ksl_physmem_set_observer(ksl_physmem *pm, ksl_dma_observer *fn, void *ctx);

/*
 * Allocate `bytes` (> 0) of zeroed memory starting `first_offset` (< KSL_PAGE_SIZE) bytes into its
 * first page.  `contiguous` asks for physically adjacent pages (common buffers); otherwise pages
 * are scattered when the memory was created so.  Returns the virtual address of byte 0, or NULL
 * when the memory is exhausted.  `owner` is passed to the observer for DMA into this block.
 */
void *ksl_physmem_alloc(ksl_physmem *pm, size_t bytes, uint32_t first_offset, bool contiguous, uint64_t owner);
/* Free a block by the address ksl_physmem_alloc returned. */
void ksl_physmem_free(ksl_physmem *pm, void *va);
/* Physical address of a virtual address inside a block; 0 when it is not in one. */
uint64_t ksl_physmem_pa(const ksl_physmem *pm, const void *va);
/* Bytes from `va` to the end of its page run that is physically contiguous (0 if not mapped). */
size_t ksl_physmem_contiguous(const ksl_physmem *pm, const void *va);
/* Virtual address of [pa, pa+len) if it is mapped and lies in one block's physically contiguous
 * run; NULL otherwise.  No observer call: for inspection, not for device DMA. */
void *ksl_physmem_va(const ksl_physmem *pm, uint64_t pa, uint32_t len);

/*
 * Device DMA: copy `len` bytes at physical `pa` to `dst` (read) or from `src` (write), page by
 * page, asking the observer first for each block touched.  Returns 0 on success, -1 when a byte
 * is not mapped (a bus error), -2 when the observer refused.  Nothing is copied on failure.
 */
int ksl_physmem_dma_read(ksl_physmem *pm, uint64_t pa, void *dst, uint32_t len);
int ksl_physmem_dma_write(ksl_physmem *pm, uint64_t pa, const void *src, uint32_t len);
/* Whether a DMA access to [pa, pa + len) would be allowed now, as the two above check it but
 * moving nothing: 0 yes, -1 a byte is not mapped, -2 the observer would refuse.  For a device
 * model's checks of what its driver programmed.  Any time. */
int ksl_physmem_dma_probe(ksl_physmem *pm, uint64_t pa, uint32_t len);

/* Pages in use and in all.  Host code. */
void ksl_physmem_usage(const ksl_physmem *pm, size_t *pages_used, size_t *pages_total);

#ifdef __cplusplus
}
#endif
#endif
