/* SPDX-License-Identifier: MIT */
/*
 * The lock-order graph, as lockdep and Driver Verifier's deadlock detection build it: an edge
 * A -> B whenever B is acquired while A is held, with the site where it was first seen.  A new
 * edge that would close a cycle is a potential deadlock, found at the acquire that closes it,
 * before any CPU actually deadlocks.  Nodes are lock instances, numbered in order of first use.
 *
 * A pure data structure: it knows nothing of engines or CPUs (the kernel, src/ke/lockdep.c,
 * gathers what the acquiring context holds and reports the finding).  Host code; every function
 * may be called from any host thread when `threaded` is passed true (an internal mutex then
 * serializes the graph).
 */
#ifndef KSLAB_VERIFY_LOCKORDER_H
#define KSLAB_VERIFY_LOCKORDER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ksl_lockorder ksl_lockorder;

/* A new, empty graph; NULL when out of memory. */
ksl_lockorder *ksl__lockorder_new(void);
void ksl__lockorder_free(ksl_lockorder *g);
/*
 * The node of a lock: `*slot` (the lock's own node field, 0 until its first use) is set to a
 * new node number on first use and returned as it is afterwards.  `name`, `file` and `line`
 * (where it was initialized) must outlive the graph.  Aborts when out of memory.
 */
uint32_t ksl__lockorder_node(ksl_lockorder *g, uint32_t *slot, const char *name, const char *file, int line,
                             uint8_t kind);
/* A node's lock name ("?" when it has none). */
const char *ksl__lockorder_name(const ksl_lockorder *g, uint32_t id);

/* One edge of a cycle, for the report: from -> to, first seen at file:line (`here`: the edge
 * being added now, which closes the cycle). */
typedef void ksl_lockorder_edge_fn(void *user, const char *from, const char *to, const char *file, int line,
                                   bool here);
/*
 * `acquired` is taken at file:line while the nodes `held[0..n)` are held: add every edge
 * held[i] -> acquired not seen before.  When one of them would close a cycle, nothing more is
 * added, `edge` is called for each edge of the cycle (the closing one first, then the path back
 * in order), and the index + 1 of that held lock is returned; else 0.  Zero entries of `held`
 * and `acquired` itself are skipped.
 */
uint32_t ksl__lockorder_acquire(ksl_lockorder *g, const uint32_t *held, uint32_t n, uint32_t acquired,
                                const char *file, int line, bool threaded, ksl_lockorder_edge_fn *edge, void *user);

#endif
