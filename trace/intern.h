/* intern.h — the trace writer's interning tables (internal to trace/ and its tests):
 * strings -> string ids, (parent node, ip) -> stack node ids, and the set of ips already
 * announced to the new-ip hook. Ids are dense and start at 1 so 0 can mean "none". */
#ifndef GP_TRACE_INTERN_H
#define GP_TRACE_INTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gp_trace_strslot {
    uint32_t hash;
    uint32_t id; /* 0 = empty slot */
    uint32_t len;
    size_t off;  /* into the arena */
};

struct gp_trace_strtab {
    struct gp_trace_strslot *slots;
    uint32_t mask; /* slot count - 1; slots == NULL until the first insert */
    uint32_t count;
    uint32_t max;
    char *arena;
    size_t arena_len, arena_cap;
};

struct gp_trace_nodeslot {
    uint64_t ip;
    uint32_t parent;
    uint32_t id; /* 0 = empty slot */
};

struct gp_trace_stacktab {
    struct gp_trace_nodeslot *slots;
    uint32_t mask;
    uint32_t count;
    uint32_t max;
    uint64_t *ips; /* open-addressed set; 0 marks an empty slot, so ip 0 is kept aside */
    uint32_t ip_mask;
    uint32_t ip_count;
    bool ip_zero_seen;
};

/* A small direct-mapped cache of whole stacks -> innermost node id, in front of the trie
 * walk: programs allocate from a few hot call sites, and one hash of the ips plus one
 * memcmp is much cheaper than a hash probe per frame. Exact: entries keep their ips. */
#define GP_TRACE_STACK_CACHE 64

struct gp_trace_stack_cache_entry {
    uint64_t hash;
    uint64_t *ips; /* nframes entries, innermost first; NULL while unused */
    uint32_t cap;  /* entries allocated in ips */
    uint32_t nframes;
    uint32_t id;
};

struct gp_trace_stack_cache {
    struct gp_trace_stack_cache_entry e[GP_TRACE_STACK_CACHE];
};

void gp_trace_strtab_init(struct gp_trace_strtab *t, uint32_t max);
void gp_trace_strtab_free(struct gp_trace_strtab *t);
/* Finds or adds s[0..len). Returns 1 (added: *id is new), 0 (known: *id is its id),
 * -ENOSPC (cap reached, *id = 0) or -ENOMEM. */
int gp_trace_strtab_intern(struct gp_trace_strtab *t, const char *s, uint32_t len, uint32_t *id);

void gp_trace_stacktab_init(struct gp_trace_stacktab *t, uint32_t max);
void gp_trace_stacktab_free(struct gp_trace_stacktab *t);
/* Id of the node (parent, ip), or 0 if it does not exist yet. */
uint32_t gp_trace_stacktab_find(const struct gp_trace_stacktab *t, uint32_t parent, uint64_t ip);
/* Adds a node known to be absent; *id = its new id. -ENOSPC at the cap, -ENOMEM. */
int gp_trace_stacktab_add(struct gp_trace_stacktab *t, uint32_t parent, uint64_t ip, uint32_t *id);
/* 1 if ip was never seen before (and remembers it), 0 if it was, -ENOMEM. */
int gp_trace_stacktab_first_ip(struct gp_trace_stacktab *t, uint64_t ip);

/* Hash of a whole stack, for the cache. */
uint64_t gp_trace_stack_hash(const uint64_t *ips, unsigned n);
/* 1 and *id if the stack is cached, else 0. */
int gp_trace_stack_cache_get(const struct gp_trace_stack_cache *c, uint64_t hash,
                             const uint64_t *ips, unsigned n, uint32_t *id);
/* Remembers a stack's id, replacing whatever shared its slot; silently skipped without
 * memory (the cache is only a shortcut). */
void gp_trace_stack_cache_put(struct gp_trace_stack_cache *c, uint64_t hash, const uint64_t *ips,
                              unsigned n, uint32_t id);
void gp_trace_stack_cache_free(struct gp_trace_stack_cache *c);

#endif
