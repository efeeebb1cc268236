/* livemap.c — the live allocations of a replay, keyed by pointer.
 * Open addressing with linear probing and backward-shift deletion: no tombstones, so
 * lookups stay short however many allocations come and go, and nothing is allocated
 * per event (the table only grows when the number of live allocations does). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define LIVEMAP_MIN_BITS 10

static size_t slot_of(const struct gp_report_livemap *map, uint64_t ptr)
{
    /* Device pointers are 256-byte aligned or more: the multiply spreads the high bits. */
    return (size_t)((ptr * UINT64_C(0x9E3779B97F4A7C15)) >> map->shift);
}

static int table_alloc(struct gp_report_livemap *map, unsigned bits)
{
    size_t n = (size_t)1 << bits;
    map->slots = calloc(n, sizeof(*map->slots));
    if (!map->slots)
        return -ENOMEM;
    map->mask = n - 1;
    map->shift = 64 - bits;
    map->count = 0;
    return 0;
}

int gp_report_livemap_init(struct gp_report_livemap *map)
{
    return table_alloc(map, LIVEMAP_MIN_BITS);
}

void gp_report_livemap_fini(struct gp_report_livemap *map)
{
    free(map->slots);
    map->slots = NULL;
    map->count = 0;
}

struct gp_report_live *gp_report_livemap_find(const struct gp_report_livemap *map, uint64_t ptr)
{
    size_t i = slot_of(map, ptr);
    for (;;) {
        struct gp_report_live *s = &map->slots[i];
        if (s->ptr == ptr)
            return s;
        if (s->ptr == 0)
            return NULL;
        i = (i + 1) & map->mask;
    }
}

static void place(struct gp_report_livemap *map, const struct gp_report_live *e)
{
    size_t i = slot_of(map, e->ptr);
    while (map->slots[i].ptr != 0)
        i = (i + 1) & map->mask;
    map->slots[i] = *e;
    map->count++;
}

static int grow(struct gp_report_livemap *map)
{
    struct gp_report_livemap bigger;
    unsigned bits = 64 - map->shift + 1;
    int rc = table_alloc(&bigger, bits);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i <= map->mask; i++)
        if (map->slots[i].ptr != 0)
            place(&bigger, &map->slots[i]);
    free(map->slots);
    *map = bigger;
    return 0;
}

int gp_report_livemap_insert(struct gp_report_livemap *map, const struct gp_report_live *e)
{
    /* Keep the load under 1/2 so probe runs stay short. */
    if ((map->count + 1) * 2 > map->mask + 1) {
        int rc = grow(map);
        if (rc < 0)
            return rc;
    }
    place(map, e);
    return 0;
}

void gp_report_livemap_remove(struct gp_report_livemap *map, struct gp_report_live *slot)
{
    size_t hole = (size_t)(slot - map->slots);
    size_t i = hole;
    /* Shift later members of the probe run back into the hole when their home slot
     * does not lie (cyclically) between the hole and where they sit. */
    for (;;) {
        i = (i + 1) & map->mask;
        if (map->slots[i].ptr == 0)
            break;
        size_t home = slot_of(map, map->slots[i].ptr);
        size_t dist_home = (i - home) & map->mask;
        size_t dist_hole = (i - hole) & map->mask;
        if (dist_home >= dist_hole) {
            map->slots[hole] = map->slots[i];
            hole = i;
        }
    }
    memset(&map->slots[hole], 0, sizeof(map->slots[hole]));
    map->count--;
}
