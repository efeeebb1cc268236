/* activity.c — GPU activity records (docs/trace-format.md, "GPU activity"): the codec both
 * sides share, the writer calls and the reader's decoding. A training loop launches the same
 * few hundred kernels over and over, so each field is predicted from the previous record of
 * the same kernel (or, for copies and the rest, of the same type) and only what differs is
 * written: a repeated kernel costs its start gap, its name, its duration delta and a
 * correlation step. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activity.h"
#include "reader_int.h"

#define GP_ACT_NAMED_MIN 64 /* first allocation of a named prediction table */

struct gp_trace_act *gp_trace_act_new(void)
{
    struct gp_trace_act *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    /* Slot 0 always exists: names past the string cap, or without memory, land there. */
    for (int i = 0; i < 2; i++) {
        s->named[i] = calloc(GP_ACT_NAMED_MIN, sizeof(struct gp_act_pred));
        if (!s->named[i]) {
            gp_trace_act_free(s);
            return NULL;
        }
        s->named_cap[i] = GP_ACT_NAMED_MIN;
    }
    return s;
}

void gp_trace_act_free(struct gp_trace_act *s)
{
    if (!s)
        return;
    free(s->named[0]);
    free(s->named[1]);
    free(s->run);
    for (unsigned i = 0; i < GP_ACT_NAME_CACHE; i++)
        free(s->names[i].copy);
    free(s);
}

/* The prediction for (type, name id); NULL without memory to grow the table. */
static struct gp_act_pred *slot_of(struct gp_trace_act *s, uint8_t type, uint32_t name_id)
{
    if (!gp_trace_act_named(type))
        return &s->plain[type - GP_REC_ACT_FIRST];
    int t = type == GP_REC_MARKER;
    if (name_id >= s->named_cap[t]) {
        uint64_t cap = s->named_cap[t];
        while (cap <= name_id)
            cap *= 2;
        struct gp_act_pred *v = realloc(s->named[t], (size_t)cap * sizeof(*v));
        if (!v)
            return NULL;
        memset(v + s->named_cap[t], 0, (size_t)(cap - s->named_cap[t]) * sizeof(*v));
        s->named[t] = v;
        s->named_cap[t] = (uint32_t)cap;
    }
    return &s->named[t][name_id];
}

static inline uint64_t duration(const struct gp_activity *a)
{
    return a->end_ns - a->start_ns; /* modulo 2^64, like every delta in the format */
}

static inline uint64_t zz_delta(uint64_t v, uint64_t pred)
{
    return gp_trace_zigzag((int64_t)(v - pred));
}

/* The correlation a record of this slot is predicted to have: none if its previous run
 * had none, else the previous run's step from the correlation before it. */
static inline uint32_t corr_pred(const struct gp_trace_act *s, const struct gp_act_pred *slot)
{
    return slot->a.correlation ? s->prev_corr + slot->corr_step : 0;
}

/* After a record: a correlation id becomes the base of the next one and its step is kept
 * for the slot's next run (uint32 arithmetic, modulo 2^32, on both sides). */
static inline void corr_update(struct gp_trace_act *s, struct gp_act_pred *slot, uint32_t corr)
{
    if (corr) {
        slot->corr_step = corr - s->prev_corr;
        s->prev_corr = corr;
    }
}

size_t gp_trace_act_encode(struct gp_trace_act *s, const struct gp_activity *a, uint32_t name_id,
                           uint8_t *buf)
{
    struct gp_act_pred *slot = slot_of(s, a->type, name_id);
    if (!slot) {
        name_id = 0;
        slot = slot_of(s, a->type, 0);
    }
    const struct gp_activity *pr = &slot->a;
    uint32_t corr_p = corr_pred(s, slot);
    uint32_t m = 0;
    m |= a->kind != pr->kind ? GP_ACTF_KIND : 0;
    m |= a->device != pr->device ? GP_ACTF_DEVICE : 0;
    m |= a->context != pr->context ? GP_ACTF_CONTEXT : 0;
    m |= a->stream != pr->stream ? GP_ACTF_STREAM : 0;
    m |= duration(a) != duration(pr) ? GP_ACTF_DURATION : 0;
    m |= a->correlation != corr_p ? GP_ACTF_CORR : 0;
    m |= ((a->grid[0] ^ pr->grid[0]) | (a->grid[1] ^ pr->grid[1]) | (a->grid[2] ^ pr->grid[2]))
             ? GP_ACTF_GRID
             : 0;
    m |= ((a->block[0] ^ pr->block[0]) | (a->block[1] ^ pr->block[1]) |
          (a->block[2] ^ pr->block[2]))
             ? GP_ACTF_BLOCK
             : 0;
    m |= a->registers != pr->registers ? GP_ACTF_REGISTERS : 0;
    m |= a->static_smem != pr->static_smem ? GP_ACTF_STATIC_SMEM : 0;
    m |= a->dynamic_smem != pr->dynamic_smem ? GP_ACTF_DYNAMIC_SMEM : 0;
    m |= a->graph_id != pr->graph_id ? GP_ACTF_GRAPH_ID : 0;
    m |= a->graph_node != pr->graph_node ? GP_ACTF_GRAPH_NODE : 0;
    m |= a->bytes != pr->bytes ? GP_ACTF_BYTES : 0;
    m |= a->address != pr->address ? GP_ACTF_ADDRESS : 0;
    m |= a->value != pr->value ? GP_ACTF_VALUE : 0;
    m |= a->aux != pr->aux ? GP_ACTF_AUX : 0;

    /* The head comes first: with the type and length before it, a repeated kernel's
     * record starts with the same three bytes as the previous one's. */
    uint8_t *p = buf;
    uint64_t head = (uint64_t)m << 1;
    uint32_t *next = NULL;
    if (gp_trace_act_named(a->type)) {
        /* head bit 0 clear: the name that followed the previous one last time */
        int t = a->type == GP_REC_MARKER;
        next = &s->named[t][s->prev_name[t]].next_name;
        head |= name_id != *next;
        s->prev_name[t] = name_id;
    }
    p = gp_trace_put_varint(p, head);
    if (head & 1)
        p = gp_trace_put_varint(p, name_id);
    if (next)
        *next = name_id;
    p = gp_trace_put_varint(p, zz_delta(a->start_ns, s->prev_end));
    if (m == GP_ACTF_DURATION) {
        /* a repeated kernel: the one field that always differs */
        p = gp_trace_put_varint(p, zz_delta(duration(a), duration(pr)));
        goto done;
    }
    if (m & GP_ACTF_KIND)
        p = gp_trace_put_varint(p, a->kind);
    if (m & GP_ACTF_DEVICE)
        p = gp_trace_put_varint(p, a->device);
    if (m & GP_ACTF_CONTEXT)
        p = gp_trace_put_varint(p, a->context);
    if (m & GP_ACTF_STREAM)
        p = gp_trace_put_varint(p, a->stream);
    if (m & GP_ACTF_DURATION)
        p = gp_trace_put_varint(p, zz_delta(duration(a), duration(pr)));
    if (m & GP_ACTF_CORR)
        p = gp_trace_put_varint(p, zz_delta(a->correlation, (uint64_t)s->prev_corr + 1));
    if (m & GP_ACTF_GRID)
        for (int i = 0; i < 3; i++)
            p = gp_trace_put_varint(p, a->grid[i]);
    if (m & GP_ACTF_BLOCK)
        for (int i = 0; i < 3; i++)
            p = gp_trace_put_varint(p, a->block[i]);
    if (m & GP_ACTF_REGISTERS)
        p = gp_trace_put_varint(p, a->registers);
    if (m & GP_ACTF_STATIC_SMEM)
        p = gp_trace_put_varint(p, a->static_smem);
    if (m & GP_ACTF_DYNAMIC_SMEM)
        p = gp_trace_put_varint(p, a->dynamic_smem);
    if (m & GP_ACTF_GRAPH_ID)
        p = gp_trace_put_varint(p, a->graph_id);
    if (m & GP_ACTF_GRAPH_NODE)
        p = gp_trace_put_varint(p, zz_delta(a->graph_node, pr->graph_node));
    if (m & GP_ACTF_BYTES)
        p = gp_trace_put_varint(p, a->bytes);
    if (m & GP_ACTF_ADDRESS)
        p = gp_trace_put_varint(p, zz_delta(a->address, pr->address));
    if (m & GP_ACTF_VALUE)
        p = gp_trace_put_varint(p, a->value);
    if (m & GP_ACTF_AUX)
        p = gp_trace_put_varint(p, a->aux);
done:
    corr_update(s, slot, a->correlation);
    slot->a = *a;
    slot->a.name = NULL;
    s->prev_end = a->end_ns;
    return (size_t)(p - buf);
}

/* ---- decoding ----------------------------------------------------------------- */
#define GET(v)                                                                                     \
    do {                                                                                           \
        int g_ = gp_trace_get_varint(&p, end, &(v));                                               \
        if (g_ <= 0) {                                                                             \
            snprintf(why, whylen, "%s", g_ < 0 ? "bad varint" : "payload too short");              \
            return -EBADMSG;                                                                       \
        }                                                                                          \
    } while (0)

#define GET32(dst)                                                                                 \
    do {                                                                                           \
        GET(v);                                                                                    \
        if (v > UINT32_MAX)                                                                        \
            goto range;                                                                            \
        (dst) = (uint32_t)v;                                                                       \
    } while (0)

int gp_trace_act_decode(struct gp_trace_act *s, uint8_t type, const uint8_t **pp,
                        const uint8_t *end, uint32_t nstrings, int in_run,
                        struct gp_activity *out, char *why, size_t whylen)
{
    const uint8_t *p = *pp;
    uint64_t v, dstart, name_id = 0, head, m;

    GET(head);
    m = head >> 1;
    if (in_run && m >= GP_ACTF_AUX << 1) {
        snprintf(why, whylen, "a field of a later version in a run");
        return -EBADMSG;
    }
    if (gp_trace_act_named(type)) {
        int t = type == GP_REC_MARKER;
        uint32_t *next = &s->named[t][s->prev_name[t]].next_name;
        if (head & 1)
            GET(name_id);
        else
            name_id = *next;
        if (name_id > nstrings) {
            snprintf(why, whylen, "undefined string id %llu", (unsigned long long)name_id);
            return -EBADMSG;
        }
        *next = (uint32_t)name_id;
        s->prev_name[t] = (uint32_t)name_id;
    } else if (head & 1) {
        snprintf(why, whylen, "a name on a record type without one");
        return -EBADMSG;
    }
    GET(dstart);
    struct gp_act_pred *slot = slot_of(s, type, (uint32_t)name_id);
    if (!slot) {
        snprintf(why, whylen, "out of memory");
        return -ENOMEM;
    }
    struct gp_activity *pr = &slot->a;
    struct gp_activity a = *pr;
    a.type = type;
    a.name = NULL;
    a.name_id = (uint32_t)name_id;
    a.start_ns = s->prev_end + (uint64_t)gp_trace_unzigzag(dstart);
    uint64_t dur = duration(pr);
    a.correlation = corr_pred(s, slot);
    if (m & GP_ACTF_KIND) {
        GET(v);
        if (v > UINT8_MAX)
            goto range;
        a.kind = (uint8_t)v;
    }
    if (m & GP_ACTF_DEVICE)
        GET32(a.device);
    if (m & GP_ACTF_CONTEXT)
        GET32(a.context);
    if (m & GP_ACTF_STREAM)
        GET32(a.stream);
    if (m & GP_ACTF_DURATION) {
        GET(v);
        dur += (uint64_t)gp_trace_unzigzag(v);
    }
    a.end_ns = a.start_ns + dur;
    if (m & GP_ACTF_CORR) {
        GET(v);
        v = (uint64_t)s->prev_corr + 1 + (uint64_t)gp_trace_unzigzag(v);
        if (v > UINT32_MAX)
            goto range;
        a.correlation = (uint32_t)v;
    }
    if (m & GP_ACTF_GRID)
        for (int i = 0; i < 3; i++)
            GET32(a.grid[i]);
    if (m & GP_ACTF_BLOCK)
        for (int i = 0; i < 3; i++)
            GET32(a.block[i]);
    if (m & GP_ACTF_REGISTERS)
        GET32(a.registers);
    if (m & GP_ACTF_STATIC_SMEM)
        GET32(a.static_smem);
    if (m & GP_ACTF_DYNAMIC_SMEM)
        GET32(a.dynamic_smem);
    if (m & GP_ACTF_GRAPH_ID)
        GET32(a.graph_id);
    if (m & GP_ACTF_GRAPH_NODE) {
        GET(v);
        a.graph_node += (uint64_t)gp_trace_unzigzag(v);
    }
    if (m & GP_ACTF_BYTES)
        GET(a.bytes);
    if (m & GP_ACTF_ADDRESS) {
        GET(v);
        a.address += (uint64_t)gp_trace_unzigzag(v);
    }
    if (m & GP_ACTF_VALUE)
        GET(a.value);
    if (m & GP_ACTF_AUX)
        GET(a.aux);
    /* Mask bits above GP_ACTF_AUX are fields of later versions, skipped with the rest. */
    corr_update(s, slot, a.correlation);
    *pr = a;
    s->prev_end = a.end_ns;
    *out = a;
    *pp = p;
    return 0;
range:
    snprintf(why, whylen, "value out of range");
    return -EBADMSG;
}

/* ---- writer ------------------------------------------------------------------- */
static int act_state(struct gp_trace_writer *w, struct gp_trace_act **out)
{
    struct gp_trace_act **s = gp_trace_writer_act_state(w);
    if (!*s && !(*s = gp_trace_act_new()))
        return -ENOMEM;
    *out = *s;
    return 0;
}

/* The string id of a kernel or marker name, through the pointer cache. */
static int name_id_of(struct gp_trace_writer *w, struct gp_trace_act *s, const char *name,
                      uint32_t *id)
{
    if (!name) {
        *id = 0;
        return 0;
    }
    uint64_t h = (uint64_t)(uintptr_t)name * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing */
    struct gp_act_name_entry *e = &s->names[h >> (64 - GP_ACT_NAME_CACHE_BITS)];
    if (e->ptr == name && strcmp(e->copy, name) == 0) {
        *id = e->id;
        return 0;
    }
    int rc = gp_trace_writer_intern_string(w, name, id);
    if (rc < 0)
        return rc;
    char *copy = strdup(name); /* without memory the name is merely hashed next time */
    if (copy) {
        free(e->copy);
        *e = (struct gp_act_name_entry){name, copy, *id};
    }
    return 0;
}

int gp_trace_writer_activity(struct gp_trace_writer *w, const struct gp_activity *a)
{
    uint8_t buf[GP_TRACE_ACT_PAYLOAD_MAX];
    struct gp_trace_act *s;
    uint32_t name_id = 0;
    int rc;

    if (!gp_trace_is_activity(a->type))
        return -EINVAL;
    if ((rc = act_state(w, &s)) < 0)
        return rc;
    /* Past the string cap the name is lost (id 0), the record is still written. */
    if (gp_trace_act_named(a->type) && (rc = name_id_of(w, s, a->name, &name_id)) < 0)
        return rc;
    size_t n = gp_trace_act_encode(s, a, name_id, buf);
    if (a->type == GP_REC_KERNEL)
        return gp_trace_writer_emit_run(w, GP_REC_KERNEL_RUN, buf, n);
    return gp_trace_writer_emit_record(w, a->type, buf, n);
}

int gp_trace_writer_activity_dropped(struct gp_trace_writer *w, uint64_t count)
{
    uint8_t buf[GP_TRACE_VARINT_MAX];
    uint8_t *p = gp_trace_put_varint(buf, count);
    return gp_trace_writer_emit_record(w, GP_REC_ACT_DROPPED, buf, (size_t)(p - buf));
}

int gp_trace_writer_activity_status(struct gp_trace_writer *w, const struct gp_activity_status *st)
{
    uint8_t buf[5 * GP_TRACE_VARINT_MAX];
    uint32_t lib = 0, reason = 0;
    int rc;

    if ((rc = gp_trace_writer_intern_string(w, st->library, &lib)) < 0 ||
        (rc = gp_trace_writer_intern_string(w, st->reason, &reason)) < 0)
        return rc;
    uint8_t *p = buf;
    p = gp_trace_put_varint(p, st->state);
    p = gp_trace_put_varint(p, st->version);
    p = gp_trace_put_varint(p, st->kinds);
    p = gp_trace_put_varint(p, lib);
    p = gp_trace_put_varint(p, reason);
    return gp_trace_writer_emit_record(w, GP_REC_ACT_STATUS, buf, (size_t)(p - buf));
}

/* ---- reader ------------------------------------------------------------------- */
static int status_decode(struct gp_trace_reader *r, const uint8_t *p, const uint8_t *end,
                         struct gp_activity_status *st, char *why, size_t whylen)
{
    uint64_t v[5];
    for (int i = 0; i < 5; i++)
        GET(v[i]);
    if (v[0] > UINT32_MAX || v[1] > UINT32_MAX)
        goto range;
    if (v[3] > r->nstrings || v[4] > r->nstrings) {
        snprintf(why, whylen, "undefined string id %llu",
                 (unsigned long long)(v[3] > r->nstrings ? v[3] : v[4]));
        return -EBADMSG;
    }
    st->state = (uint32_t)v[0];
    st->version = (uint32_t)v[1];
    st->kinds = v[2];
    st->library = v[3] ? gp_trace_reader_string(r, (uint32_t)v[3]) : NULL;
    st->reason = v[4] ? gp_trace_reader_string(r, (uint32_t)v[4]) : NULL;
    return 0;
range:
    snprintf(why, whylen, "value out of range");
    return -EBADMSG;
}

/* Delivers s->last as rec. */
static void deliver(struct gp_trace_reader *r, struct gp_trace_act *s, struct gp_record *rec)
{
    s->last.name = s->last.name_id ? gp_trace_reader_string(r, s->last.name_id) : NULL;
    rec->type = s->last.type;
    rec->time_ns = s->last.start_ns;
    rec->kind = s->last.kind;
    rec->stream = s->last.stream;
    rec->size = s->last.bytes;
}

int gp_rd_activity_run(struct gp_trace_reader *r, struct gp_record *rec, uint64_t *off, char *why,
                       size_t whylen)
{
    struct gp_trace_act *s = r->act;
    if (!s || s->run_p == s->run_end)
        return 0;
    *off = s->run_off;
    int rc = gp_trace_act_decode(s, GP_REC_KERNEL, &s->run_p, s->run_end, r->nstrings, 1,
                                 &s->last, why, whylen);
    if (rc < 0) {
        s->run_p = s->run_end;
        return rc;
    }
    deliver(r, s, rec);
    return 1;
}

/* A KERNEL_RUN: its payload is kept and its first kernel delivered now. */
static int run_start(struct gp_trace_reader *r, struct gp_trace_act *s, const uint8_t *p,
                     const uint8_t *end, uint64_t off, struct gp_record *rec, char *why,
                     size_t whylen)
{
    size_t n = (size_t)(end - p);
    if (n == 0) { /* an empty run holds no kernel (and s->run may still be NULL) */
        snprintf(why, whylen, "payload too short");
        return -EBADMSG;
    }
    if (n > s->run_cap) {
        uint8_t *b = realloc(s->run, n);
        if (!b) {
            snprintf(why, whylen, "out of memory");
            return -ENOMEM;
        }
        s->run = b;
        s->run_cap = n;
    }
    memcpy(s->run, p, n);
    s->run_p = s->run;
    s->run_end = s->run + n;
    s->run_off = off;
    uint64_t at;
    int rc = gp_rd_activity_run(r, rec, &at, why, whylen);
    if (rc == 0) {
        snprintf(why, whylen, "payload too short");
        return -EBADMSG;
    }
    return rc < 0 ? rc : 0;
}

int gp_rd_activity(struct gp_trace_reader *r, uint8_t type, const uint8_t *p, const uint8_t *end,
                   uint64_t off, struct gp_record *rec, char *why, size_t whylen)
{
    if (!r->act && !(r->act = gp_trace_act_new())) {
        snprintf(why, whylen, "out of memory");
        return -ENOMEM;
    }
    struct gp_trace_act *s = r->act;
    int rc;
    if (type == GP_REC_ACT_DROPPED) {
        GET(rec->count);
        return 0;
    }
    if (type == GP_REC_ACT_STATUS) {
        rc = status_decode(r, p, end, &s->status, why, whylen);
        if (rc == 0) {
            s->have_status = 1;
            rec->kind = (uint8_t)(s->status.state <= UINT8_MAX ? s->status.state : 0);
        }
        return rc;
    }
    if (type == GP_REC_KERNEL_RUN)
        return run_start(r, s, p, end, off, rec, why, whylen);
    rc = gp_trace_act_decode(s, type, &p, end, r->nstrings, 0, &s->last, why, whylen);
    if (rc < 0)
        return rc;
    deliver(r, s, rec);
    return 0;
}

const struct gp_activity *gp_trace_reader_activity(const struct gp_trace_reader *r)
{
    return r->act ? &r->act->last : NULL;
}

const struct gp_activity_status *gp_trace_reader_activity_status(const struct gp_trace_reader *r)
{
    return r->act && r->act->have_status ? &r->act->status : NULL;
}

const char *gp_trace_activity_type_name(unsigned type)
{
    static const char *const names[GP_ACT_NTYPES] = {
        "KERNEL", "MEMCPY", "MEMSET", "GPU_MEMORY", "GPU_POOL",
        "EXT_CORR", "MARKER", "SYNC", "OVERHEAD",
    };
    if (gp_trace_is_activity(type))
        return names[type - GP_REC_ACT_FIRST];
    if (type == GP_REC_ACT_DROPPED)
        return "ACT_DROPPED";
    if (type == GP_REC_ACT_STATUS)
        return "ACT_STATUS";
    return "?";
}
