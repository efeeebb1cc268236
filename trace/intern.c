/* intern.c — open-addressed hash tables behind the writer's string and stack interning.
 * Linear probing, power-of-two sizes, load factor at most 3/4; nothing is ever removed,
 * which keeps probing simple (no tombstones). Tables start empty and grow on demand so a
 * short trace costs almost no memory. */
#include "intern.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define GP_INTERN_MIN_SLOTS 1024u
/* Above this many slots the doubling would overflow uint32_t indices. */
#define GP_INTERN_MAX_SLOTS (1u << 31)

static uint32_t str_hash(const char *s, uint32_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a: strings are few (module paths), speed is irrelevant */
    for (uint32_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

static uint32_t node_hash(uint32_t parent, uint64_t ip)
{
    /* ips share their high bits and differ in the low ones; mix everything down. */
    uint64_t h = ip * 0x9E3779B97F4A7C15ull ^ (uint64_t)parent * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

static uint32_t ip_hash(uint64_t ip)
{
    return node_hash(0x5bd1e995u, ip);
}

/* New slot count for a table about to hold count + 1 entries, or 0 if it fits already. */
static uint64_t grown_size(uint32_t mask, bool empty, uint32_t count)
{
    uint64_t slots = empty ? 0 : (uint64_t)mask + 1;
    if (((uint64_t)count + 1) * 4 <= slots * 3)
        return 0;
    return slots ? slots * 2 : GP_INTERN_MIN_SLOTS;
}

void gp_trace_strtab_init(struct gp_trace_strtab *t, uint32_t max)
{
    memset(t, 0, sizeof(*t));
    t->max = max;
}

void gp_trace_strtab_free(struct gp_trace_strtab *t)
{
    free(t->slots);
    free(t->arena);
    memset(t, 0, sizeof(*t));
}

static int strtab_grow(struct gp_trace_strtab *t)
{
    uint64_t n = grown_size(t->mask, t->slots == NULL, t->count);
    if (n == 0)
        return 0;
    if (n > GP_INTERN_MAX_SLOTS)
        return -ENOMEM;
    struct gp_trace_strslot *slots = calloc(n, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    uint32_t mask = (uint32_t)(n - 1);
    if (t->slots) {
        for (uint64_t i = 0; i <= t->mask; i++) {
            const struct gp_trace_strslot *s = &t->slots[i];
            if (!s->id)
                continue;
            uint32_t j = s->hash & mask;
            while (slots[j].id)
                j = (j + 1) & mask;
            slots[j] = *s;
        }
    }
    free(t->slots);
    t->slots = slots;
    t->mask = mask;
    return 0;
}

int gp_trace_strtab_intern(struct gp_trace_strtab *t, const char *s, uint32_t len, uint32_t *id)
{
    uint32_t h = str_hash(s, len);
    int rc;

    *id = 0;
    if (t->slots) {
        for (uint32_t i = h & t->mask; t->slots[i].id; i = (i + 1) & t->mask) {
            const struct gp_trace_strslot *e = &t->slots[i];
            if (e->hash == h && e->len == len && memcmp(t->arena + e->off, s, len) == 0) {
                *id = e->id;
                return 0;
            }
        }
    }
    if (t->count >= t->max)
        return -ENOSPC;
    rc = strtab_grow(t);
    if (rc < 0)
        return rc;
    if (t->arena_cap - t->arena_len < len) {
        size_t cap = t->arena_cap ? t->arena_cap : 4096;
        while (cap - t->arena_len < len)
            cap *= 2;
        char *a = realloc(t->arena, cap);
        if (!a)
            return -ENOMEM;
        t->arena = a;
        t->arena_cap = cap;
    }
    memcpy(t->arena + t->arena_len, s, len);
    uint32_t i = h & t->mask;
    while (t->slots[i].id)
        i = (i + 1) & t->mask;
    t->slots[i] = (struct gp_trace_strslot){
        .hash = h, .id = ++t->count, .len = len, .off = t->arena_len};
    t->arena_len += len;
    *id = t->count;
    return 1;
}

void gp_trace_stacktab_init(struct gp_trace_stacktab *t, uint32_t max)
{
    memset(t, 0, sizeof(*t));
    t->max = max;
}

void gp_trace_stacktab_free(struct gp_trace_stacktab *t)
{
    free(t->slots);
    free(t->ips);
    memset(t, 0, sizeof(*t));
}

uint32_t gp_trace_stacktab_find(const struct gp_trace_stacktab *t, uint32_t parent, uint64_t ip)
{
    if (!t->slots)
        return 0;
    for (uint32_t i = node_hash(parent, ip) & t->mask; t->slots[i].id; i = (i + 1) & t->mask) {
        const struct gp_trace_nodeslot *e = &t->slots[i];
        if (e->ip == ip && e->parent == parent)
            return e->id;
    }
    return 0;
}

static int stacktab_grow(struct gp_trace_stacktab *t)
{
    uint64_t n = grown_size(t->mask, t->slots == NULL, t->count);
    if (n == 0)
        return 0;
    if (n > GP_INTERN_MAX_SLOTS)
        return -ENOMEM;
    struct gp_trace_nodeslot *slots = calloc(n, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    uint32_t mask = (uint32_t)(n - 1);
    if (t->slots) {
        for (uint64_t i = 0; i <= t->mask; i++) {
            const struct gp_trace_nodeslot *s = &t->slots[i];
            if (!s->id)
                continue;
            uint32_t j = node_hash(s->parent, s->ip) & mask;
            while (slots[j].id)
                j = (j + 1) & mask;
            slots[j] = *s;
        }
    }
    free(t->slots);
    t->slots = slots;
    t->mask = mask;
    return 0;
}

int gp_trace_stacktab_add(struct gp_trace_stacktab *t, uint32_t parent, uint64_t ip, uint32_t *id)
{
    int rc;

    *id = 0;
    if (t->count >= t->max)
        return -ENOSPC;
    rc = stacktab_grow(t);
    if (rc < 0)
        return rc;
    uint32_t i = node_hash(parent, ip) & t->mask;
    while (t->slots[i].id)
        i = (i + 1) & t->mask;
    t->slots[i] = (struct gp_trace_nodeslot){.ip = ip, .parent = parent, .id = ++t->count};
    *id = t->count;
    return 0;
}

static int ipset_grow(struct gp_trace_stacktab *t)
{
    uint64_t n = grown_size(t->ip_mask, t->ips == NULL, t->ip_count);
    if (n == 0)
        return 0;
    if (n > GP_INTERN_MAX_SLOTS)
        return -ENOMEM;
    uint64_t *ips = calloc(n, sizeof(*ips));
    if (!ips)
        return -ENOMEM;
    uint32_t mask = (uint32_t)(n - 1);
    if (t->ips) {
        for (uint64_t i = 0; i <= t->ip_mask; i++) {
            if (!t->ips[i])
                continue;
            uint32_t j = ip_hash(t->ips[i]) & mask;
            while (ips[j])
                j = (j + 1) & mask;
            ips[j] = t->ips[i];
        }
    }
    free(t->ips);
    t->ips = ips;
    t->ip_mask = mask;
    return 0;
}

int gp_trace_stacktab_first_ip(struct gp_trace_stacktab *t, uint64_t ip)
{
    int rc;

    if (ip == 0) {
        bool first = !t->ip_zero_seen;
        t->ip_zero_seen = true;
        return first;
    }
    if (t->ips) {
        for (uint32_t i = ip_hash(ip) & t->ip_mask; t->ips[i]; i = (i + 1) & t->ip_mask)
            if (t->ips[i] == ip)
                return 0;
    }
    rc = ipset_grow(t);
    if (rc < 0)
        return rc;
    uint32_t i = ip_hash(ip) & t->ip_mask;
    while (t->ips[i])
        i = (i + 1) & t->ip_mask;
    t->ips[i] = ip;
    t->ip_count++;
    return 1;
}
