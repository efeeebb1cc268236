/* stack_cache.c — the writer's cache of recently seen whole stacks (see intern.h): lets a
 * repeated call site skip the per-frame trie walk, the writer's largest cost after
 * deflate. Direct-mapped and exact; a miss just falls back to the walk. */
#include <stdlib.h>
#include <string.h>

#include "intern.h"

uint64_t gp_trace_stack_hash(const uint64_t *ips, unsigned n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (unsigned i = 0; i < n; i++) {
        h ^= ips[i];
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    return h;
}

int gp_trace_stack_cache_get(const struct gp_trace_stack_cache *c, uint64_t hash,
                             const uint64_t *ips, unsigned n, uint32_t *id)
{
    const struct gp_trace_stack_cache_entry *e = &c->e[hash % GP_TRACE_STACK_CACHE];
    if (!e->ips || e->hash != hash || e->nframes != n ||
        memcmp(e->ips, ips, (size_t)n * sizeof(*ips)) != 0)
        return 0;
    *id = e->id;
    return 1;
}

void gp_trace_stack_cache_put(struct gp_trace_stack_cache *c, uint64_t hash, const uint64_t *ips,
                              unsigned n, uint32_t id)
{
    struct gp_trace_stack_cache_entry *e = &c->e[hash % GP_TRACE_STACK_CACHE];
    if (!e->ips || e->cap < n) {
        /* At least one slot so an empty stack has a non-NULL buffer too. */
        uint32_t cap = n ? n : 1;
        uint64_t *p = realloc(e->ips, (size_t)cap * sizeof(*p));
        if (!p)
            return;
        e->ips = p;
        e->cap = cap;
    }
    memcpy(e->ips, ips, (size_t)n * sizeof(*ips));
    e->hash = hash;
    e->nframes = n;
    e->id = id;
}

void gp_trace_stack_cache_free(struct gp_trace_stack_cache *c)
{
    for (unsigned i = 0; i < GP_TRACE_STACK_CACHE; i++)
        free(c->e[i].ips);
    memset(c, 0, sizeof(*c));
}
