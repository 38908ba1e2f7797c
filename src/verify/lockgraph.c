/* SPDX-License-Identifier: MIT */
/*
 * The lock-order graph (as lockdep and Driver Verifier's deadlock detection build it): an edge
 * A -> B whenever B is acquired while A is held, with the site where it was first seen.  A new
 * edge that closes a cycle is K.lock-order-cycle, reported at the acquire that closes it, before
 * any CPU actually deadlocks.  Nodes are lock instances, numbered in order of first acquire.
 */
#include <stdlib.h>
#include <string.h>

#include "../ke/ke_internal.h"

typedef struct edge {
    uint32_t to;
    const char *file;
    int line;
} edge;

typedef struct node {
    const char *name;
    const char *file;
    int line;
    uint8_t kind;
    edge *out;
    uint32_t nout, capout;
} node;

struct ksl_lockgraph {
    node *nodes; /* index 0 unused */
    uint32_t n, cap;
    uint32_t *stack;
    uint8_t *seen;
    uint32_t *parent;
    pthread_mutex_t mu;
};

ksl_lockgraph *ksl__lockgraph_new(void)
{
    ksl_lockgraph *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->n = 1;
    pthread_mutex_init(&g->mu, NULL);
    return g;
}

void ksl__lockgraph_free(ksl_lockgraph *g)
{
    if (!g)
        return;
    for (uint32_t i = 1; i < g->n; i++)
        free(g->nodes[i].out);
    free(g->nodes);
    free(g->stack);
    free(g->seen);
    free(g->parent);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

static int grow_nodes(ksl_lockgraph *g)
{
    uint32_t cap = g->cap ? g->cap * 2 : 64;
    node *nn = realloc(g->nodes, cap * sizeof *nn);
    uint32_t *st = realloc(g->stack, cap * sizeof *st);
    uint8_t *se = realloc(g->seen, cap);
    uint32_t *pa = realloc(g->parent, cap * sizeof *pa);
    if (nn)
        g->nodes = nn;
    if (st)
        g->stack = st;
    if (se)
        g->seen = se;
    if (pa)
        g->parent = pa;
    if (!nn || !st || !se || !pa)
        return -1;
    g->cap = cap;
    return 0;
}

uint32_t ksl__lockgraph_node(ksl_lockgraph *g, uint32_t *slot, const char *name, const char *file, int line, uint8_t kind)
{
    uint32_t id = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (id)
        return id;
    pthread_mutex_lock(&g->mu);
    id = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (!id) {
        if (g->n >= g->cap && grow_nodes(g) != 0)
            abort();
        id = g->n++;
        g->nodes[id] = (node){.name = name, .file = file, .line = line, .kind = kind};
        __atomic_store_n(slot, id, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&g->mu);
    return id;
}

static int has_edge(const node *a, uint32_t to)
{
    for (uint32_t i = 0; i < a->nout; i++)
        if (a->out[i].to == to)
            return 1;
    return 0;
}

static const edge *find_edge(const node *a, uint32_t to)
{
    for (uint32_t i = 0; i < a->nout; i++)
        if (a->out[i].to == to)
            return &a->out[i];
    return NULL;
}

/* Depth-first search from `from` for `to`; fills parent[] along the way. */
static int reaches(ksl_lockgraph *g, uint32_t from, uint32_t to)
{
    memset(g->seen, 0, g->n);
    uint32_t sp = 0;
    g->stack[sp++] = from;
    g->seen[from] = 1;
    g->parent[from] = 0;
    while (sp) {
        uint32_t v = g->stack[--sp];
        if (v == to)
            return 1;
        const node *nv = &g->nodes[v];
        for (uint32_t i = 0; i < nv->nout; i++) {
            uint32_t w = nv->out[i].to;
            if (!g->seen[w]) {
                g->seen[w] = 1;
                g->parent[w] = v;
                g->stack[sp++] = w;
            }
        }
    }
    return 0;
}

static const char *nm(const node *n)
{
    return n->name ? n->name : "?";
}

/* Record held -> acquired edges for every lock the acquiring context holds. */
void ksl__lockgraph_acquire(ksl_cpu *c, uint32_t acquired, const char *file, int line)
{
    ksl_engine *e = c->e;
    ksl_lockgraph *g = e->locks;
    uint32_t held[KSL_MAX_HELD + KSL_MAX_THREAD_MUTEXES];
    uint32_t nh = 0;
    ksl_thread *t = ksl__cur_thread(c);
    if (!t && c->nframes >= 1 && c->thread && (c->frames[0].kind == FR_THREAD || c->frames[0].kind == FR_WORK))
        t = c->thread; /* nested routines on a thread's CPU still run after its mutexes */
    if (t)
        for (uint32_t i = 0; i < t->nmutexes; i++)
            held[nh++] = t->mutexes[i]->node;
    for (uint32_t i = 0; i < c->nheld; i++)
        held[nh++] = c->held[i]->node;
    if (!nh)
        return;
    int threaded = ksl__threaded(e);
    if (threaded)
        pthread_mutex_lock(&g->mu);
    for (uint32_t i = 0; i < nh; i++) {
        uint32_t a = held[i];
        if (a == acquired || !a)
            continue;
        node *na = &g->nodes[a];
        if (has_edge(na, acquired))
            continue;
        if (reaches(g, acquired, a)) {
            /* acquired -> ... -> a exists; a -> acquired closes the cycle. */
            ksl__detail(e, "  lock order cycle:\n");
            ksl__detail(e, "    '%s' -> '%s' here at %s:%d\n", nm(na), nm(&g->nodes[acquired]), file ? file : "?", line);
            uint32_t path[64], np = 0;
            for (uint32_t v = a; v && v != acquired && np < 64; v = g->parent[v])
                path[np++] = v;
            uint32_t prev = acquired;
            while (np) {
                uint32_t v = path[--np];
                const edge *ed = find_edge(&g->nodes[prev], v);
                ksl__detail(e, "    '%s' -> '%s' first at %s:%d\n", nm(&g->nodes[prev]), nm(&g->nodes[v]),
                            ed && ed->file ? ed->file : "?", ed ? ed->line : 0);
                prev = v;
            }
            const char *an = nm(na), *bn = nm(&g->nodes[acquired]);
            if (threaded)
                pthread_mutex_unlock(&g->mu);
            ksl__fail(c, "K.lock-order-cycle", file, line,
                      "acquiring '%s' while holding '%s' inverts an order seen before: potential deadlock", bn, an);
            return;
        }
        if (na->nout == na->capout) {
            uint32_t cap = na->capout ? na->capout * 2 : 4;
            edge *ne = realloc(na->out, cap * sizeof *ne);
            if (!ne)
                abort();
            na->out = ne;
            na->capout = cap;
        }
        na->out[na->nout++] = (edge){acquired, file, line};
    }
    if (threaded)
        pthread_mutex_unlock(&g->mu);
}
