/* SPDX-License-Identifier: MIT */
/* The lock-order graph (see lockorder.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lockorder.h"

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

struct ksl_lockorder {
    node *nodes; /* index 0 unused */
    uint32_t n, cap;
    uint32_t *stack;
    uint8_t *seen;
    uint32_t *parent;
    pthread_mutex_t mu;
};

ksl_lockorder *ksl__lockorder_new(void)
{
    ksl_lockorder *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->n = 1;
    pthread_mutex_init(&g->mu, NULL);
    return g;
}

void ksl__lockorder_free(ksl_lockorder *g)
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

static int grow_nodes(ksl_lockorder *g)
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

uint32_t ksl__lockorder_node(ksl_lockorder *g, uint32_t *slot, const char *name, const char *file, int line, uint8_t kind)
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
static int reaches(ksl_lockorder *g, uint32_t from, uint32_t to)
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

const char *ksl__lockorder_name(const ksl_lockorder *g, uint32_t id)
{
    return id && id < g->n ? nm(&g->nodes[id]) : "?";
}

uint32_t ksl__lockorder_acquire(ksl_lockorder *g, const uint32_t *held, uint32_t nh, uint32_t acquired,
                                const char *file, int line, bool threaded, ksl_lockorder_edge_fn *edge_fn, void *user)
{
    if (!nh)
        return 0;
    if (threaded)
        pthread_mutex_lock(&g->mu);
    uint32_t closing = 0;
    for (uint32_t i = 0; i < nh && !closing; i++) {
        uint32_t a = held[i];
        if (a == acquired || !a)
            continue;
        node *na = &g->nodes[a];
        if (has_edge(na, acquired))
            continue;
        if (reaches(g, acquired, a)) {
            /* acquired -> ... -> a exists; a -> acquired closes the cycle. */
            edge_fn(user, nm(na), nm(&g->nodes[acquired]), file, line, true);
            uint32_t path[64], np = 0;
            for (uint32_t v = a; v && v != acquired && np < 64; v = g->parent[v])
                path[np++] = v;
            uint32_t prev = acquired;
            while (np) {
                uint32_t v = path[--np];
                const edge *ed = find_edge(&g->nodes[prev], v);
                edge_fn(user, nm(&g->nodes[prev]), nm(&g->nodes[v]), ed ? ed->file : NULL, ed ? ed->line : 0, false);
                prev = v;
            }
            closing = i + 1;
            break;
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
    return closing;
}
