/* pyintern.c — the writer's maps for Python frames: linear probing over a power-of-two
 * table kept at most half full. Lookups happen only for stacks missing from the writer's
 * stack cache, so this favours small and simple over clever. */
#include "pyintern.h"

#include <errno.h>
#include <stdlib.h>

#define GP_PYMAP_MIN 256

static uint32_t slot_of(uint64_t a, uint64_t b, uint32_t mask)
{
    uint64_t h = (a ^ (b * UINT64_C(0xC2B2AE3D27D4EB4F))) * UINT64_C(0x9E3779B97F4A7C15);
    return (uint32_t)(h >> 32) & mask;
}

uint32_t gp_trace_pymap_find(const struct gp_trace_pymap *m, uint64_t a, uint64_t b)
{
    if (!m->slots)
        return 0;
    for (uint32_t i = slot_of(a, b, m->mask);; i = (i + 1) & m->mask) {
        const struct gp_trace_pyslot *s = &m->slots[i];
        if (s->id == 0)
            return 0;
        if (s->a == a && s->b == b)
            return s->id;
    }
}

static void place(struct gp_trace_pyslot *slots, uint32_t mask, const struct gp_trace_pyslot *e)
{
    uint32_t i = slot_of(e->a, e->b, mask);
    while (slots[i].id != 0)
        i = (i + 1) & mask;
    slots[i] = *e;
}

int gp_trace_pymap_put(struct gp_trace_pymap *m, uint64_t a, uint64_t b, uint32_t id)
{
    uint32_t cap = m->slots ? m->mask + 1 : 0;
    if ((uint64_t)(m->count + 1) * 2 > cap) {
        uint32_t n = cap ? cap * 2 : GP_PYMAP_MIN;
        if (n == 0)
            return -ENOMEM; /* 2^31 slots already: not a real program */
        struct gp_trace_pyslot *bigger = calloc(n, sizeof(*bigger));
        if (!bigger)
            return -ENOMEM;
        for (uint32_t i = 0; i < cap; i++)
            if (m->slots[i].id)
                place(bigger, n - 1, &m->slots[i]);
        free(m->slots);
        m->slots = bigger;
        m->mask = n - 1;
    }
    place(m->slots, m->mask, &(struct gp_trace_pyslot){a, b, id});
    m->count++;
    return 0;
}

void gp_trace_pymap_free(struct gp_trace_pymap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->mask = m->count = 0;
}
